"""Every export and report stays linear in the number of models (issue 10, item 5).

2,000 synthetic models built in memory (no files), sharing one base model and one dataset as real
collections do. Each format is rendered and checked for its counts and ids; linearity is shown by
counting how often the inventory's lists are walked (a walk per model was the quadratic part), never
by timing.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from aitrail import policy as policy_mod
from aitrail.analyze import completeness, licenses, openness
from aitrail.analyze.security.report import FileReport
from aitrail.check import document
from aitrail.export import (
    check_html,
    check_markdown,
    check_terminal,
    cyclonedx,
    json_inventory,
    markdown,
    sarif,
    spdx,
    summary,
    terminal,
)
from aitrail.model import (
    Component,
    ComponentType,
    DeclaredLicense,
    Derivation,
    Evidence,
    Finding,
    Inventory,
    Relationship,
    RelationshipKind,
    Severity,
)
from aitrail.scanner import ScanResult

N = 2000
MAX_WALKS = 40  # full passes over one list per export: a constant, where a walk per model makes >= N


class Walks(list):  # type: ignore[type-arg]
    """A list that counts how often it is iterated from the start."""

    def __init__(self, items: Any = ()) -> None:
        super().__init__(items)
        self.walks = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        self.walks += 1
        return super().__iter__()


def _inventory(n: int = N) -> tuple[Inventory, list[FileReport]]:
    inv = Inventory(target="many", tool_version="test")
    base = inv.add_component(Component("model:org/base", ComponentType.MODEL, "org/base"))
    glue = inv.add_component(
        Component(
            "dataset:glue",
            ComponentType.DATASET,
            "glue",
            licenses=[DeclaredLicense("cc-by-4.0", Evidence("m0/README.md", "datasets"), spdx="CC-BY-4.0")],
        )
    )
    reports = []
    for i in range(n):
        root = f"m{i:04d}"
        card = Evidence(f"{root}/README.md", "license")
        m = inv.add_component(
            Component(
                f"model:org/m{i:04d}",
                ComponentType.MODEL,
                f"org/m{i:04d}",
                licenses=[DeclaredLicense("apache-2.0", card, spdx="Apache-2.0")],
                properties={"scanned": True, "root": root, "task": "text-classification", "architecture": "Bert"},
            )
        )
        for name, ctype, fmt in (
            ("model.safetensors", ComponentType.WEIGHTS, "safetensors"),
            ("config.json", ComponentType.CONFIG, "json"),
        ):
            path = f"{root}/{name}"
            f = inv.add_component(
                Component(f"file:{path}", ctype, name, path=path, size=100 + i, sha256=f"{i:064x}", format=fmt)
            )
            inv.add_relationship(Relationship(m.id, f.id, RelationshipKind.CONTAINS))
            rep = FileReport(path, f.sha256, fmt)
            if ctype == ComponentType.WEIGHTS:
                rep.add("low", "security.test.note", "a note for this file")
            reports.append(rep)
        inv.add_relationship(Relationship(m.id, base.id, RelationshipKind.DERIVED_FROM, Derivation.FINE_TUNE, [card]))
        inv.add_relationship(Relationship(m.id, glue.id, RelationshipKind.TRAINED_ON, evidence=[card]))
        inv.findings.append(
            Finding(Severity.LOW, "license.test-note", f"{m.name}: a licence note", card.path, card, "test")
        )
    completeness.assess(inv)
    return inv, reports


@pytest.fixture(scope="module")
def built() -> tuple[Inventory, dict[str, Any]]:
    inv, reports = _inventory()
    lic = licenses.report(inv, "commercial")
    opn = [openness.assess(openness.declaration_from_inventory(inv, m)) for m in inv.models()]
    doc = document(ScanResult(inv, reports), lic, opn, [], None)
    doc["policy"] = policy_mod.evaluate(policy_mod.DEFAULT, doc)
    return inv, doc


def _count(inv: Inventory) -> list[Walks]:
    inv.components, inv.relationships = Walks(inv.components), Walks(inv.relationships)
    inv.findings, inv.completeness = Walks(inv.findings), Walks(inv.completeness)
    return [inv.components, inv.relationships, inv.findings, inv.completeness]  # type: ignore[list-item]


def _model_ids(n: int = N) -> set[str]:
    return {f"model:org/m{i:04d}" for i in range(n)}


def test_summary_groups_once_and_is_right(built):
    _, doc = built
    d = dict(doc, inventory=dict(doc["inventory"]))
    lists = [Walks(doc["inventory"][k]) for k in ("components", "relationships", "completeness")]
    d["inventory"]["components"], d["inventory"]["relationships"], d["inventory"]["completeness"] = lists
    facts = summary.models(d)
    assert [w.walks for w in lists] and max(w.walks for w in lists) <= 3, [w.walks for w in lists]
    assert {m.id for m in facts} == _model_ids()
    per_model = len(completeness.elements()["elements"])
    for m in facts[:3] + facts[-3:]:
        assert [f["path"] for f in m.files] == [f"{m.id[10:]}/config.json", f"{m.id[10:]}/model.safetensors"]
        assert m.formats == ["safetensors"] and m.datasets == ["glue"] and m.bases[0][0] == "org/base"
        assert m.element_count == len(m.elements) == per_model and all(c["model"] == m.id for c in m.elements)
        assert m.present_count + len(m.missing) == per_model


def test_reports_from_the_check_document(built):
    _, doc = built
    doc = dict(doc, inventory=dict(doc["inventory"]))
    lists = []
    for k in ("components", "relationships", "completeness", "findings"):
        doc["inventory"][k] = Walks(doc["inventory"][k])
        lists.append(doc["inventory"][k])
    html = check_html.render(doc)
    md = check_markdown.render(doc)
    buf = io.StringIO()
    check_terminal.render(doc, Console(file=buf, width=200, color_system=None))
    assert max(w.walks for w in lists) <= MAX_WALKS, [w.walks for w in lists]
    per_model = len(completeness.elements()["elements"])
    for i in (0, N // 2, N - 1):
        name = f"org/m{i:04d}"
        assert name in html and name in md and name in buf.getvalue()
    assert html.count("<h3>org/m") >= N  # a completeness table per model
    assert html.count(f"/{per_model} present</h3>") == N
    res = sarif.from_check(doc)["runs"][0]["results"]
    assert sum(1 for r in res if r["ruleId"] == "license.test-note") == N


def test_boms_are_linear_and_complete(built, monkeypatch):
    inv, _ = built
    lists = _count(inv)
    calls = {"report": 0}
    real = licenses.report

    def counted(*a: Any, **k: Any) -> Any:
        calls["report"] += 1
        return real(*a, **k)

    monkeypatch.setattr(licenses, "report", counted)
    graphs: list[Walks] = []
    real_init = spdx._Doc.__init__

    def init(self: Any, inv_: Inventory) -> None:
        real_init(self, inv_)
        self.graph = Walks(self.graph)
        graphs.append(self.graph)

    monkeypatch.setattr(spdx._Doc, "__init__", init)

    from cyclonedx.model.bom_ref import BomRef

    real_eq = BomRef.__eq__

    def eq(self: Any, other: object) -> bool:
        calls["bom-ref =="] = calls.get("bom-ref ==", 0) + 1
        return real_eq(self, other)

    monkeypatch.setattr(BomRef, "__eq__", eq)
    cdx = json.loads(cyclonedx.dumps(inv))
    # the library's register_dependency compares every registered ref per component: ~4,000,000 here
    assert calls["bom-ref =="] <= 20 * N, calls
    models = [c for c in cdx["components"] if c["type"] == "machine-learning-model" and c["bom-ref"] in _model_ids()]
    assert len(models) == N and all(
        m["modelCard"]["modelParameters"]["datasets"] == [{"ref": "dataset:glue"}] for m in models
    )
    assert all(len(m["components"]) == 2 for m in models)
    verdicts = {
        p["value"] for m in models for p in m["properties"] if p["name"] == "aitrail:license.verdict.commercial"
    }
    assert verdicts == {licenses.report(inv, "commercial", models=[inv.models()[0]])["verdict"]}
    calls["report"] = 0

    sp = json.loads(spdx.dumps(inv))
    ai = [e for e in sp["@graph"] if e["type"] == "ai_AIPackage"]
    assert len(ai) == N and sum(1 for e in sp["@graph"] if e["type"] == "dataset_DatasetPackage") == 1
    assert graphs and graphs[0].walks <= MAX_WALKS, graphs[0].walks  # not one scan per element added

    md = markdown.dumps(inv)
    assert md.count("\n## org/m") == N
    buf = io.StringIO()
    terminal.render(inv, Console(file=buf, width=200, color_system=None))
    assert "org/m1999" in buf.getvalue()
    js = json.loads(json_inventory.dumps(inv))
    assert len(js["components"]) == 3 * N + 2 and len(js["relationships"]) == 4 * N

    assert calls["report"] == 0  # a full licence report per model and use walked every finding
    walks = [w.walks for w in lists]
    assert max(walks) <= MAX_WALKS, walks


def test_cyclonedx_validation_without_jsonschema_rs(monkeypatch):
    # python-jsonschema stands in when jsonschema-rs is absent (a runtime install): still strict, and
    # uniqueItems found by hashing, where the library compared every pair of components
    inv, _ = _inventory(30)
    text = cyclonedx.dumps(inv)
    assert cyclonedx._rs_validator("1.6") is not None  # the test extra has it: the rest is the fallback
    monkeypatch.setattr(cyclonedx, "_rs_validator", lambda version: None)
    assert cyclonedx.validate(text) is None
    doc = json.loads(text)
    doc["components"].append(dict(doc["components"][3]))
    assert "non-unique" in (cyclonedx.validate(json.dumps(doc)) or "")
    doc = json.loads(text)
    doc["components"][0]["bogus"] = 1
    assert "bogus" in (cyclonedx.validate(json.dumps(doc)) or "")
    doc = json.loads(text)
    doc["metadata"]["timestamp"] = "yesterday"
    assert "date-time" in (cyclonedx.validate(json.dumps(doc)) or "")
    assert cyclonedx._same([1, {"a": True}]) == cyclonedx._same([1.0, {"a": True}]) != cyclonedx._same([True, {}])
