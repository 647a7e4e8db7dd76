"""Folders as the real libraries write them, which aitrail did not build: the inventory must say what
the files say (models, formats, architecture, task, bases with their kind, licences with evidence).

Fixtures are written here with the libraries in the test environment (gguf-py's own converter
metadata, safetensors), or committed small under tests/data/invreal/ with the script and versions
that made them (tests/data/invreal/generate.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import builders
import pytest

import aitrail
from aitrail.model import Derivation, RelationshipKind

DATA = Path(__file__).parent / "data" / "invreal"


def _bases(inv: aitrail.Inventory) -> dict[str, str]:
    return {
        r.target: str(r.derivation)
        for r in inv.relationships
        if r.kind == RelationshipKind.DERIVED_FROM and r.source.startswith("model:")
    }


def _converted_gguf(folder: Path, card: str, name: str) -> Path:
    """A GGUF whose general.* keys gguf-py's converter (Metadata.load + set_gguf_meta_model) writes from
    an HF folder with this card, as convert_hf_to_gguf.py does."""
    import gguf
    import numpy as np

    hf = folder / "_hf"
    hf.mkdir(parents=True)
    (hf / "README.md").write_text(card)
    meta = gguf.Metadata.load(None, hf, name, 32)
    out = folder / f"{name.lower()}-q8_0.gguf"
    w = gguf.GGUFWriter(str(out), "qwen2")
    meta.set_gguf_meta_model(w)
    w.add_file_type(gguf.LlamaFileType.MOSTLY_Q8_0)
    w.add_tensor("token_embd.weight", np.zeros((8, 4), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    for p in hf.iterdir():
        p.unlink()
    hf.rmdir()
    return out


def test_gguf_base_models_are_the_converted_models_parents(tmp_path):
    # Converting Qwen2.5-0.5B-Instruct (card: base_model Qwen/Qwen2.5-0.5B) writes that base into the GGUF:
    # Instruct is a fine-tune of it and this file a quantization of Instruct, so the file's edge to the
    # base was wrongly a quantization; its kind is not in the file
    gguf_path = _converted_gguf(tmp_path, "---\nbase_model: Qwen/Qwen2.5-0.5B\n---\n", "Qwen2.5-0.5B-Instruct")
    inv = aitrail.scan(gguf_path, hash_files=False)
    [m] = inv.models()
    assert m.name == "Qwen2.5-0.5B-Instruct"
    assert _bases(inv) == {"model:Qwen/Qwen2.5-0.5B": Derivation.UNKNOWN}


def test_gguf_naming_itself_as_base_is_no_base(tmp_path):
    builders.gguf_file(
        tmp_path / "m.gguf",
        kv={"general.base_model.count": 1, "general.base_model.0.name": "Tiny Test"},  # general.name: tiny-test
    )
    assert _bases(aitrail.scan(tmp_path / "m.gguf", hash_files=False)) == {}


def test_gguf_repo_card_without_relation_is_a_quantization(tmp_path):
    # The hub reads a missing base_model_relation from the files: GGUF weights make it "quantized"
    # (a GGUF repo's card names the model it quantized; the file names that model's own parents)
    _converted_gguf(tmp_path, "---\nbase_model: Qwen/Qwen2.5-0.5B\n---\n", "Qwen2.5-0.5B-Instruct")
    (tmp_path / "README.md").write_text("---\nbase_model: Qwen/Qwen2.5-0.5B-Instruct\n---\n# Qwen2.5 GGUF\n")
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert _bases(inv) == {
        "model:Qwen/Qwen2.5-0.5B-Instruct": Derivation.QUANTIZATION,
        "model:Qwen/Qwen2.5-0.5B": Derivation.UNKNOWN,
    }
    # what the card states is kept: a relation written down is never overridden by the files
    (tmp_path / "README.md").write_text(
        "---\nbase_model: Qwen/Qwen2.5-0.5B-Instruct\nbase_model_relation: finetune\n---\n"
    )
    assert _bases(aitrail.scan(tmp_path, hash_files=False))["model:Qwen/Qwen2.5-0.5B-Instruct"] == "fine-tune"


def test_peft_adapter_saved_by_peft_is_an_adapter(tmp_path):
    # peft's save_pretrained writes README.md (base_model, library_name: peft, no relation) and
    # adapter_config.json (base_model_name_or_path, peft_type): the card's default guess (fine-tune)
    # came first in file order and won over what adapter_config.json states
    src = DATA / "peft-lora"
    for p in src.iterdir():
        (tmp_path / p.name).write_bytes(p.read_bytes())
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert _bases(inv) == {"model:meta-llama/Llama-3.2-1B": Derivation.ADAPTER}
    [edge] = [r for r in inv.relationships if r.kind == RelationshipKind.DERIVED_FROM]
    assert {(e.path, e.key) for e in edge.evidence} >= {
        ("adapter_config.json", "base_model_name_or_path"),
        ("README.md", "base_model"),
    }


def test_adapter_card_without_relation_and_no_base_in_its_config(tmp_path):
    # the adapter's config names a local path (trained from a checkout): the card's base is still an adapter
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "base_model_name_or_path": None}))
    builders.safetensors_file(tmp_path / "adapter_model.safetensors")
    (tmp_path / "README.md").write_text("---\nbase_model: org/base\nlibrary_name: peft\n---\n")
    assert _bases(aitrail.scan(tmp_path, hash_files=False)) == {"model:org/base": Derivation.ADAPTER}


@pytest.mark.parametrize("relation", ["merge", "quantized"])
def test_stated_relation_beats_the_files(tmp_path, relation):
    (tmp_path / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA"}))
    builders.safetensors_file(tmp_path / "adapter_model.safetensors")
    (tmp_path / "README.md").write_text(f"---\nbase_model: org/base\nbase_model_relation: {relation}\n---\n")
    got = _bases(aitrail.scan(tmp_path, hash_files=False))["model:org/base"]
    assert got == {"merge": "merge", "quantized": "quantization"}[relation]
