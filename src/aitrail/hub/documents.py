"""Folders of scans, check documents and AI BOMs as hub inputs: aitrail JSON inventories (``aitrail scan -f
json``), check documents (``aitrail check``'s JSON, the inventory under ``inventory``) and CycloneDX 1.5-1.7 /
SPDX 3.0.1 BOMs of any tool (``boms``), judged again with today's knowledge by the same functions as hub
records. One results row per model.
"""

from __future__ import annotations

import json
from typing import Any

from ..model import (
    ComponentType,
    Inventory,
    RelationshipKind,
)

MAX_DOCUMENT = 256 << 20  # bytes of one JSON document read


def inventory(d: dict[str, Any]) -> Inventory:
    """The Inventory a JSON inventory was written from; licence findings are dropped (judged again).
    Raises KeyError/ValueError/TypeError for a document that is not one."""
    inv = Inventory.from_dict(d)
    inv.findings = [f for f in inv.findings if not f.rule.startswith("license.")]
    return inv


def parse(text: str) -> Inventory:
    """A scan (inventory), check document (``{"inventory": ...}``) or AI BOM; ValueError if it is none
    of them, or one that cannot be read (the message says why)."""
    from . import boms

    try:
        doc = json.loads(text)
        if boms.kind(doc) is not None:
            return boms.inventory(doc)
        if isinstance(doc, dict) and isinstance(doc.get("inventory"), dict):
            doc = doc["inventory"]
        if not isinstance(doc, dict) or not isinstance(doc.get("components"), list):
            raise ValueError("not an aitrail inventory, check document, CycloneDX or SPDX 3 BOM (no components)")
        return inventory(doc)
    except (KeyError, TypeError, AttributeError, RecursionError) as e:
        raise ValueError(f"not an aitrail inventory: {type(e).__name__} {e}") from None


def judge(inv: Inventory, source: str, row: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Results and findings rows for every scanned model of ``inv``, with today's knowledge."""
    from ..analyze import completeness, licenses, openness
    from . import batch, boms

    if inv.target == boms.UNNAMED:
        boms.relabel(inv, source)
    licenses.check(inv)
    completeness.assess(inv)
    rows = []
    for n, m in enumerate(inv.models()):
        verdicts = [licenses.model_verdict(licenses.entries(inv, m, u)) for u in batch.USES]
        mof_class, osaid, score, open_weights = batch._openness(openness.declaration_from_inventory(inv, m))
        items = [c for c in inv.completeness if c.model in (None, m.id)]
        missing = [c.element for c in items if not c.present]
        first = licenses.of(m.licenses[0]) if m.licenses else None
        files = inv.related(m.id, RelationshipKind.CONTAINS)
        derived = inv.outgoing(m.id, RelationshipKind.DERIVED_FROM)
        trained = [c.name for c in inv.related(m.id, RelationshipKind.TRAINED_ON)]
        mid = str(m.properties.get("repo_id") or m.name)
        tags = " ".join(map(str, m.properties.get("tags") or []))
        rows.append({
            "id": mid, "sha": m.version, "last_modified": None, "year": None,
            "org": mid.split("/", 1)[0] if "/" in mid else None, "source": source, "row": row + n,
            "has_card": any(c.format == "model-card" for c in files), "card_chars": None,
            "has_front_matter": None, "licenses": [x.value for x in m.licenses],
            "license_evidence": str(m.licenses[0].evidence) if m.licenses else None,
            "license_id": first.id if first else None, "license_spdx": batch._spdx(first),
            "license_known": first.known if first else False, "license_matched_by": first.matched_by if first else None,
            **{f"verdict_{u}": v for u, v in zip(batch.USES, verdicts)},
            "bases": [r.target.removeprefix("model:") for r in derived],
            "relation": str(derived[0].derivation) if derived and derived[0].derivation else None,
            "datasets": trained, "task": m.properties.get("task"), "library": m.properties.get("library"),
            "architecture": m.properties.get("architecture"),
            "completeness_present": len(items) - len(missing), "completeness_total": len(items),
            "completeness_missing": missing, "mof_class": mof_class, "osaid": osaid, "openness_score": score,
            "open_weights_licence": open_weights, "data_declared": bool(trained), "code_linked": None,
            "paper": bool(openness._ARXIV.search(tags)), "evaluation": bool(m.properties.get("evaluation_results")),
            "weights_formats": sorted({c.format for c in files if c.type == ComponentType.WEIGHTS and c.format}),
            "findings": [],
        })
    # a finding about one model of several names it first ("<model>: ..."); the others are the document's
    names = {n: r["id"] for m, r in zip(inv.models(), rows) for n in (m.name, r["id"])}
    fnds = []
    for f in inv.findings:
        head = f.message.split(": ", 1)[0]
        owner = rows[0]["id"] if len(rows) == 1 else names.get(head)
        fnds.append({"id": owner or inv.target, "severity": str(f.severity), "rule": f.rule, "message": f.message,
                     "evidence": str(f.evidence) if f.evidence else None, "rule_source": f.source})
    for r in rows:
        r["findings"] = sorted({f["rule"] for f in fnds if f["id"] in (r["id"], inv.target)})
    return rows, fnds


def facts(inv: Inventory, source: str) -> list[tuple[str, str | None, list[list[str]], list[list[str]], list[str]]]:
    """What the hub index keeps of every model of a document: (id, revision, licences [value, source,
    location], bases [id, relation, evidence], datasets), named as :func:`judge` names them."""
    from . import boms

    if inv.target == boms.UNNAMED:
        boms.relabel(inv, source)
    out = []
    for m in inv.models():
        mid = str(m.properties.get("repo_id") or m.name)
        where = "" if inv.target == source else f" (document {source})"
        lics = [[x.value, "document licence", f"{x.evidence}{where}"] for x in m.licenses]
        bases = [[r.target.removeprefix("model:"), str(r.derivation or "unknown"),
                  ", ".join(map(str, r.evidence)) + where]
                 for r in inv.outgoing(m.id, RelationshipKind.DERIVED_FROM)]
        ds = [c.name for c in inv.related(m.id, RelationshipKind.TRAINED_ON)]
        out.append((mid, m.version, lics, bases, ds))
    return out
