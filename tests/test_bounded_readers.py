"""Bounded JSON and YAML: depth, alias expansion and self-reference are refused, never walked."""

from __future__ import annotations

import json

import pytest

from aitrail import jsonsafe, yamlsafe


def test_depth_limit_is_exact():
    ok = "[" * jsonsafe.MAX_DEPTH + "1" + "]" * jsonsafe.MAX_DEPTH
    assert jsonsafe.loads(ok)
    deep = "[" * (jsonsafe.MAX_DEPTH + 1) + "1" + "]" * (jsonsafe.MAX_DEPTH + 1)
    with pytest.raises(jsonsafe.ShapeError) as e:
        jsonsafe.loads(deep)
    assert e.value.limit == "depth"


@pytest.mark.parametrize("n", [1_000, 100_000])
def test_deeper_than_the_c_parser_goes(n):
    with pytest.raises(jsonsafe.ShapeError):
        jsonsafe.loads('{"a":' * n + "1" + "}" * n)


def test_ordinary_documents_unchanged():
    doc = {"model": {"vocab": {str(i): i for i in range(1000)}, "merges": [["a", "b"]] * 100}, "x": "é😀"}
    assert jsonsafe.loads(json.dumps(doc)) == doc


def test_yaml_billion_laughs_refused_without_expanding():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    with pytest.raises(jsonsafe.ShapeError) as e:
        yamlsafe.load_bounded("\n".join(lines))
    assert e.value.limit == "size"


def test_yaml_recursive_alias_refused():
    with pytest.raises(jsonsafe.ShapeError) as e:
        yamlsafe.load_bounded("a: &a [1, *a]")
    assert e.value.limit == "recursion"


def test_yaml_shared_alias_counted_once_per_use():
    doc = yamlsafe.load_bounded("base: &b {lr: 1}\nrun1: *b\nrun2: *b\n")
    assert doc["run1"] == doc["run2"] == {"lr": 1}


def test_open_regular_refuses_pipes_and_devices(tmp_path):
    import os

    from aitrail import fsutil

    os.mkfifo(tmp_path / "config.json")
    with pytest.raises(fsutil.NotRegularFile):
        fsutil.read_text(tmp_path / "config.json")  # would block forever with open()
    with pytest.raises(fsutil.NotRegularFile):
        fsutil.read_text("/dev/zero")
    (tmp_path / "big.yaml").write_text("x" * 100)
    with pytest.raises(OSError, match="larger than"):
        fsutil.read_text(tmp_path / "big.yaml", limit=10)


def test_lone_surrogates_are_kept_as_escapes_and_encodable():
    doc = jsonsafe.loads(r'{"a\ud800": ["x\udfffy", "\u00e9\ud83d\ude00"]}')
    assert doc == {"a\\ud800": ["x\\udfffy", "é😀"]}  # a valid pair is a character; a lone half its escape
    json.dumps(doc, ensure_ascii=False).encode("utf-8")  # strict UTF-8 never fails on it
