"""Folders of scans and check documents as hub inputs, judged again with the same functions."""

from __future__ import annotations

import json

import pytest
from conftest import MINILM
from test_hub import MODELS

import aitrail
from aitrail.analyze import licenses
from aitrail.hub import query, run


@pytest.fixture(scope="module")
def docs(tmp_path_factory):
    d = tmp_path_factory.mktemp("hubdocs")
    inv = aitrail.scan(MINILM, hash_files=False)
    (d / "scan.json").write_text(json.dumps(inv.to_dict()), "utf-8")
    (d / "check.json").write_text(json.dumps({"inventory": inv.to_dict(), "policy": {}}), "utf-8")
    (d / "other.json").write_text('{"architectures": ["BertModel"]}', "utf-8")  # a config.json, not a scan
    (d / "broken.json").write_text("{", "utf-8")
    return d, inv


def test_scans_and_check_documents_are_judged_again(docs, tmp_path):
    d, inv = docs
    s = run.run([str(d), str(MODELS)], tmp_path / "out", batch_rows=4096)
    bad = json.loads(query.run(tmp_path / "out", "select source, message from errors where source like '%.json' "
                               "order by source", "json"))
    assert [b["source"].rsplit("/", 1)[1] for b in bad] == ["broken.json", "other.json"]  # counted, not fatal
    assert "not valid JSON" in bad[0]["message"] or "Expecting" in bad[0]["message"]
    got = json.loads(query.run(tmp_path / "out", "select * from results where source like '%.json' order by source",
                               "json"))
    assert [r["source"].rsplit("/", 1)[1] for r in got] == ["check.json", "scan.json"]
    m = inv.models()[0]
    for r in got:
        for use in licenses.USES:
            assert r[f"verdict_{use}"] == licenses.model_verdict(licenses.entries(inv, m, use))
        assert r["licenses"] == [x.value for x in m.licenses] and r["has_card"]
        assert r["weights_formats"] == ["safetensors"] or "pytorch" in " ".join(r["weights_formats"])
    assert s["records"] == 29_430 + 2
    examples = s["errors_by_rule"]["hub.row.malformed"]["examples"]
    assert any(e.endswith("broken.json (row 0)") for e in examples), examples  # a document is named by its file
