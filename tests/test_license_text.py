"""Licence identification from text: exact where the knowledge base has the licence, "unknown"
(with the closest licence and the differing clauses) where it does not — never a confident wrong id.
"""

from __future__ import annotations

import csv
import json
import sys

import pytest
from conftest import REAL, ROOT, SHARED

from aitrail.analyze import license_text as T
from aitrail.analyze import licenses as L
from aitrail.cli import main

TEXTS = SHARED / "data" / "licenses" / "texts"
ROWS = list(csv.DictReader(open(TEXTS / "MANIFEST.csv", encoding="utf-8")))
sys.path.insert(0, str(ROOT / "scripts"))
from gen_license_fingerprints import NO_SCANCODE_KEY  # noqa: E402


def expected(row: dict) -> str:
    key = row["expected_scancode_key"]
    return L.knowledge().lookup(key).id if key else NO_SCANCODE_KEY[row["file"]]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_every_text_is_identified_exactly(row):
    r = T.identify_file(str(TEXTS / row["file"]))
    assert r.known and r.licenses[0].license_id == expected(row)
    d = r.to_dict()
    if row["expected_scancode_key"]:
        assert (
            d["scancode_key"] == row["expected_scancode_key"]
            or L.knowledge().lookup(row["expected_scancode_key"]).id == d["id"]
        )


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r["file"])
def test_without_its_licence_the_answer_is_unknown_never_a_wrong_id(row):
    """Leave-one-out: hide the licence from the knowledge base; a relative must not be named."""
    text = (TEXTS / row["file"]).read_text(encoding="utf-8")
    r = T.identify_text(text, row["file"], exclude=frozenset([expected(row)]))
    assert not r.known, [m.license_id for m in r.licenses]
    assert r.closest  # and it says what it is closest to


def test_unknown_llama3_names_its_closest_relative_and_the_clause_that_differs():
    text = (TEXTS / "llama3.txt").read_text()
    d = T.identify_text(text, "llama3.txt", exclude=frozenset(["LicenseRef-aitrail-llama-3"])).to_dict()
    assert d["closest"][0]["id"].startswith("LicenseRef-aitrail-llama-")
    assert any("improve any other large language model" in x for x in d["differences"])
    assert "unknown licence; closest is" in d["message"]


def test_versions_that_differ_by_a_clause_or_a_date():
    for a, b in (
        ("openmdw-1.0.txt", "LicenseRef-aitrail-openmdw-1.1"),
        ("openmdw-1.1.txt", "OpenMDW-1.0"),
        ("scancode-db/gemma-tou-2025-03-24.txt", "LicenseRef-aitrail-gemma-2024-04-01"),
    ):
        r = T.identify_text((TEXTS / a).read_text())
        assert r.known and r.licenses[0].license_id != b


def test_licence_plus_use_policy_reports_both():
    text = (TEXTS / "llama3.1.txt").read_text() + "\n\n" + (TEXTS / "llama3.1-use-policy.txt").read_text()
    r = T.identify_text(text)
    assert [m.license_id for m in r.licenses] == ["LicenseRef-aitrail-llama-3.1", "LicenseRef-aitrail-llama-3.1-aup"]


def test_real_world_copies_identify_despite_titles_names_and_reflow():
    mit = (REAL / "ollama-llama-2-tiny-random-gguf" / "LICENSE").read_text()
    assert T.identify_text(mit).licenses[0].license_id == "MIT"
    reflowed = "# The MIT License (MIT)\n\n" + " ".join(mit.split()).replace('"', "\u201c")
    assert T.identify_text(reflowed).licenses[0].license_id == "MIT"
    fragment = " ".join(mit.split()[:40])
    assert not T.identify_text(fragment).known  # a fragment is not the licence


@pytest.mark.parametrize(
    "content,error", [(b"", "empty"), (b"\x00\x01\x02", "binary"), (b"\xff\xfe" + "MIT".encode("utf-16-le"), None)]
)
def test_bad_files_get_clear_errors(tmp_path, content, error):
    p = tmp_path / "LICENSE"
    p.write_bytes(content)
    d = T.identify_file(str(p)).to_dict()
    if error:
        assert error in d["error"] and d["known"] is False
    else:
        assert d["known"] is False and "error" not in d


def test_cli_identify_json_contract(capsys):
    files = [str(TEXTS / "llama3.txt"), str(TEXTS / "scancode-db/apache-2.0.txt")]
    assert main(["license", "identify", *files, "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [o["file"] for o in out] == files
    for o in out:
        assert set(o) >= {"file", "known", "id", "spdx_id", "scancode_key", "name", "confidence", "closest"}
    assert out[0]["id"] == "LicenseRef-aitrail-llama-3" and out[0]["scancode_key"] is None
    assert out[1]["spdx_id"] == "Apache-2.0" and out[1]["scancode_key"] == "apache-2.0"


def test_licence_files_in_a_scan_are_identified(tmp_path):
    import aitrail

    (tmp_path / "LICENSE").write_text((TEXTS / "llama3.2.txt").read_text())
    (tmp_path / "USE_POLICY.md").write_text((TEXTS / "llama3.2-use-policy.txt").read_text())
    inv = aitrail.scan(tmp_path, require_model=False)  # licence texts alone: not a model, still read
    [m] = inv.models()
    assert {lic.value for lic in m.licenses} == {"LicenseRef-aitrail-llama-3.2", "LicenseRef-aitrail-llama-3.2-aup"}


def test_the_rest_of_the_spdx_list_and_an_added_restriction():
    """MIT plus "shall be used for Good, not Evil" is the JSON licence (from the SPDX extension
    set), not MIT: one added sentence changes the licence, and aitrail notices."""
    mit = (REAL / "ollama-llama-2-tiny-random-gguf" / "LICENSE").read_text()
    i = mit.index("THE SOFTWARE IS PROVIDED")
    r = T.identify_text(mit[:i] + "The Software shall be used for Good, not Evil.\n\n" + mit[i:]).to_dict()
    assert r["known"] and r["id"] == "JSON" and r["spdx_id"] == "JSON"
    assert L.resolve("JSON").facts is not None and L.licence_verdict(L.resolve("JSON"), "commercial")[0] == "unknown"
    assert len(L.knowledge().licenses) > 600  # the SPDX list, identity at least
