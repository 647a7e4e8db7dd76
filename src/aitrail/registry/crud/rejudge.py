"""Judging stored documents again: when aitrail's knowledge changed (new licence facts, a dataset
found non-commercial) or the policy changed, every stored check document is re-judged with the same
code ``aitrail check`` uses, and what changed is recorded (events) and returned (and sent to webhooks).
Security findings follow the security rules' version (crud/resecure.py: re-derived or marked stale)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, or_, select

from aitrail.model import (
    Inventory,
)

from ..core.config import knowledge_version
from ..core.db import Database
from ..models import Deployment, Event, Licence, Obligation, Version
from .extract import obligations
from .ingest import judge, now, policy_digest

BATCH = 200


def inventory_from_dict(d: dict[str, Any]) -> Inventory:
    """The Inventory a stored document was written from (the inverse of Inventory.to_dict)."""
    return Inventory.from_dict({"components": [], **d})


def relicense(inv_d: dict[str, Any], use: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The whole licence judgement again over a stored inventory: the ``license.*`` findings
    (``licenses.check``: laundering, conflicts, unresolved lineage, non-commercial data) and the report
    (verdicts, obligations). Re-running only the report kept the old findings, so a laundering that
    current knowledge finds never reached the policy's ``fail_on_findings``."""
    from aitrail.analyze import licenses

    inv = inventory_from_dict(inv_d)
    inv.findings = [f for f in inv.findings if not f.rule.startswith("license.")]
    licenses.check(inv)
    kept = [f for f in inv_d.get("findings") or [] if not str(f.get("rule", "")).startswith("license.")]
    found = [f.to_dict() for f in inv.findings if f.rule.startswith("license.")]
    return {**inv_d, "findings": kept + found}, licenses.report(inv, use)


def rejudge(db: Database, policy: Any, env_policies: dict[str, Any], force: bool = False) -> dict[str, Any]:
    """Re-judge stored check documents judged with other or unknown knowledge (all of them with ``force``)."""
    current, digest = knowledge_version(), policy_digest(policy)
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
                # judged with other knowledge, another policy, or a deployment under another environment policy
                stale_deps = [
                    (Deployment.environment == env)
                    & (Deployment.policy_digest.is_(None) | (Deployment.policy_digest != policy_digest(p)))
                    for env, p in env_policies.items()
                ]
                cond = (
                    (Version.knowledge_version != current)
                    | Version.policy_digest.is_(None)
                    | (Version.policy_digest != digest)
                )
                if stale_deps:
                    cond = cond | Version.id.in_(select(Deployment.version_id).where(or_(*stale_deps)))
                q = q.where(cond)
            batch = s.scalars(q).all()
            if not batch:
                break
            for v in batch:
                last, seen = v.id, seen + 1
                doc = dict(v.document)
                doc["inventory"], lic = relicense(doc["inventory"], v.use or "commercial")
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
                v.knowledge_version, v.policy_digest = current, digest
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
    security = _security(db, policy, env_policies)
    changed.extend(x for x in security.pop("changed"))
    out = {"knowledge_version": current, "policy_digest": digest, "judged": seen, "changed": changed}
    return {**out, "security": security}


def _security(db: Database, policy: Any, env_policies: dict[str, Any]) -> dict[str, Any]:
    """Every check document scanned with other security rules: findings re-derived, or marked stale; then
    the version's policy and its deployments' judged again with the changed document."""
    from .resecure import current_rules, resecure, where_and_who

    rules = current_rules()
    out: dict[str, Any] = {"rules_version": rules, "rederived": [], "rescan_needed": [], "changed": []}
    last = 0
    while True:
        with db.write() as s:
            batch = s.scalars(
                select(Version)
                .where(Version.id > last, Version.source_kind == "check")
                .where((Version.rules_version != rules) | Version.rules_version.is_(None))
                .order_by(Version.id)
                .limit(BATCH)
            ).all()
            if not batch:
                break
            for v in batch:
                last = v.id
                detail = resecure(s, v, rules)
                if detail is None:
                    continue
                if not detail.get("unchanged"):
                    _repolicy(s, v, detail, policy, env_policies)
                if detail["security"] == "rederived":
                    out["rederived"].append(detail)
                else:
                    out["rescan_needed"].append({**detail, "deployments": where_and_who(s, v.id)})
                if not detail.get("unchanged"):
                    out["changed"].append({**detail, "deployments": where_and_who(s, v.id)})
    return out


def _repolicy(s: Any, v: Version, detail: dict[str, Any], policy: Any, env_policies: dict[str, Any]) -> None:
    verdict = judge(policy, v.document, "check")
    before = v.policy_passed
    v.policy, v.policy_passed, v.policy_digest = verdict, verdict["passed"], policy_digest(policy)
    deps = _deployments(s, v, v.document, env_policies)
    if before != verdict["passed"]:
        detail["policy_passed"] = {"from": before, "to": verdict["passed"]}
    if deps:
        detail["deployment_verdicts"] = deps
    if before != verdict["passed"] or deps:
        change = {"version": v.id, "name": v.name, "from": {"policy_passed": before},
                  "to": {"policy_passed": verdict["passed"]}, "deployments": deps, "cause": detail["security"]}
        s.add(Event(version_id=v.id, kind="verdict-changed", detail=change, created_at=now()))


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
        d.policy, d.policy_passed, d.policy_digest = verdict, verdict["passed"], policy_digest(pol)
    return out
