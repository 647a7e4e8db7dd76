"""Bases named only by the trainers' generated card sentence (session 6, real 2022 hub cards).

transformers' TrainingSummary.to_model_card and TRL's card templates write "This model is a fine-tuned
version of [X](https://huggingface.co/X)"; before transformers also wrote `base_model` into the front
matter, that sentence was the card's only statement of its base. Six LayoutLMv2 fine-tunes (base CC BY-NC-SA
4.0) tagged cc-by-sa-4.0 came out "allowed" for commercial use because the base was never seen.
"""

from __future__ import annotations

import pytest
from conftest import SHARED

import aitrail
from aitrail.analyze import licenses as L
from aitrail.catalog.lineage import generated_base

SNAPSHOT = SHARED / "data" / "hub-metadata" / "hf-hub-2022-snapshot" / "models.parquet"


def _cards(where: str, *args: object) -> list[tuple[str, str]]:
    duckdb = pytest.importorskip("duckdb")
    return duckdb.connect().execute(f"select model_id, card from '{SNAPSHOT}' where {where}", list(args)).fetchall()


def test_generated_sentence_names_the_base_on_real_cards():
    rows = _cards("card like '%fine-tuned version of [%'")
    read = {mid: generated_base(card) for mid, card in rows}
    assert len(rows) > 2000 and sum(1 for g in read.values() if g) / len(rows) > 0.95
    base, line, sentence = read["nielsr/layoutlmv2-finetuned-funsd"]
    assert base == "microsoft/layoutlmv2-base-uncased" and line > 1 and "fine-tuned version of" in sentence
    # the bracket text may be the name without its organisation (as the author edited it)
    assert read["lsb/wav2vec2-base-it-latin"][0] == "facebook/wav2vec2-base-it-voxpopuli"


@pytest.mark.parametrize(
    "body",
    [
        # the bracket and the link disagree: which one is the base is not said
        "is a fine-tuned version of [facebook/wav2vec2-xls-r-300m](https://huggingface.co/facebook/wav2vec2-large-xlsr-53)",
        # a local path the trainer wrote, not a repo
        "is a fine-tuned version of [./ruBert-base/](https://huggingface.co/./ruBert-base/) on an unknown dataset.",
        "This model is a fine-tuned version of [](https://huggingface.co/) on the None dataset.",
        "This model is a fine-tuned version of GPT-2, trained on Plato.",
    ],
)
def test_no_base_unless_the_sentence_names_one_repo(body):
    assert generated_base(body) is None


def test_trainer_card_base_reaches_the_verdict(tmp_path):
    [(_, card)] = _cards("model_id = ?", "nielsr/layoutlmv2-finetuned-funsd")
    (tmp_path / "README.md").write_text(card)
    (tmp_path / "config.json").write_text('{"model_type": "layoutlmv2"}')
    inv = aitrail.scan(str(tmp_path), hash_files=False)
    rep = L.report(inv, "commercial")
    bases = [c for c in rep["components"] if c["role"] == "base-model"]
    assert [b["name"] for b in bases] == ["microsoft/layoutlmv2-base-uncased"]
    assert rep["verdict"] == "not_allowed"
    assert any(f.rule == "license.laundering" for f in inv.findings)


@pytest.mark.parametrize(
    "written",
    [
        "https://huggingface.co/meta-llama/Llama-2-7b-hf",
        "hf.co/meta-llama/Llama-2-7b-hf",
        "https://www.huggingface.co/meta-llama/Llama-2-7b-hf/",
    ],
)
def test_a_base_written_as_its_hub_page_is_its_repo(tmp_path, written):
    """Review R14: real cards write base_model as the Hub URL; it was an unresolved base (verdict unknown)."""
    (tmp_path / "README.md").write_text(f"---\nlicense: mit\nbase_model: {written}\n---\n# ft\n")
    (tmp_path / "config.json").write_text('{"model_type": "llama"}')
    inv = aitrail.scan(str(tmp_path), hash_files=False)
    rep = L.report(inv, "commercial")
    assert [c["name"] for c in rep["components"] if c["role"] == "base-model"] == ["meta-llama/Llama-2-7b-hf"]
    assert rep["verdict"] == "allowed_with_obligations"
    assert any(f.rule == "license.laundering" for f in inv.findings)
