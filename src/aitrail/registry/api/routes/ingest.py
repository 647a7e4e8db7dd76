"""Uploads: aitrail's own envelope (``aitrail push``), any CycloneDX / SPDX BOM, and
Dependency-Track's ``/api/v1/bom`` so its CI plug-ins work unchanged."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from ...crud import boms as bom_mod
from ...crud import signing
from ...crud.extract import Extracted, UploadError, from_check
from ...crud.ingest import RateLimited, digest, ingest
from ..deps import Caller, State, Writer, body, state
from ..problems import Problem

router = APIRouter(prefix="/api/v1", tags=["ingest"])
MAX_CARD = 256 * 1024
MAX_LABELS = 20


def _json(raw: bytes, what: str) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise Problem(400, "not JSON", f"{what}: {e}", "invalid-json") from None


def _extract(kind: str, doc: Any, where: str = "") -> Extracted:
    """``where``: the JSON pointer of ``doc`` inside the request body (errors' paths are the body's)."""
    try:
        if kind == "check":
            return from_check(doc)
        if kind == "cyclonedx":
            return bom_mod.from_cyclonedx(doc)
        return bom_mod.from_spdx(doc)
    except UploadError as e:
        errors = [{**x, "path": (where + x["path"]).rstrip("/") or "/"} for x in e.errors]
        detail = (f"{where}: " if where else "") + str(e)
        extra = {"errors": errors} if errors else {}
        raise Problem(422, f"invalid {kind} upload", detail, "invalid-upload", **extra) from None
    except (KeyError, TypeError, AttributeError, ValueError) as e:
        raise Problem(
            422, f"invalid {kind} upload", f"unexpected structure: {type(e).__name__}: {e}", "invalid-upload"
        ) from None


def _labels(values: Any) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(x, str) and 0 < len(x) <= 300 for x in values):
        raise Problem(422, "invalid labels", "labels: a list of names of 1 to 300 characters", "invalid-upload")
    if len(values) > MAX_LABELS:
        raise Problem(422, "invalid labels", f"at most {MAX_LABELS} labels", "invalid-upload")
    return values


def _scrub(x: Any) -> tuple[Any, int]:
    """``x`` with every U+0000 in its strings (keys too) replaced by U+FFFD, and how many there were.
    PostgreSQL cannot store NUL in text or jsonb (real cards have them: UTF-16 READMEs read as UTF-8),
    SQLite can: both store the same replacement, and the upload says so."""
    if isinstance(x, str):
        n = x.count("\x00")
        return (x.replace("\x00", "\ufffd") if n else x), n
    if isinstance(x, list):
        total = 0
        for i, v in enumerate(x):
            x[i], n = _scrub(v)
            total += n
        return x, total
    if isinstance(x, dict):
        total, out = 0, {}
        for k, v in x.items():
            k2, a = _scrub(k)
            out[k2], b = _scrub(v)
            total += a + b
        if total:
            x.clear()
            x.update(out)
        return x, total
    return x, 0


async def _store(
    st: State,
    c: Caller,
    raw: bytes,
    kind: str,
    doc: Any,
    labels: list[str],
    boms: list[tuple[str, dict[str, Any], str]] | None = None,
    card: str | None = None,
    signatures: Any = None,
) -> dict[str, Any]:
    doc, nul = _scrub(doc)
    for _fmt, b, _digest in boms or []:
        nul += _scrub(b)[1]
    if card is not None:
        card, n = _scrub(card)
        nul += n
    ex = await run_in_threadpool(_extract, kind, doc, "/document" if kind == "check" else "")
    if card is not None:
        ex.card = card
    if signatures is not None:
        try:
            ex.signatures = await run_in_threadpool(signing.read, signatures, ex)
        except UploadError as e:
            raise Problem(422, "invalid signature", str(e), "invalid-upload", errors=e.errors) from None
    boms = list(boms or [])
    if kind != "check":
        boms.append((kind, doc, digest(raw)))
    document = doc if kind == "check" else {"bom_format": kind}
    try:
        result = await run_in_threadpool(
            lambda: ingest(
                st.db,
                ex,
                body_digest=digest(raw + b"\0" + json.dumps(labels).encode()),  # same bytes, new labels: not a repeat
                document=document,
                boms=boms,
                labels=labels,
                token_id=c.token_id,
                policy=st.policy,
                rate=(st.settings.write_rate, st.settings.write_burst),
            )
        )
    except RateLimited as e:
        raise Problem(429, "too many uploads", str(e), "rate-limited") from None
    if nul:
        result.setdefault("warnings", []).append(
            f"{nul} NUL character(s) stored as U+FFFD: databases cannot keep them (a UTF-16 text read as UTF-8?)"
        )
    if result.get("label_moved") and st.settings.webhooks:
        # a known name now on different bytes (a re-registered hub name?): the operator hears of it
        from .manage import _notify

        moved = {"changed": [{"version": result["version"], **m} for m in result["label_moved"]]}
        result["webhooks"] = await run_in_threadpool(_notify, st.settings.webhooks, moved, "label-moved")
    return result


@router.post("/documents", status_code=201, summary="store an aitrail check document (aitrail push)")
async def post_document(request: Request, c: Writer) -> dict[str, Any]:
    raw = await body(request)
    env = _json(raw, "the upload")
    if not isinstance(env, dict) or not isinstance(env.get("document"), dict):
        raise Problem(
            422, "invalid upload", "expected {'document': <aitrail check JSON>, 'boms': {...}}", "invalid-upload"
        )
    card = env.get("card")
    if card is not None and (not isinstance(card, str) or len(card) > MAX_CARD):
        raise Problem(
            413 if isinstance(card, str) else 422,
            "invalid card",
            f"card: text up to {MAX_CARD} characters",
            "invalid-upload",
        )
    attached = []
    for fmt, bom in (env.get("boms") or {}).items():
        if fmt not in ("cyclonedx", "spdx") or not isinstance(bom, dict):
            raise Problem(422, "invalid upload", f"boms.{fmt}: expected cyclonedx or spdx JSON", "invalid-upload")
        await run_in_threadpool(_extract, fmt, bom, f"/boms/{fmt}")  # each attached BOM must be valid as well
        attached.append((fmt, bom, digest(json.dumps(bom, sort_keys=True).encode())))
    labels = _labels(env.get("labels"))
    signatures = env.get("signatures")
    return await _store(state(request), c, raw, "check", env["document"], labels, attached, card, signatures)


@router.post("/boms", status_code=201, summary="store a CycloneDX 1.6/1.7 or SPDX 3.0.1 BOM from any tool")
async def post_bom(request: Request, c: Writer, name: str | None = None) -> dict[str, Any]:
    raw = await body(request)
    doc = _json(raw, "the BOM")
    try:
        kind = bom_mod.detect(doc)
    except UploadError as e:
        raise Problem(422, "unknown document", str(e), "invalid-upload") from None
    return await _store(state(request), c, raw, kind, doc, _labels([name] if name else None))


async def _dependency_track(request: Request, c: Caller) -> dict[str, str]:
    raw = await body(request)
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(
            max_files=1, max_fields=20, max_part_size=request.app.state.registry.settings.max_upload_bytes
        )
        fields: dict[str, Any] = {k: v for k, v in form.items()}
        bom = fields.get("bom")
        bom_bytes = await bom.read() if isinstance(bom, UploadFile) else str(bom or "").encode()
    else:
        fields = _json(raw, "the request")
        if not isinstance(fields, dict) or not isinstance(fields.get("bom"), str):
            raise Problem(
                422,
                "invalid request",
                "expected JSON with a base64 'bom' (Dependency-Track's BomSubmitRequest)",
                "invalid-upload",
            )
        try:
            bom_bytes = base64.b64decode(fields["bom"], validate=True)
        except (binascii.Error, ValueError) as e:
            raise Problem(422, "invalid request", f"bom: not base64: {e}", "invalid-upload") from None
    doc = _json(bom_bytes, "the BOM")
    try:
        kind = bom_mod.detect(doc)
    except UploadError as e:
        raise Problem(422, "unknown document", str(e), "invalid-upload") from None
    name, ver = fields.get("projectName"), fields.get("projectVersion")
    labels = [str(name)] if name else []
    if name and ver:
        labels.append(f"{name}@{ver}")
    result = await _store(state(request), c, bom_bytes, kind, doc, _labels(labels))
    # Dependency-Track answers with a processing token; ours is done already (synchronous, one transaction)
    return {"token": str(uuid.uuid5(uuid.NAMESPACE_URL, result["identity"])), "version": str(result["version"])}


@router.put("/bom", summary="Dependency-Track compatible BOM upload (JSON, base64 BOM)")
async def put_bom(request: Request, c: Writer) -> dict[str, str]:
    return await _dependency_track(request, c)


@router.post("/bom", summary="Dependency-Track compatible BOM upload (multipart or JSON)")
async def post_bom_dt(request: Request, c: Writer) -> dict[str, str]:
    return await _dependency_track(request, c)


@router.get("/bom/token/{token}", summary="Dependency-Track's processing poll: uploads are processed synchronously")
def bom_token(token: str) -> dict[str, bool]:
    return {"processing": False}
