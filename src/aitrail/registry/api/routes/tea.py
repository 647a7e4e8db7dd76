"""Transparency Exchange API (TEA, ECMA TC54; consumer API 0.4.0 beta) over the registry, read-only.

Products are names (labels, e.g. a hub id: PURL ``pkg:huggingface/org/name``); a product release is a
name on one version; the component is the version itself (its bytes) with one release, whose
collection holds the BOMs (CycloneDX, SPDX), the model card and the signatures. Collection version N
holds the first N BOMs uploaded (so versions are stable as BOMs are added). UUIDs encode the kind and
row id, so every lookup is one indexed query.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...crud import lifecycle, signing
from ...models import Bom, File, Label, Version
from ..deps import Reader, state
from ..problems import Problem

router = APIRouter(tags=["TEA"])  # mounted at /tea/v1 (and /tea/v1.0.0, the version advertised)
TEA_VERSION = "1.0.0"  # clients build /tea/v{version}; we implement the consumer API of spec 0.4.0 (beta 2)
PRODUCT, PRODUCT_RELEASE, COMPONENT, COMPONENT_RELEASE, BOM_ARTIFACT, CARD, SIGNATURE = range(1, 8)
MEDIA = {"cyclonedx": "application/vnd.cyclonedx+json", "spdx": "application/spdx+json"}
SIGSTORE = "application/vnd.dev.sigstore.bundle.v0.3+json"


def tid(kind: int, n: int) -> str:
    return f"{0x7EA00000 + kind:08x}-0000-4000-8000-{n:012x}"


def _row(uuid: str, kind: int) -> int:
    u = uuid.lower()
    if len(u) == 36 and u.startswith(f"{0x7EA00000 + kind:08x}-0000-4000-8000-"):
        try:
            return int(u[-12:], 16)
        except ValueError:
            pass
    raise Problem(404, "not found", f"{uuid} is not a known TEA object of this kind", "not-found")


def _date(d: datetime) -> str:
    d = d if d.tzinfo else d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ids(name: str) -> list[dict[str, str]]:
    return [{"idType": "PURL", "idValue": f"pkg:huggingface/{name}"}] if name.count("/") == 1 else []


def _page(items: list[dict[str, Any]], total: int, offset: int, size: int) -> dict[str, Any]:
    return {
        "timestamp": _date(datetime.now(timezone.utc)),
        "pageStartIndex": offset,
        "pageSize": size,
        "totalResults": total,
        "results": items,
    }


def _bounds(st: Any, offset: int, size: int) -> None:
    if offset < 0 or size < 1 or size > st.settings.max_page:
        raise Problem(400, "invalid page", f"pageSize 1..{st.settings.max_page}, pageOffset >= 0", "invalid-request")


def _product(s: Session, first_label_id: int) -> dict[str, Any]:
    lab = s.get(Label, first_label_id)
    if lab is None or s.scalar(select(func.min(Label.id)).where(Label.key == lab.key)) != lab.id:
        raise Problem(404, "not found", "no such product", "not-found")
    return {"uuid": tid(PRODUCT, lab.id), "name": lab.name, "identifiers": _ids(lab.name)}


def _product_release(s: Session, lab: Label) -> dict[str, Any]:
    v = s.get(Version, lab.version_id)
    assert v is not None
    first = s.scalar(select(func.min(Label.id)).where(Label.key == lab.key))
    return {
        "uuid": tid(PRODUCT_RELEASE, lab.id),
        "product": tid(PRODUCT, int(first or lab.id)),
        "productName": lab.name,
        "version": v.identity,
        "createdDate": _date(lab.created_at),
        "identifiers": _ids(lab.name),
        "components": [{"uuid": tid(COMPONENT, v.id), "release": tid(COMPONENT_RELEASE, v.id)}],
    }


def _release(s: Session, v: Version) -> dict[str, Any]:
    files = s.execute(select(File.path, File.sha256).where(File.version_id == v.id, File.sha256.is_not(None))).all()
    return {
        "uuid": tid(COMPONENT_RELEASE, v.id),
        "component": tid(COMPONENT, v.id),
        "componentName": v.name,
        "version": v.identity,
        "createdDate": _date(v.created_at),
        "identifiers": [{"idType": "TEI", "idValue": f"urn:tei:hash:registry:SHA256:{h}"} for _p, h in files[:50]],
    }


def _content(content: Any) -> bytes:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _artifacts(request: Request, s: Session, v: Version, upto: int | None) -> list[dict[str, Any]]:
    base = str(request.base_url).rstrip("/") + "/tea/v1/artifact-content/"
    boms = s.scalars(select(Bom).where(Bom.version_id == v.id).order_by(Bom.id)).all()
    out = []
    kept_signatures = {str((b.content or {}).get("path") or "") for b in boms if b.format == signing.FORMAT}
    for b in boms[:upto] if upto is not None else boms:
        if b.format == signing.FORMAT:  # an OMS signature file, kept as uploaded
            path = str((b.content or {}).get("path") or "")
            out.append(
                {
                    "uuid": tid(BOM_ARTIFACT, b.id),
                    "version": 1,
                    "name": f"signature {path}".strip(),
                    "type": "ATTESTATION",
                    "formats": [
                        {
                            "mediaType": SIGSTORE,
                            "description": "OpenSSF model signing (OMS) bundle",
                            "url": base + tid(BOM_ARTIFACT, b.id),
                            "checksums": [{"algType": "SHA-256", "algValue": b.sha256}],
                        }
                    ],
                }
            )
            continue
        out.append(
            {
                "uuid": tid(BOM_ARTIFACT, b.id),
                "version": 1,
                "name": f"{b.format} {b.spec_version or ''}".strip(),
                "type": "BOM",
                "formats": [
                    {
                        "mediaType": MEDIA.get(b.format, "application/json"),
                        "url": base + tid(BOM_ARTIFACT, b.id),
                        "checksums": [
                            {"algType": "SHA-256", "algValue": hashlib.sha256(_content(b.content)).hexdigest()}
                        ],
                    }
                ],
            }
        )
    if v.card:
        # TEA's artefact-type list names "model-card" in its data model (tea-artifact.md); the consumer
        # API 0.4.0 enum does not have it yet, so the card is OTHER, named "model-card".
        out.append(
            {
                "uuid": tid(CARD, v.id),
                "version": 1,
                "name": "model-card",
                "type": "OTHER",
                "formats": [
                    {
                        "mediaType": "text/markdown",
                        "url": base + tid(CARD, v.id),
                        "checksums": [{"algType": "SHA-256", "algValue": hashlib.sha256(v.card.encode()).hexdigest()}],
                    }
                ],
            }
        )
    doc = v.document if isinstance(v.document, dict) else {}
    for i, sig in enumerate(((doc.get("security") or {}).get("signatures") or [])[:100]):
        if sig.get("path") in kept_signatures:
            continue  # kept with its bytes: a stored artefact above (in the collections that hold it)
        sha = next(
            (f.get("sha256") for f in doc["security"].get("files", []) if f.get("path") == sig.get("path")), None
        )
        fmt: dict[str, Any] = {"mediaType": SIGSTORE, "description": "listed by the check; its bytes were not uploaded"}
        if sha:
            fmt["checksums"] = [{"algType": "SHA-256", "algValue": sha}]
        out.append(
            {
                "uuid": tid(SIGNATURE, v.id * 1000 + i),
                "version": 1,
                "name": f"signature {sig.get('path', '')}".strip(),
                "type": "ATTESTATION",
                "formats": [fmt],
            }
        )
    return out


def _collection(request: Request, s: Session, v: Version, owner: str, uuid: str, n: int | None) -> dict[str, Any]:
    count = s.scalar(select(func.count()).select_from(Bom).where(Bom.version_id == v.id)) or 0
    latest = max(count, 1)
    version = latest if n is None else n
    if version < 1 or version > latest:
        raise Problem(404, "no such collection version", f"collection versions 1..{latest}", "not-found")
    return {
        "uuid": uuid,
        "version": version,
        "date": _date(v.created_at),
        "belongsTo": owner,
        "updateReason": {"type": "INITIAL_RELEASE" if version == 1 else "ARTIFACT_ADDED"},
        "artifacts": _artifacts(request, s, v, version if count else None),
    }


def _version(s: Session, vid: int) -> Version:
    v = s.get(Version, vid)
    if v is None:
        raise Problem(404, "not found", "no such component or release", "not-found")
    return v


@router.get("/products")
def products(
    request: Request,
    _c: Reader,
    pageOffset: int = 0,
    pageSize: int = 100,
    idType: str | None = None,
    idValue: str | None = None,
) -> dict[str, Any]:
    st = state(request)
    _bounds(st, pageOffset, pageSize)
    q = select(func.min(Label.id)).group_by(Label.key)
    if idType or idValue:
        purl = idValue or ""
        if idType != "PURL" or not purl.startswith("pkg:huggingface/"):
            return _page([], 0, pageOffset, pageSize)  # only hub PURLs name products here
        q = q.where(Label.key == purl.split("/", 1)[1].split("@")[0].lower())
    with st.db.read() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        ids = s.scalars(q.order_by(func.min(Label.id)).offset(pageOffset).limit(pageSize)).all()
        return _page([_product(s, i) for i in ids], total, pageOffset, pageSize)


@router.get("/product/{uuid}")
def product(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return _product(s, _row(uuid, PRODUCT))


@router.get("/product/{uuid}/releases")
def product_releases(
    request: Request, uuid: str, _c: Reader, pageOffset: int = 0, pageSize: int = 100
) -> dict[str, Any]:
    st = state(request)
    _bounds(st, pageOffset, pageSize)
    with st.db.read() as s:
        p = _product(s, _row(uuid, PRODUCT))
        key = p["name"].lower()
        total = s.scalar(select(func.count()).select_from(Label).where(Label.key == key)) or 0
        labs = s.scalars(
            select(Label).where(Label.key == key).order_by(Label.id.desc()).offset(pageOffset).limit(pageSize)
        )
        return _page([_product_release(s, lab) for lab in labs], total, pageOffset, pageSize)


@router.get("/productReleases")
def product_releases_query(
    request: Request,
    _c: Reader,
    pageOffset: int = 0,
    pageSize: int = 100,
    idType: str | None = None,
    idValue: str | None = None,
) -> dict[str, Any]:
    st = state(request)
    _bounds(st, pageOffset, pageSize)
    q = select(Label)
    purl = idValue or ""
    if idType == "PURL" and purl.startswith("pkg:huggingface/"):
        q = q.where(Label.key == purl.split("/", 1)[1].lower())
    elif idType or idValue:
        return _page([], 0, pageOffset, pageSize)
    with st.db.read() as s:
        total = s.scalar(select(func.count()).select_from(q.subquery())) or 0
        labs = s.scalars(q.order_by(Label.id.desc()).offset(pageOffset).limit(pageSize)).all()
        return _page([_product_release(s, lab) for lab in labs], total, pageOffset, pageSize)


def _label(s: Session, uuid: str) -> Label:
    lab = s.get(Label, _row(uuid, PRODUCT_RELEASE))
    if lab is None:
        raise Problem(404, "not found", "no such product release", "not-found")
    return lab


@router.get("/productRelease/{uuid}")
def product_release(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return _product_release(s, _label(s, uuid))


@router.get("/productRelease/{uuid}/collection/latest")
def product_release_latest(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        lab = _label(s, uuid)
        return _collection(request, s, _version(s, lab.version_id), "PRODUCT_RELEASE", uuid, None)


@router.get("/productRelease/{uuid}/collections")
def product_release_collections(request: Request, uuid: str, _c: Reader) -> list[dict[str, Any]]:
    with state(request).db.read() as s:
        v = _version(s, _label(s, uuid).version_id)
        latest = _collection(request, s, v, "PRODUCT_RELEASE", uuid, None)["version"]
        return [_collection(request, s, v, "PRODUCT_RELEASE", uuid, n) for n in range(1, latest + 1)]


@router.get("/productRelease/{uuid}/collection/{n}")
def product_release_collection(request: Request, uuid: str, n: int, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return _collection(request, s, _version(s, _label(s, uuid).version_id), "PRODUCT_RELEASE", uuid, n)


@router.get("/component/{uuid}")
def component(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        v = _version(s, _row(uuid, COMPONENT))
        names = s.scalars(select(Label.name).where(Label.version_id == v.id).order_by(Label.id)).all()
        return {"uuid": uuid, "name": v.name, "identifiers": [i for n in names for i in _ids(n)]}


@router.get("/component/{uuid}/releases")
def component_releases(request: Request, uuid: str, _c: Reader) -> list[dict[str, Any]]:
    with state(request).db.read() as s:
        return [_release(s, _version(s, _row(uuid, COMPONENT)))]


@router.get("/componentRelease/{uuid}")
def component_release(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        v = _version(s, _row(uuid, COMPONENT_RELEASE))
        return {
            "release": _release(s, v),
            "latestCollection": _collection(request, s, v, "COMPONENT_RELEASE", uuid, None),
        }


@router.get("/componentRelease/{uuid}/collection/latest")
def component_release_latest(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return _collection(request, s, _version(s, _row(uuid, COMPONENT_RELEASE)), "COMPONENT_RELEASE", uuid, None)


@router.get("/componentRelease/{uuid}/collections")
def component_release_collections(request: Request, uuid: str, _c: Reader) -> list[dict[str, Any]]:
    with state(request).db.read() as s:
        v = _version(s, _row(uuid, COMPONENT_RELEASE))
        latest = _collection(request, s, v, "COMPONENT_RELEASE", uuid, None)["version"]
        return [_collection(request, s, v, "COMPONENT_RELEASE", uuid, n) for n in range(1, latest + 1)]


@router.get("/componentRelease/{uuid}/collection/{n}")
def component_release_collection(request: Request, uuid: str, n: int, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return _collection(request, s, _version(s, _row(uuid, COMPONENT_RELEASE)), "COMPONENT_RELEASE", uuid, n)


# CLE (ECMA-428 Common Lifecycle Enumeration), optional in TEA at all four levels (crud/lifecycle.py)


@router.get("/product/{uuid}/cle")
def product_cle(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        _product(s, _row(uuid, PRODUCT))
        lab = s.get(Label, _row(uuid, PRODUCT))
        assert lab is not None
        return lifecycle.for_label(s, lab, product=True)


@router.get("/productRelease/{uuid}/cle")
def product_release_cle(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return lifecycle.for_label(s, _label(s, uuid), product=False)


@router.get("/component/{uuid}/cle")
def component_cle(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return lifecycle.for_version(s, _version(s, _row(uuid, COMPONENT)))


@router.get("/componentRelease/{uuid}/cle")
def component_release_cle(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return lifecycle.for_version(s, _version(s, _row(uuid, COMPONENT_RELEASE)))


def _artifact(request: Request, s: Session, uuid: str) -> tuple[dict[str, Any], bytes | None]:
    kind = int(uuid[:8], 16) - 0x7EA00000 if len(uuid) == 36 and uuid[:8].isalnum() else -1
    if kind == BOM_ARTIFACT:
        b = s.get(Bom, _row(uuid, BOM_ARTIFACT))
        if b is not None:
            v = _version(s, b.version_id)
            art = next(a for a in _artifacts(request, s, v, None) if a["uuid"] == uuid.lower())
            return art, signing.stored_bytes(b.content) if b.format == signing.FORMAT else _content(b.content)
    elif kind == CARD:
        v = _version(s, _row(uuid, CARD))
        if v.card:
            return next(a for a in _artifacts(request, s, v, None) if a["uuid"] == uuid.lower()), v.card.encode()
    raise Problem(404, "not found", "no such artifact", "not-found")


@router.get("/artifact/{uuid}/latest")
def artifact_latest(request: Request, uuid: str, _c: Reader) -> dict[str, Any]:
    with state(request).db.read() as s:
        return _artifact(request, s, uuid)[0]


@router.get("/artifact/{uuid}/{artifactVersion}")
def artifact_version(request: Request, uuid: str, artifactVersion: int, _c: Reader) -> dict[str, Any]:
    if artifactVersion != 1:
        raise Problem(404, "not found", "stored artefacts have one version", "not-found")
    with state(request).db.read() as s:
        return _artifact(request, s, uuid)[0]


@router.get("/artifact-content/{uuid}", summary="the artefact's bytes (the url in its formats)")
def artifact_content(request: Request, uuid: str, _c: Reader) -> Response:
    with state(request).db.read() as s:
        art, data = _artifact(request, s, uuid)
    media = art["formats"][0]["mediaType"]
    # served as a download with no sniffing: a card is the uploader's text, never a page of ours
    return Response(
        data,
        media_type=media if media != "text/markdown" else "text/markdown; charset=utf-8",
        headers={"Content-Disposition": "attachment", "Content-Security-Policy": "default-src 'none'; sandbox"},
    )


@router.get("/discovery")
def discovery(request: Request, tei: str, _c: Reader) -> list[dict[str, Any]]:
    """TEI → product releases: ``urn:tei:purl:<domain>:pkg:huggingface/org/name[@label-suffix]``,
    ``urn:tei:hash:<domain>:SHA256:<file digest>``, ``urn:tei:uuid:<domain>:<product release uuid>``."""
    parts = tei.split(":", 4)
    if len(parts) != 5 or parts[0] != "urn" or parts[1] != "tei":
        raise Problem(400, "invalid TEI", "expected urn:tei:<type>:<domain>:<identifier>", "invalid-request")
    kind, ident = parts[2], parts[4]
    with state(request).db.read() as s:
        if kind == "purl" and ident.startswith("pkg:huggingface/"):
            labs = s.scalars(
                select(Label.id).where(Label.key == ident.split("/", 1)[1].lower()).order_by(Label.id.desc()).limit(20)
            ).all()
        elif kind == "hash" and ident.upper().startswith(("SHA256:", "SHA-256:")):
            digest = ident.split(":", 1)[1].lower()
            vids = select(File.version_id).where(File.sha256 == digest)
            labs = s.scalars(
                select(Label.id).where(Label.version_id.in_(vids)).order_by(Label.id.desc()).limit(20)
            ).all()
        elif kind == "uuid":
            labs = [_label(s, ident).id]
        else:
            raise Problem(
                400, "unsupported TEI", f"TEI type {kind!r} with this identifier is not served", "invalid-request"
            )
    if not labs:
        raise Problem(404, "not found", f"no product release for {tei}", "not-found")
    root = str(request.base_url).rstrip("/") + "/tea"
    return [
        {"productReleaseUuid": tid(PRODUCT_RELEASE, i), "servers": [{"rootUrl": root, "versions": [TEA_VERSION]}]}
        for i in labs
    ]


well_known = APIRouter(tags=["TEA"])


@well_known.get("/.well-known/tea")
def tea_well_known(request: Request) -> dict[str, Any]:
    return {
        "schemaVersion": 1,
        "endpoints": [{"url": str(request.base_url).rstrip("/") + "/tea", "versions": [TEA_VERSION]}],
    }
