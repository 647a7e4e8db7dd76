"""jsontop.top_level against the standard JSON parser: seeded random documents, every spelling json.dumps
writes (indent, separators, ASCII escapes or not), each wanted key's value read back equal."""

from __future__ import annotations

import json
import random

import pytest

from aitrail.analyze.security.jsontop import top_level

ALPHABET = 'ab_"\\/{}[]:,\n\t é\u2028\U0001f600\x00'


def _value(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(7 if depth < 6 else 4)
    if kind == 0:
        return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(12)))
    if kind == 1:
        return rng.choice([0, -1, 3.5e-7, 10**20, True, False, None])
    if kind == 2:
        return rng.random()
    if kind == 3:
        return "auto_map"
    if kind in (4, 5):
        return {_key(rng): _value(rng, depth + 1) for _ in range(rng.randrange(5))}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(5))]


def _key(rng: random.Random) -> str:
    return rng.choice(["auto_map", "chat_template", "x", "{", '"', "a:b", "custom_pipelines"]) + rng.choice(["", "_"])


@pytest.mark.parametrize("seed", range(8))
def test_top_level_values_equal_what_json_reads(seed):
    rng = random.Random(seed)
    wanted = {"auto_map", "chat_template", "custom_pipelines"}
    for _ in range(150):
        doc = {_key(rng): _value(rng, 0) for _ in range(rng.randrange(6))}
        style = rng.randrange(3)
        text = json.dumps(doc, indent=[None, 2, "\t"][style], ensure_ascii=rng.random() < 0.5,
                          separators=None if style else rng.choice([(",", ":"), (" , ", " : ")]))
        got = top_level(text.encode(), wanted)
        assert {k: [json.loads(v) for v in vs] for k, vs in got.items()} == {
            k: [doc[k]] for k in wanted if isinstance(doc.get(k), (str, dict, list))  # scalars name no code
        }, text


def test_duplicate_keys_are_all_kept_and_non_objects_give_nothing():
    assert top_level(b'{"auto_map": {"a": 1}, "auto_map": {"b": 2}}', {"auto_map"}) == {
        "auto_map": [b'{"a": 1}', b'{"b": 2}']
    }
    assert top_level(b'["auto_map", {"auto_map": 1}]', {"auto_map"}) == {}
    assert top_level(b'{"x": {"auto_map": {"inner": 1}}}', {"auto_map"}) == {}  # only the top level
    assert top_level(b'{"auto_map": {"a": "xxxxxxxx"}}', {"auto_map"}, max_value=8) == {"auto_map": [b""]}
