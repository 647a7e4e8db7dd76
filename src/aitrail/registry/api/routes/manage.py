"""Deployments (where a version runs, who owns it), "which are affected" with where and who, policy
violations, re-judging on knowledge change, and the dashboard's counts."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from ...client import NO_REDIRECTS
from ...crud import queries
from ...crud.ingest import judge, now, policy_digest
from ...crud.rejudge import rejudge
from ...models import Deployment, FindingRow, Licence, Obligation, Version
from ..deps import Admin, Reader, Writer, state
from ..problems import Problem

router = APIRouter(prefix="/api/v1", tags=["deployments and policies"])


class DeploymentIn(BaseModel):
    environment: str = Field(min_length=1, max_length=100)
    service: str = Field(min_length=1, max_length=200)
    owner: str = Field(min_length=1, max_length=200)
    since: str | None = Field(None, max_length=40)
    support_status: str | None = Field(None, max_length=40, description="e.g. supported, deprecated, retired")
    end_of_life: str | None = Field(None, max_length=40)


def _version(s: Session, vid: int) -> Version:
    v = s.get(Version, vid)
    if v is None:
        raise Problem(404, "no such version", f"version {vid} is not in the registry", "not-found")
    return v


@router.post("/models/{vid}/deployments", status_code=201, summary="record where a version runs and who owns it")
def add_deployment(request: Request, vid: int, dep: DeploymentIn, _c: Writer) -> dict[str, Any]:
    st = state(request)
    with st.db.write() as s:
        v = _version(s, vid)
        pol = st.env_policies.get(dep.environment)
        verdict = judge(pol, v.document, v.source_kind) if pol is not None else None
        d = Deployment(
            version_id=vid,
            **dep.model_dump(),
            policy_passed=verdict["passed"] if verdict else None,
            policy=verdict,
            policy_digest=policy_digest(pol) if verdict else None,
            created_at=now(),
        )
        s.add(d)
        s.flush()
        return {"id": d.id, "version": vid, **dep.model_dump(), "policy_passed": d.policy_passed, "policy": verdict}


class LifecycleIn(BaseModel):
    type: str = Field(description="endOfDevelopment, endOfSupport, endOfLife, endOfDistribution or endOfMarketing")
    effective: str = Field(max_length=40, description="a date (2027-06-30) or an ISO 8601 date-time with a zone")
    description: str | None = None
    supportId: str | None = None  # noqa: N815 - the CLE field's name
    references: list[str] | None = None


@router.post("/models/{vid}/lifecycle", status_code=201, summary="declare a lifecycle event (end of support, life...)")
def add_lifecycle(request: Request, vid: int, event: LifecycleIn, _c: Writer) -> dict[str, Any]:
    from ...crud import lifecycle

    with state(request).db.write() as s:
        v = _version(s, vid)
        try:
            stored = lifecycle.declare(s, v, event.model_dump(exclude_none=True))
        except lifecycle.LifecycleError as e:
            raise Problem(422, "invalid lifecycle event", str(e), "invalid-request") from None
        return {"version": vid, "event": stored, **lifecycle.summary(s, v)}


@router.get("/models/{vid}/lifecycle", summary="support status, end-of-support and end-of-life, and the CLE events")
def get_lifecycle(request: Request, vid: int, _c: Reader) -> dict[str, Any]:
    from ...crud import lifecycle

    with state(request).db.read() as s:
        v = _version(s, vid)
        return {"version": vid, **lifecycle.summary(s, v)}


@router.delete("/deployments/{did}", status_code=204, summary="a deployment ended")
def end_deployment(request: Request, did: int, _c: Writer) -> None:
    with state(request).db.write() as s:
        d = s.get(Deployment, did)
        if d is None:
            raise Problem(404, "no such deployment", f"deployment {did} is not recorded", "not-found")
        s.delete(d)


@router.get("/affected", summary="versions matching the filters, with where they run and who owns them")
def affected(
    request: Request,
    _c: Reader,
    license: str | None = None,
    dataset: str | None = None,
    base_model: str | None = None,
    digest: str | None = None,
    rule: str | None = None,
) -> dict[str, Any]:
    if not any((license, dataset, base_model, digest, rule)):
        raise Problem(422, "no filter", "give license, dataset, base_model, digest or rule", "invalid-request")
    f = queries.Filters(license, dataset, base_model, digest, rule)
    with state(request).db.read() as s:
        items, total = queries.list_models(s, f, state(request).settings.max_page, 0)
        for it in items:
            it["deployments"] = queries.deployments(s, it["id"])
        out: dict[str, Any] = {"items": items, "total": total}
        if rule:
            # versions scanned with older security rules that could not be re-derived: whether this rule
            # hits them is unknown until they are re-scanned — listed (where, who), never left out silently
            from ...crud.resecure import stale_versions

            hit = {i["id"] for i in items}
            out["unknown"] = [x for x in stale_versions(s, state(request).settings.max_page) if x["id"] not in hit]
            out["unknown_reason"] = "scanned with older security rules; re-scan needed (aitrail push)"
    return out


@router.get("/obligations", summary="obligations and restrictions across the inventory (or one environment)")
def obligations(
    request: Request, _c: Reader, environment: str | None = None, license: str | None = None
) -> dict[str, Any]:
    q = select(
        Obligation.license,
        Obligation.term,
        Obligation.kind,
        Obligation.text,
        Obligation.clause,
        Obligation.source,
        func.count(func.distinct(Obligation.version_id)),
    ).group_by(
        Obligation.license, Obligation.term, Obligation.kind, Obligation.text, Obligation.clause, Obligation.source
    )
    if environment:
        q = q.where(
            Obligation.version_id.in_(select(Deployment.version_id).where(Deployment.environment == environment))
        )
    if license:
        q = q.where(Obligation.license == license)
    with state(request).db.read() as s:
        rows = s.execute(q.order_by(func.count(func.distinct(Obligation.version_id)).desc()).limit(1000)).all()
    keys = ("license", "term", "kind", "text", "clause", "source", "versions")
    return {"items": [dict(zip(keys, r)) for r in rows], "total": len(rows)}


@router.get("/violations", summary="versions and deployments whose policy fails")
def violations(request: Request, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        vs = s.scalars(select(Version).where(Version.policy_passed.is_(False)).order_by(Version.id)).all()
        ds = s.scalars(select(Deployment).where(Deployment.policy_passed.is_(False)).order_by(Deployment.id)).all()
        return {
            "versions": [{**queries.summary(s, v), "violations": (v.policy or {}).get("violations", [])} for v in vs],
            "deployments": [
                {
                    "id": d.id,
                    "version": d.version_id,
                    "environment": d.environment,
                    "service": d.service,
                    "owner": d.owner,
                    "violations": (d.policy or {}).get("violations", []),
                }
                for d in ds
            ],
        }


@router.post("/rejudge", summary="judge stored documents again (knowledge or policy changed); lists what changed")
async def post_rejudge(request: Request, _c: Admin, force: bool = False) -> dict[str, Any]:
    st = state(request)
    result = await run_in_threadpool(rejudge, st.db, st.policy, st.env_policies, force)
    if result["changed"] and st.settings.webhooks:
        result["webhooks"] = await run_in_threadpool(_notify, st.settings.webhooks, result)
    return result


def _notify(urls: tuple[str, ...], result: dict[str, Any], event: str = "verdict-changed") -> list[dict[str, Any]]:
    """POST the changes to each operator-configured webhook (never to a URL taken from an upload)."""
    body = json.dumps({"event": event, "changed": result["changed"]}).encode()
    out = []
    for url in urls:
        req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json"})
        try:
            # never redirected: urllib would turn the POST into a GET without the body and report it delivered
            with NO_REDIRECTS.open(req, timeout=10) as r:
                out.append({"url": url, "status": r.status})
        except urllib.error.HTTPError as e:
            moved = " (redirect not followed)" if 300 <= e.code < 400 else ""
            out.append({"url": url, "error": f"HTTP {e.code}{moved}"})
        except OSError as e:
            out.append({"url": url, "error": str(getattr(e, "reason", e))})
    return out


@router.get("/stats", summary="counts for the dashboard: licences, openness classes, verdicts, findings")
def stats(request: Request, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:

        def count(col: Any, *where: Any) -> dict[str, int]:
            q = select(col, func.count()).group_by(col)
            for w in where:
                q = q.where(w)
            return {str(k): int(n) for k, n in s.execute(q)}

        by_day = func.substr(func.cast(Version.created_at, type_=Licence.license.type), 1, 10)
        return {
            "versions": s.scalar(select(func.count()).select_from(Version)) or 0,
            "licenses": count(Licence.license, Licence.role == "model"),
            "mof_classes": count(Version.mof_class),
            "verdicts": count(Version.verdict),
            "policy": count(Version.policy_passed),
            "findings_by_severity": count(FindingRow.severity),
            "versions_by_day": count(by_day),
        }
