"""Local claims about a published base do not silence what aitrail knows of it (review R25, R29; session 6).

R29: a sibling folder merely named like the base (`Llama-2-7b-hf/` with a card saying MIT) answered for
meta-llama/Llama-2-7b-hf before the curated facts: ALLOWED, the laundering hidden. R25: an aitrail.yaml
shipped inside the model folder declared the Llama base "mit" with the same effect. Both claims are kept
beside the curated facts; the verdict takes the stricter, and the disagreement is a license.conflict.
"""

from __future__ import annotations

import aitrail
from aitrail.analyze import licenses as L

BASE = "meta-llama/Llama-2-7b-hf"


def _ft(folder, base_licence_note: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text(f"---\nlicense: mit\nbase_model: {BASE}\n---\n# ft\n{base_licence_note}")
    (folder / "config.json").write_text('{"model_type": "llama"}')


def _sibling(tmp_path, licence: str) -> None:
    """A folder named like the base, beside the fine-tune, whose card declares ``licence``."""
    folder = tmp_path / "Llama-2-7b-hf"
    folder.mkdir()
    (folder / "README.md").write_text(f"---\nlicense: {licence}\n---\n# Llama-2-7b-hf\n")
    (folder / "config.json").write_text('{"model_type": "llama"}')


def _judge(inv, name="ft"):
    m = next(x for x in inv.models() if x.name == name)
    rep = L.report(inv, "commercial", models=[m])
    rules = {f.rule for f in inv.findings if f.message.startswith(f"{name}:")}
    return rep, rules


def test_a_sibling_folder_named_like_the_base_does_not_override_the_curated_facts(tmp_path):
    _ft(tmp_path / "ft")
    _sibling(tmp_path, "mit")
    rep, rules = _judge(aitrail.scan(tmp_path, hash_files=False))
    bases = {(c["license"], c["resolved_by"]) for c in rep["components"] if c["role"] == "base-model"}
    assert bases == {("MIT", "siblings"), ("LicenseRef-aitrail-llama-2", "curated")}
    assert rep["verdict"] == "allowed_with_obligations"
    assert {"license.laundering", "license.conflict"} <= rules


def test_a_manifest_in_the_model_folder_does_not_override_the_curated_facts(tmp_path):
    _ft(tmp_path)
    (tmp_path / "aitrail.yaml").write_text(f"base_models:\n  - {{id: {BASE}, relation: fine-tune, license: mit}}\n")
    rep, rules = _judge(aitrail.scan(tmp_path, hash_files=False))
    assert rep["verdict"] == "allowed_with_obligations"
    assert {"license.laundering", "license.conflict"} <= rules


def test_a_hf_cache_snapshot_of_the_base_is_the_base(tmp_path):
    """The repo's own snapshot is that model: its card speaks for it, and agreeing facts are no conflict."""
    from test_lineage_verdicts import card, hf_cache

    hf_cache(tmp_path, BASE, "a" * 40, {"README.md": card("llama2"), "config.json": b"{}"})
    hf_cache(tmp_path, "someone/ft", "b" * 40, {"README.md": card("mit", BASE), "config.json": b"{}"})
    inv = aitrail.scan(tmp_path, hash_files=False)
    rep, rules = _judge(inv, "someone/ft")
    assert [c["resolved_by"] for c in rep["components"] if c["role"] == "base-model"] == ["siblings"]
    assert "license.laundering" in rules and "license.conflict" not in rules


def test_a_sibling_that_agrees_with_the_curated_facts_is_no_conflict(tmp_path):
    _ft(tmp_path / "ft")
    _sibling(tmp_path, "llama2")
    _rep, rules = _judge(aitrail.scan(tmp_path, hash_files=False))
    assert "license.conflict" not in rules and "license.laundering" in rules


def test_a_cache_snapshot_whose_card_contradicts_the_curated_facts_is_a_conflict(tmp_path):
    """A models--meta-llama--Llama-2-7b-hf folder is easy to write: its card saying MIT is kept beside the
    curated facts, never instead of them."""
    from test_lineage_verdicts import card, hf_cache

    hf_cache(tmp_path, BASE, "a" * 40, {"README.md": card("mit"), "config.json": b"{}"})
    hf_cache(tmp_path, "someone/ft", "b" * 40, {"README.md": card("mit", BASE), "config.json": b"{}"})
    rep, rules = _judge(aitrail.scan(tmp_path, hash_files=False), "someone/ft")
    assert rep["verdict"] == "allowed_with_obligations"
    assert {"license.laundering", "license.conflict"} <= rules
