"""Queries over the inventory: models by licence / dataset / base model (transitive) / digest / rule,
one version in full, a label's history with diffs, and the resolver's lookup."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from ...crud import queries
from ...crud.ingest import diff
from ...models import Bom, Version
from ..deps import Reader, state
from ..problems import Problem

router = APIRouter(prefix="/api/v1", tags=["models"])


@router.get(
    "/models",
    summary="model versions matching every given filter, newest first (best first with q)",
    response_model=None,
    responses={200: {"content": {"application/json": {}}, "description": '{"items": [...], "total": N, ...}'}},
)
def list_models(
    request: Request,
    _c: Reader,
    license: str | None = Query(None, description="an SPDX id (or LicenseRef) found anywhere in the version"),
    dataset: str | None = Query(None, description="a dataset the version was trained or tested on"),
    base_model: str | None = Query(None, description="a base model, through any number of stored lineage hops"),
    digest: str | None = Query(None, description="a file's SHA-256"),
    rule: str | None = Query(None, description="a security or licence finding rule id"),
    label: str | None = Query(None, description="a name the version was pushed under"),
    q: str | None = Query(
        None,
        max_length=200,
        description="full-text search in names, labels and model cards, ranked: every word must occur "
        "(a word cut at punctuation, 'org/mi', is a phrase; its last part a prefix)",
    ),
    environment: str | None = Query(None, description="deployed in this environment"),
    policy_passed: bool | None = None,
    limit: int = Query(50, ge=1),
    offset: int = Query(0, ge=0),
    after: int | None = Query(None, description="only versions older than this id (the last id of the previous page)"),
) -> Response:
    st = state(request)
    if limit > st.settings.max_page:
        raise Problem(422, "page too large", f"limit {limit} is above {st.settings.max_page}", "invalid-request")
    if after is not None and q:
        why = "a text search is ranked, not ordered by id: page it with offset="
        raise Problem(422, "after= with q", why, "invalid-request")
    f = queries.Filters(license, dataset, base_model, digest, rule, label, q, environment, policy_passed)
    with st.db.read() as s:
        items, total = queries.list_models(s, f, limit, offset, after)
    # serialised here: the items are plain JSON values already (FastAPI's encoder would walk each again)
    body = {"items": items, "total": total, "limit": limit, "offset": offset}
    return Response(json.dumps(body, separators=(",", ":")).encode(), media_type="application/json")


@router.get("/models/{vid}", summary="one model version: files, datasets, licences, lineage, findings, deployments")
def get_model(request: Request, vid: int, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        d = queries.detail(s, vid)
    if d is None:
        raise Problem(404, "no such version", f"version {vid} is not in the registry", "not-found")
    return d


@router.get("/models/{vid}/document", summary="the stored aitrail check document, as uploaded")
def get_document(request: Request, vid: int, _c: Reader) -> Any:
    with state(request).db.read() as s:
        v = s.get(Version, vid)
    if v is None:
        raise Problem(404, "no such version", f"version {vid} is not in the registry", "not-found")
    return v.document


@router.get("/models/{vid}/boms/{fmt}", summary="a stored BOM (cyclonedx or spdx), as uploaded")
def get_bom(request: Request, vid: int, fmt: str, _c: Reader) -> Any:
    with state(request).db.read() as s:
        b = s.scalar(select(Bom).where(Bom.version_id == vid, Bom.format == fmt).order_by(Bom.id.desc()).limit(1))
    if b is None:
        raise Problem(404, "no such BOM", f"version {vid} has no {fmt} BOM", "not-found")
    return b.content


@router.get("/diff", summary="what changed between two versions")
def get_diff(request: Request, old: int, new: int, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        if s.get(Version, old) is None or s.get(Version, new) is None:
            raise Problem(404, "no such version", f"version {old} or {new} is not in the registry", "not-found")
        return diff(s, old, new)


@router.get("/history", summary="every version a label (a name, a hub id) was pushed under, with diffs")
def get_history(request: Request, label: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        items = queries.history(s, label)
        for a, b in zip(items, items[1:]):
            b["diff"] = diff(s, a["id"], b["id"])
    return {"label": label, "items": items, "total": len(items)}


@router.get("/resolve", summary="lineage facts for a model id (what RegistryResolver asks)")
def resolve(request: Request, model_id: str, _c: Reader, revision: str | None = None) -> dict[str, Any]:
    with state(request).db.read() as s:
        facts = queries.resolve(s, model_id, revision)
    if facts is None:
        raise Problem(404, "unknown model", f"no version is labelled {model_id!r}", "not-found")
    facts["source"] = str(request.url_for("get_model", vid=facts["version"]))
    return facts
