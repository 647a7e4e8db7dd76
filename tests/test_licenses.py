"""Licence resolution, the knowledge base, conflicts, laundering and use verdicts."""

from __future__ import annotations

import csv
import json

import pytest
from conftest import MINILM, REAL, SHARED

import aitrail
from aitrail.analyze import licenses as L
from aitrail.cli import main

LICENSES = SHARED / "data" / "licenses"


def test_every_hub_licence_id_resolves():
    ids = [r["hf_id"] for r in csv.DictReader(open(LICENSES / "hf-license-ids.csv"))]
    assert len(ids) == 83
    unresolved = [i for i in ids if not L.resolve(i).known and i not in ("other", "unknown")]
    assert unresolved == []
    # the hub's bsl-1.0 is Boost, not the Business Source License
    assert L.resolve("bsl-1.0").facts.name == "Boost Software License 1.0"


def test_every_ai_licence_row_is_in_the_knowledge_base():
    """Each row of the research notes (ai-licenses.csv) maps to an entry with the same commercial stance."""
    rows = list(csv.DictReader(open(LICENSES / "ai-licenses.csv")))
    assert len(rows) == 32
    stance = {"yes": "yes", "no": "no", "conditional": "conditional", "": None}
    for row in rows:
        key = row["spdx_or_scancode_id"].split(" ")[0] or row["hf_id"]
        r = L.resolve(key)
        if not r.known or key in ("other",):
            name = row["name"].split(";")[0].split("(")[0].strip()
            r = L.resolve(name)
        if row["hf_id"] == "openrail":
            assert r.facts and not r.facts.verified  # a family tag: nothing can be concluded
            continue
        assert r.facts is not None, row["name"]
        if stance[row["commercial_use"]]:
            assert r.facts.commercial == stance[row["commercial_use"]], row["name"]
        if row["mau_limit"]:
            caps = [t.cap for t in r.facts.terms if t.cap]
            assert caps == [int(row["mau_limit"])], row["name"]


def test_versions_that_differ_by_a_clause_are_told_apart():
    l3, l31 = L.resolve("llama3").facts, L.resolve("llama3.1").facts
    assert "no-improving-other-llms" in {t.id for t in l3.terms}
    assert "no-improving-other-llms" not in {t.id for t in l31.terms}
    l32 = L.resolve("llama3.2").facts
    assert "eu-multimodal" in {t.id for t in l32.terms} and "eu-multimodal" not in {t.id for t in l31.terms}
    assert L.resolve("tongyi-qianwen").facts.commercial == "conditional"
    assert L.resolve("tongyi-qianwen-research").facts.commercial == "no"
    assert L.resolve("openmdw-1.1").id != L.resolve("openmdw-1.0").id


def test_resolution_paths():
    assert L.resolve("Apache-2.0").id == "Apache-2.0"
    assert L.resolve("LicenseRef-scancode-llama-3.1-license-2024").id == "LicenseRef-aitrail-llama-3.1"
    assert L.resolve("other", name="qwen").facts.name == "Qwen License Agreement"
    r = L.resolve("MIT OR GPL-3.0-only")
    assert r.operator == "OR" and [p.id for p in r.parts] == ["MIT", "GPL-3.0"]
    assert L.licence_verdict(r, "redistribute")[0] == "allowed_with_obligations"
    unknown = L.resolve("my-company-eula")
    assert not unknown.known and unknown.id == "LicenseRef-my-company-eula"
    assert L.resolve("LicenseRef-my-company-eula").id == "LicenseRef-my-company-eula"  # not prefixed twice


@pytest.mark.parametrize(
    "declared,use,verdict",
    [
        ("mit", "commercial", "allowed"),
        ("mit", "redistribute", "allowed_with_obligations"),
        ("cc-by-nc-4.0", "commercial", "not_allowed"),
        ("cc-by-nc-4.0", "research", "allowed"),
        ("llama3.1", "commercial", "allowed_with_obligations"),
        # facts not verified against the whole text, but the grant they record refuses commercial use
        ("fair-noncommercial-research-license", "commercial", "not_allowed"),
        ("fair-noncommercial-research-license", "research", "unknown"),
        ("my-company-eula", "internal", "unknown"),
    ],
)
def test_use_verdicts(tmp_path, declared, use, verdict):
    (tmp_path / "README.md").write_text(f"---\nlicense: {declared}\n---\n# m\n")
    rep = L.report(aitrail.scan(tmp_path), use)
    assert rep["verdict"] == verdict


def test_laundering_and_noncommercial_data(tmp_path):
    (tmp_path / "README.md").write_text(
        "---\nlicense: apache-2.0\nbase_model: meta-llama/Llama-3.1-8B\ndatasets: [org/nc]\n---\n# ft\n"
    )
    (tmp_path / "aitrail.yaml").write_text("datasets:\n  - {name: org/nc, license: cc-by-nc-4.0}\n")
    inv = aitrail.scan(tmp_path)
    by_rule = {f.rule: f for f in inv.findings}
    assert "Llama 3.1" in by_rule["license.laundering"].message
    assert "org/nc" in by_rule["license.noncommercial-data"].message
    rep = L.report(inv, "commercial")
    terms = {(o["license"], o["term"]) for o in rep["obligations"]}
    assert ("LicenseRef-aitrail-llama-3.1", "user-cap") in terms  # the base's terms reach the fine-tune
    assert all(o["clause"] and o["source"] for o in rep["obligations"])


def test_a_declared_base_licence_in_the_manifest(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# x\n")
    (tmp_path / "aitrail.yaml").write_text(
        "base_models:\n  - {id: acme/base, relation: fine-tune, license: cc-by-nc-4.0}\n"
    )
    rep = L.report(aitrail.scan(tmp_path), "commercial")
    assert rep["verdict"] == "not_allowed"
    base = next(c for c in rep["components"] if c["role"] == "base-model")
    assert base["deciding_clause"].startswith("§1(i)")


def test_conflicting_declarations(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\n---\n# x\n")
    (tmp_path / "LICENSE").write_text((REAL / "ollama-llama-2-tiny-random-gguf" / "LICENSE").read_text())
    inv = aitrail.scan(tmp_path)
    [f] = [f for f in inv.findings if f.rule == "license.conflict"]
    assert "apache-2.0 (README.md [license])" in f.message and "MIT (LICENSE [text])" in f.message


def test_dataset_licences_come_from_the_dpi_audits_when_undeclared():
    inv = aitrail.scan(MINILM)
    rep = L.report(inv, "commercial")
    ds = {c["name"]: c for c in rep["components"] if c["role"] == "dataset"}
    assert ds["ms_marco"]["verdict"] == "not_allowed" and "Data Provenance" in ds["ms_marco"]["deciding_clause"]
    assert ds["gooaq"]["verdict"] == "allowed"
    assert "s2orc" not in ds  # not audited: no verdict invented
    assert L.audited_dataset("no/such-dataset") is None


def test_cli_licenses_json_contract(capsys):
    assert main(["licenses", str(MINILM), "--use", "redistribute", "--format", "json"]) == 0
    rep = json.loads(capsys.readouterr().out)
    assert set(rep) >= {"verdict", "obligations", "components", "findings"}
    assert rep["verdict"] == "allowed_with_obligations"
    roles = {c["role"]: c for c in rep["components"]}
    assert roles["model"]["license"] == "Apache-2.0" and roles["package"]["license"] == "MIT"
    assert any(f["rule"] == "license.packager-differs" for f in rep["findings"])


MIT_TEXT = """MIT License

Copyright (c) 2024 Example

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""


def test_a_licence_pasted_into_the_card_section_is_identified(tmp_path):
    llama = (SHARED / "data/licenses/texts/llama3.1.txt").read_text()
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text(f"---\nlicense: apache-2.0\n---\n# m\n\nIntro.\n\n## License\n\n{llama}\n")
    inv = aitrail.scan(tmp_path, hash_files=False)
    m = inv.models()[0]
    got = {(lic.value, lic.evidence.key) for lic in m.licenses}
    assert ("LicenseRef-aitrail-llama-3.1", "section: License") in got and ("apache-2.0", "license") in got
    ev = next(lic.evidence for lic in m.licenses if lic.value == "LicenseRef-aitrail-llama-3.1")
    assert ev.line == 8  # the heading
    assert any(f.rule == "license.conflict" for f in inv.findings)
    # a short section naming a licence is the card's declaration as much as its front matter's id (review R20):
    # both are kept, they disagree, and the stricter one decides
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\n---\n# m\n\n## License\n\nCC BY-NC 4.0\n")
    inv = aitrail.scan(tmp_path, hash_files=False)
    assert [lic.value for lic in inv.models()[0].licenses] == ["apache-2.0", "CC BY-NC 4.0"]
    assert any(f.rule == "license.conflict" for f in inv.findings)
    assert L.report(inv, "commercial")["verdict"] == "not_allowed"


def test_a_licence_text_in_package_metadata_is_identified(tmp_path):
    model = tmp_path / "pkg" / "model"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    di = tmp_path / "pkg-1.0.dist-info"
    di.mkdir()
    body = MIT_TEXT.replace("\n", "\n        ")
    (di / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pkg\nVersion: 1.0\nLicense: {body}\n\n")
    (di / "RECORD").write_text("pkg/model/config.json,,\n")
    inv = aitrail.scan(tmp_path, hash_files=False)
    pkg = inv.component("library:pypi:pkg")
    assert pkg is not None and [lic.value for lic in pkg.licenses] == ["MIT"]
    assert pkg.licenses[0].evidence.value == "MIT License"


def test_a_licence_named_only_in_the_cards_prose_is_its_declaration(tmp_path):
    """A card with no licence in its front matter whose License section names one (issue 12): the name
    is read (people's spellings included) and judged; front matter still wins when present."""
    from aitrail.analyze import licenses as L

    (tmp_path / "config.json").write_text("{}")
    for prose, expected in (
        ("Released under the Creative Commons Attribution-NonCommercial 4.0 International.", "CC-BY-NC-4.0"),
        ("Licensed under the Apache License, Version 2.0 (the \"License\").", "Apache-2.0"),
    ):
        (tmp_path / "README.md").write_text(f"# m\n\n## License\n\n{prose}\n")
        inv = aitrail.scan(tmp_path, hash_files=False)
        [lic] = inv.models()[0].licenses
        assert L.resolve(lic.value).id == expected and lic.evidence.key == "section: License"
    rep = L.report(aitrail.scan(tmp_path, hash_files=False), "commercial")
    assert rep["verdict"] != "not_allowed"
    (tmp_path / "README.md").write_text("# m\n\n## License\n\nReleased under CC BY-NC 4.0.\n")
    assert L.report(aitrail.scan(tmp_path, hash_files=False), "commercial")["verdict"] == "not_allowed"


def test_a_license_section_that_only_points_elsewhere_declares_nothing(tmp_path):
    """"See LICENSE." is a pointer, not a licence name: the LICENSE file decides, no unknown declaration."""
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "LICENSE").write_text((REAL / "ollama-llama-2-tiny-random-gguf" / "LICENSE").read_text())
    for prose in ("See LICENSE.", "Please refer to the LICENSE file.", "Same as the base model."):
        (tmp_path / "README.md").write_text(f"# m\n\n## License\n\n{prose}\n")
        inv = aitrail.scan(tmp_path, hash_files=False)
        assert [lic.value for lic in inv.models()[0].licenses] == ["MIT"], prose
