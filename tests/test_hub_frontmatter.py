"""The fast front-matter path gives the safe loader's result on every real card (the proof the issue asks)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
from test_hub import MODELS

from aitrail import yamlsafe
from aitrail.catalog import model_card
from aitrail.catalog.base import CatalogError
from aitrail.hub import frontmatter


def _front_matters() -> list[str]:
    out = []
    for card in pq.read_table(MODELS, columns=["card"]).column("card").to_pylist():
        try:
            yml, _, _ = model_card.split_front_matter(card or "")
        except CatalogError:
            continue
        if yml is not None:
            out.append(yml)
    return out


def test_fast_path_equals_the_safe_loader_on_all_real_cards():
    cards = pq.read_table(MODELS, columns=["card"]).num_rows
    assert cards == 29_432
    fms = _front_matters()
    assert len(fms) > 13_000
    taken = 0
    for yml in fms:
        got = frontmatter.fast(yml)
        if got is None:
            continue
        taken += 1
        want = yamlsafe.load_bounded(yml)
        assert got == want and all(type(got[k]) is type(want[k]) for k in want), yml[:500]
    assert taken > len(fms) // 3  # the fast path is taken for most flat front matters, not a token few


@pytest.mark.parametrize(
    "text",
    [
        "license: yes", "on: x", "a: 1", "a: 1.0", "a: 2022-01-01", "a: [x]", "a: {b: c}", "a: ~",
        "a: 'it''s'", 'a: "x\\ty"', "a: x: y", "a: 'open",
        "a: null", "a: &x y", "a: *x", "a: !!str y", "a: x # c", "a:\n  b: c", "a: x\na: y", "a: |\n  t",
        "a:\n- x\n  - y", "a: x\n  continued", "a:\n- 1", "a:\n- yes", "<<: x", "a:x", "a: .inf",
        "a: 0x1f", "a: 1_000", "a: -x", "a: x\tb",
    ],
)
def test_anything_outside_the_subset_goes_to_the_loader(text):
    assert frontmatter.fast(text) is None


@pytest.mark.parametrize(
    "text",
    ["license: mit\ntags:\n- a\n- b-c\nlanguage:\n  - en\nx:\n", "a: Apache License v2.0\nb: foo/bar+baz",
     "a: 'q'\nb: \"#x: y\"\nc: x:y\nd: https://x.org/a\ne:\n- 'é'"],
)
def test_flat_front_matter_is_read_like_the_loader(text):
    assert frontmatter.fast(text) == yamlsafe.load(text)


def test_an_opening_base_line_plus_the_rest_equals_the_loader_on_all_real_cards():
    """batch._load reads "base_model: X\n[base_model_relation: R\n]" + a real front matter as the opening
    plus the rest (parsed once for every base): the safe loader's result on every real front matter."""
    from aitrail.hub import batch

    batch._PARSED.clear()
    ref = batch._CardRef("o/m", "")
    taken = 0
    for n, yml in enumerate(_front_matters()):
        head = "base_model: org/Base-1.5_x\n" + ("base_model_relation: finetune\n" if n % 2 else "")
        whole = head + yml
        try:
            want = yamlsafe.load_bounded(whole)
        except Exception:  # noqa: BLE001 - whatever the loader refuses, the batch path refuses too
            with pytest.raises(CatalogError):
                batch._load(whole, ref)
            continue
        taken += frontmatter.opening(whole) is not None and frontmatter.fast(whole) is None
        got = batch._load(whole, ref)
        assert got == want and list(got) == list(want), whole[:500]
    assert taken > 5_000
    batch._PARSED.clear()


@pytest.mark.parametrize(
    "text",
    ["base_model: x\n  more: y", "base_model: 'x'\na: b", "base_model: yes\na: b", "base_model: x\n- a",
     "base_model: x\n# c\na: b", "base_model:  x\na: b", "base_model: x", "a: b\nbase_model: x\nc: d"],
)
def test_an_opening_the_rule_does_not_cover_is_left_to_the_loader(text):
    assert frontmatter.opening(text) is None
