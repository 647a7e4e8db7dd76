"""Judging stored documents again: when aitrail's knowledge changed (new licence facts, a dataset
found non-commercial) or the policy changed, every stored check document is re-judged with the same
code ``aitrail check`` uses, and what changed is recorded (events) and returned (and sent to webhooks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select

from aitrail.model import (
    CompletenessItem,
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

from ..core.config import knowledge_version
from ..core.db import Database
from ..models import Deployment, Event, Licence, Obligation, Version
from .extract import obligations
from .ingest import judge, now

BATCH = 200


def _ev(d: dict[str, Any] | None) -> Evidence:
    d = d or {}
    return Evidence(d.get("path"), d.get("key"), d.get("line"), d.get("offset"), d.get("value"))


def inventory_from_dict(d: dict[str, Any]) -> Inventory:
    """The Inventory a stored document was written from (the inverse of Inventory.to_dict)."""
    inv = Inventory(target=d.get("target", ""), tool_version=(d.get("tool") or {}).get("version", ""))
    inv.hashed = bool(d.get("hashed", True))
    for c in d.get("components", []):
        inv.add_component(
            Component(
                id=c["id"],
                type=ComponentType(c["type"]),
                name=c["name"],
                version=c.get("version"),
                path=c.get("path"),
                size=c.get("size"),
                sha256=c.get("sha256"),
                format=c.get("format"),
                purl=c.get("purl"),
                description=c.get("description"),
                licenses=[
                    DeclaredLicense(x["value"], _ev(x.get("evidence")), x.get("name"), x.get("link"), x.get("spdx"))
                    for x in c.get("licenses", [])
                ],
                properties=dict(c.get("properties") or {}),
                evidence=[_ev(e) for e in c.get("evidence", [])],
            )
        )
    for r in d.get("relationships", []):
        inv.add_relationship(
            Relationship(
                r["source"],
                r["target"],
                RelationshipKind(r["kind"]),
                Derivation(r["derivation"]) if r.get("derivation") else None,
                [_ev(e) for e in r.get("evidence", [])],
            )
        )
    for f in d.get("findings", []):
        ev = _ev(f["evidence"]) if f.get("evidence") else None
        inv.findings.append(
            Finding(Severity(f["severity"]), f["rule"], f["message"], f.get("path"), ev, f.get("source"))
        )
    inv.completeness = [CompletenessItem(**x) for x in d.get("completeness", [])]
    return inv


def rejudge(db: Database, policy: Any, env_policies: dict[str, Any], force: bool = False) -> dict[str, Any]:
    """Re-judge stored check documents judged with other knowledge (all of them with ``force``)."""
    from aitrail.analyze import licenses

    current = knowledge_version()
    changed: list[dict[str, Any]] = []
    seen = 0
    last = 0
    while True:
        with db.write() as s:
            q = (
                select(Version)
                .where(Version.id > last, Version.source_kind == "check")
                .order_by(Version.id)
                .limit(BATCH)
            )
            if not force:
                q = q.where(Version.knowledge_version != current)
            batch = s.scalars(q).all()
            if not batch:
                break
            for v in batch:
                last, seen = v.id, seen + 1
                doc = dict(v.document)
                inv_d = doc["inventory"]
                lic = licenses.report(inventory_from_dict(inv_d), v.use or "commercial")
                doc["licenses"] = lic
                verdict = judge(policy, doc, "check")
                before = {"verdict": v.verdict, "policy_passed": v.policy_passed}
                after = {"verdict": lic.get("verdict"), "policy_passed": verdict["passed"]}
                v.document, v.verdict, v.policy, v.policy_passed = (
                    doc,
                    after["verdict"],
                    verdict,
                    after["policy_passed"],
                )
                v.knowledge_version = current
                s.execute(delete(Licence).where(Licence.version_id == v.id))
                rows = [
                    {
                        "version_id": v.id,
                        "component": c.get("name") or c.get("component") or "",
                        "role": c.get("role") or "",
                        "license": c.get("license") or c.get("declared"),
                        "key": (c.get("license") or c.get("declared") or "").lower() or None,
                        "verdict": c.get("verdict"),
                        "evidence": "; ".join(c.get("evidence") or []) or None,
                    }
                    for c in lic.get("components", [])
                ]
                if rows:
                    s.execute(insert(Licence), rows)
                s.execute(delete(Obligation).where(Obligation.version_id == v.id))
                obl = [{"version_id": v.id, **o} for o in obligations(lic)]
                if obl:
                    s.execute(insert(Obligation), obl)
                deps = _deployments(s, v, doc, env_policies)
                if before != after or deps:
                    detail = {"version": v.id, "name": v.name, "from": before, "to": after, "deployments": deps}
                    s.add(Event(version_id=v.id, kind="verdict-changed", detail=detail, created_at=now()))
                    changed.append(detail)
    return {"knowledge_version": current, "judged": seen, "changed": changed}


def _deployments(s: Any, v: Version, doc: dict[str, Any], env_policies: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for d in s.scalars(select(Deployment).where(Deployment.version_id == v.id)):
        pol = env_policies.get(d.environment)
        if pol is None:
            continue
        verdict = judge(pol, doc, "check")
        if verdict["passed"] != d.policy_passed:
            out.append(
                {"deployment": d.id, "environment": d.environment, "from": d.policy_passed, "to": verdict["passed"]}
            )
        d.policy, d.policy_passed = verdict, verdict["passed"]
    return out
