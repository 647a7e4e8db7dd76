"""MOF grading against the MOT's own results; OSAID and Index profiles; grading a scanned folder."""

from __future__ import annotations

import json
import re

import pytest
from conftest import MINILM, SHARED

from aitrail.analyze import mof, openness
from aitrail.cli import main

MOT = SHARED / "data" / "mof-tool" / "test-data"
MODELS = SHARED / "data" / "mof-models"


def _expected() -> dict[str, dict]:
    text = re.sub(r",(\s*[}\]])", r"\1", (MOT / "expected_results.json").read_text())  # the MOT writes trailing commas
    return {m["release"]["name"]: m["classification"] for m in json.loads(text)["models"]}


EXPECTED = _expected()


@pytest.mark.parametrize("path", sorted(MOT.glob("*.yml")), ids=lambda p: p.stem[:40])
def test_mot_test_declarations(path):
    d = mof.from_yaml(path.read_text(), path.name)
    g = mof.grade(d)
    want = EXPECTED[d.name]
    assert g.klass == want["class"] and g.label == want["label"]
    for k in "123":
        assert g.progress[k] == pytest.approx(float(want["progress"][k]), abs=1e-9)


def test_all_27_mot_cases_are_covered():
    assert len(list(MOT.glob("*.yml"))) == len(EXPECTED) == 27


def test_every_real_declaration_grades_with_problems_named():
    files = sorted(MODELS.glob("*.yml"))
    assert len(files) >= 200
    for f in files:
        g = mof.grade(mof.from_yaml(f.read_text(), f.name))
        assert g.klass in (0, 1, 2, 3)
        assert all(p.startswith(f.name) for p in g.problems)
    jiang = mof.grade(mof.from_yaml((MODELS / "Jiang-Base.yml").read_text(), "Jiang-Base.yml"))
    assert any("'apache-2.0'" in p and "Apache-2.0" in p for p in jiang.problems)


def test_research_paper_stands_in_for_technical_report_and_next_class_needs():
    d = mof.Declaration("x", [9, 10, 12, 13, 14, 21], {}, {"distribution": "Apache-2.0"})
    g = mof.grade(d)
    assert g.klass == 3 and g.progress["3"] == 100.0
    assert g.next_class_needs and g.next_class_needs[0].startswith("Class II - Open Tooling Model needs:")
    assert "Training code: not declared" in g.next_class_needs[0]  # absent from a declaration: not "not released"


def test_mot_quirks_are_reproduced_and_said():
    # PDDL-1.0 is not open for the MOT (ODC-PDDL-1.0 is); ids are case-sensitive
    d = mof.Declaration("q", [15], {15: "PDDL-1.0"}, {})
    g = mof.grade(d)
    assert g.not_open and any("PDDL-1.0" in q for q in g.quirks)
    d2 = mof.Declaration("q", [10], {10: "apache-2.0"}, {})
    assert any("only in case" in q for q in mof.grade(d2).quirks)


def test_bad_declarations_name_the_field():
    d = mof.from_dict(
        {
            "framework": {"name": "MOF"},
            "release": {
                "name": "n",
                "components": [
                    {"name": "Model card", "license": "MIT"},
                    {"name": "Model card"},
                    {"name": "Nonsense"},
                    {},
                ],
            },
        },
        "bad.yml",
    )
    text = " | ".join(d.problems)
    assert "framework.name" in text and "listed twice" in text and "'Nonsense' is not a MOF component" in text
    assert "components[3] has no name" in text
    with pytest.raises(ValueError, match="release"):
        mof.from_dict({"framework": {}}, "x.yml")


@pytest.mark.parametrize(
    "stem,verdict",
    [
        ("Pythia-6.9B", "pass"),
        ("OLMo-7B", "pass"),
        ("Amber", "pass"),
        ("Llama-2-13B", "fail"),
        ("Grok-1", "fail"),
        ("Phi-2", "fail"),
        ("Mixtral-8x7B-v0.1", "fail"),
    ],
)
def test_osaid_agrees_with_osi_where_the_declaration_is_complete(stem, verdict):
    a = openness.assess(mof.from_yaml((MODELS / f"{stem}.yml").read_text(), f"{stem}.yml"))
    assert a["osaid"]["verdict"] == verdict


def test_osaid_disagreements_are_explained():
    """BLOOM: OSI says it would pass if its licences changed; its MOT declaration lacks pre-processing code."""
    a = openness.assess(mof.from_yaml((MODELS / "BLOOM.yml").read_text(), "BLOOM.yml"))
    items = {it["item"]: it for r in a["osaid"]["requirements"] for it in r["items"]}
    assert items["Data pre-processing"]["status"] == "missing"
    assert items["Model parameters"]["status"] == "licence"


def test_index_profile_and_summary():
    a = openness.assess(mof.from_yaml((MODELS / "OLMo-7B.yml").read_text(), "OLMo-7B.yml"))
    dims = a["index"]["dimensions"]
    assert len(dims) == 12 and dims["weights_endmodel"]["class"] == "open"
    assert 0 <= a["index"]["score"] <= 12
    assert a["summary"].startswith("Open source AI")


def test_folder_grading_says_where_evidence_came_from(tmp_path, capsys):
    assert (
        main(
            [
                "openness",
                str(MINILM),
                "--format",
                "json",
                "--export-mof",
                str(tmp_path / "m.yml"),
                "--badge",
                str(tmp_path / "b.svg"),
            ]
        )
        == 0
    )
    a = json.loads(capsys.readouterr().out)
    assert set(a) >= {"mof", "osaid", "index", "summary"}
    comps = {c["component"]: c for c in a["mof"]["components"]}
    assert comps["Model parameters (Final)"]["status"] == "open"
    # the weights' evidence names the file and every licence over them, with where each was read
    at = comps["Model parameters (Final)"]["declared_at"]
    assert at.startswith("found: model.safetensors; licences: Apache-2.0 (README.md [license]); MIT (")
    assert comps["Training code"]["status"] == "missing"
    assert a["summary"].startswith("Open weights, not open source AI")
    # the exported declaration grades the same
    again = mof.grade(mof.from_yaml((tmp_path / "m.yml").read_text(), "m.yml"))
    assert again.progress == a["mof"]["progress"]
    assert (tmp_path / "b.svg").read_text().startswith("<svg")


def test_mof_yaml_beside_the_model_fills_what_the_folder_cannot_show(tmp_path, capsys):
    (tmp_path / "README.md").write_text("---\nlicense: apache-2.0\n---\n# m\n")
    import builders

    builders.safetensors_file(tmp_path / "model.safetensors")
    (tmp_path / "mof.yml").write_text(
        "framework: {name: Model Openness Framework, version: '1.0', date: '2024-12-15'}\n"
        "release:\n  name: m\n  components:\n"
        "  - {name: Model architecture, license: Apache-2.0}\n"
        "  - {name: Evaluation results, license: CC-BY-4.0}\n"
        "  - {name: Data card, license: CC-BY-4.0}\n"
        "  - {name: Technical report, license: CC-BY-4.0}\n"
    )
    assert main(["openness", str(tmp_path), "--format", "json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert a["mof"]["class"] == 3
    comps = {c["component"]: c for c in a["mof"]["components"]}
    assert comps["Data card"]["declared_at"].startswith("mof.yml")
    assert comps["Model parameters (Final)"]["declared_at"].startswith("found:")


@pytest.mark.parametrize(
    "doc,field",
    [
        (
            {
                "framework": {"name": "Model Openness Framework", "version": "1.0"},
                "release": {"name": "x", "components": []},
            },
            "framework.date",
        ),
        (
            {
                "framework": {"name": "MOF", "version": "1.0", "date": "2024-12-15"},
                "release": {"name": "x", "components": []},
            },
            "framework.name",
        ),
        (
            {
                "framework": {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"},
                "release": {"name": "x", "components": [{"name": "Model card", "license": 3}]},
            },
            "components[0].license",
        ),
    ],
)
def test_schema_violations_are_named(doc, field):
    """What the MOT's own schema rejects, aitrail names by field, and grades the rest."""
    import jsonschema

    schema = json.loads((SHARED / "data/mof-tool/schema/mof_schema.json").read_text())
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    d = mof.from_dict(doc, "d.yml")
    assert any(field in p for p in d.problems), d.problems
    assert mof.grade(d).klass == 0


# -- words that are true (issue 12, item 6) -----------------------------------------------------


def _decl(stem: str) -> mof.Declaration:
    return mof.from_yaml((MODELS / f"{stem}.yml").read_text(), f"{stem}.yml")


def test_an_omitted_component_is_not_declared_and_unlicensed_is_not_a_licence():
    """T5's MOT declaration lists two components, both `license: unlicensed`: nothing says the
    weights were withheld, and `unlicensed` is the MOT's word for "no licence", not a licence."""
    a = openness.assess(_decl("T5"))
    s = a["summary"]
    assert "the declaration does not include the weights" in s and "not released" not in s
    assert "released without a licence: training methodologies" in s and "not under open licences" not in s
    items = {it["item"]: it for r in a["osaid"]["requirements"] for it in r["items"]}
    assert items["Training methodologies and techniques"]["status"] == "unlicensed"
    assert items["Training methodologies and techniques"]["licenses"] == [None]
    assert items["Model parameters"]["state"] == "not declared"
    assert all("unlicensed" not in str(c["license"]) for c in a["mof"]["not_open"])


def test_not_released_only_when_the_producer_says_so_and_the_mot_grade_is_unchanged():
    doc = {
        "framework": {"name": "Model Openness Framework", "version": "1.0", "date": "2024-12-15"},
        "release": {
            "name": "x",
            "components": [{"name": "Model architecture", "license": "Apache-2.0"}],
        },
    }
    plain = mof.from_dict(doc, "x.yml")
    said = mof.from_dict({**doc, "release": {**doc["release"], "not_released": ["Model parameters (Final)"]}}, "x.yml")
    assert mof.grade(plain).progress == mof.grade(said).progress  # the MOT ignores the key
    assert "does not include the weights" in openness.assess(plain)["summary"]
    a = openness.assess(said)
    assert a["summary"].startswith("Not open source AI: the weights are not released")
    assert a["index"]["dimensions"]["weights_endmodel"]["basis"].startswith("declared not released")
    assert "Model parameters (Final): not released" in mof.grade(said).next_class_needs[0]
    bad = mof.from_dict({**doc, "release": {**doc["release"], "not_released": ["Model architecture", "Nope"]}}, "x")
    assert any("also listed as a released" in p for p in bad.problems) and any("'Nope'" in p for p in bad.problems)


def test_a_scanned_folder_says_not_found_in_the_scanned_files(capsys):
    assert main(["openness", str(MINILM), "--format", "json"]) == 0
    a = json.loads(capsys.readouterr().out)
    assert "not found in the scanned files" in a["summary"] and "not released" not in a["summary"]
    comps = {c["component"]: c for c in a["mof"]["components"]}
    assert comps["Training code"]["state"] == "not found in the scanned files"


def test_a_licence_name_the_mot_does_not_know_is_not_called_closed():
    needs = mof.grade(_decl("Falcon-40B")).next_class_needs[0]
    assert "Apache 2.0, which is not an open licence" not in needs
    assert "aitrail reads it as Apache-2.0" in needs
    items = {it["item"]: it for r in openness.assess(_decl("Falcon-40B"))["osaid"]["requirements"] for it in r["items"]}
    assert items["Model architecture"]["status"] == "met"


def _with(components: list[tuple[int, str | None]], paths: dict[int, str] | None = None) -> dict:
    d = mof.Declaration("x", [c for c, _ in components], dict(components), {}, paths=paths or {})
    return openness.index(d)["dimensions"]


def test_index_preprint_is_not_a_peer_reviewed_paper_and_both_can_be_open():
    paper, report = mof.RESEARCH_PAPER, mof.TECH_REPORT
    arxiv = _with([(paper, "CC-BY-4.0")], {paper: "https://arxiv.org/abs/2304.01373"})
    assert arxiv["preprint"]["class"] == "open" and arxiv["paper"]["class"] == "closed"
    assert "preprint is not a peer-reviewed paper" in arxiv["paper"]["basis"]
    venue = _with([(paper, "CC-BY-4.0")], {paper: "https://aclanthology.org/2024.acl-long.841/"})
    assert venue["paper"]["class"] == "open"
    assert _with([(report, None)])["hardware_architecture"]["class"] == "open"  # no longer capped at partial
    company = _with([(report, None)])
    assert company["preprint"]["class"] == "closed" and "not an archived preprint" in company["preprint"]["basis"]
    nothing = _with([])
    assert nothing["paper"]["class"] == "closed" and "not declared" in nothing["paper"]["basis"]


def test_index_code_documentation_needs_the_processing_and_training_code():
    kb = mof.knowledge()
    train, prep = kb.by_name("Training code").id, kb.by_name("Data preprocessing code").id
    assert _with([(train, "Apache-2.0"), (prep, "MIT")])["code"]["class"] == "open"
    assert _with([(train, "Apache-2.0")])["code"]["class"] == "partial"
    assert _with([(kb.by_name("Model architecture").id, "Apache-2.0")])["code"]["class"] == "closed"
