"""CycloneDX 1.6/1.7 and SPDX 3.0.1 AI BOMs from any tool, read into :class:`Extracted`.

CycloneDX is validated against the official schema (bundled with cyclonedx-python-lib); SPDX 3.0.1
against the official SPDX 3.0.1 JSON schema (crud/spdx.py says where it is read from). Errors name the
JSON path of what is invalid. Only the BOM's own data is read: no URL in it is ever fetched.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from . import spdx as spdx_schema
from .extract import Extracted, UploadError, _short, describe, pointer_errors

CDX_VERSIONS = ("1.6", "1.7")
SPDX_CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"


def detect(doc: Any) -> str:
    """'cyclonedx', 'spdx' or 'check' for a parsed JSON upload; UploadError for anything else."""
    if isinstance(doc, dict):
        if doc.get("bomFormat") == "CycloneDX":
            return "cyclonedx"
        if "@graph" in doc or "@context" in doc:
            return "spdx"
        if "inventory" in doc and "security" in doc:
            return "check"
    raise UploadError(
        "not a CycloneDX BOM (bomFormat), an SPDX 3 JSON-LD document (@graph) or an aitrail check document"
    )


@lru_cache(maxsize=4)
def _cdx_validator(version: str) -> Any:
    import pathlib

    import cyclonedx.schema._res as res

    base = pathlib.Path(res.__file__).parent
    schema = json.loads((base / f"bom-{version}.SNAPSHOT.schema.json").read_text("utf-8"))

    def local(uri: str) -> Any:  # the schema's $refs resolve to the bundled files, never the network
        name = uri.rsplit("/", 1)[-1]
        name = name if "SNAPSHOT" in name else name.replace(".schema.json", ".SNAPSHOT.schema.json")
        path = base / name
        if not path.is_file():
            raise ValueError(f"schema reference {uri} is not bundled")
        return json.loads(path.read_text("utf-8"))

    import jsonschema_rs

    return jsonschema_rs.validator_for(schema, retriever=local)


def _hash(hashes: Any, alg: str) -> str | None:
    for h in hashes or []:
        if isinstance(h, dict) and str(h.get("alg") or h.get("algorithm", "")).replace("-", "").lower() == alg:
            v = h.get("content") or h.get("hashValue")
            return str(v).lower() if v else None
    return None


def _cdx_licences(c: dict[str, Any]) -> list[str]:
    out = []
    for entry in c.get("licenses") or []:
        if "expression" in entry:
            out.append(str(entry["expression"]))
        elif isinstance(entry.get("license"), dict):
            lic = entry["license"]
            out.append(str(lic.get("id") or lic.get("name") or ""))
    return [x for x in out if x]


def from_cyclonedx(bom: dict[str, Any]) -> Extracted:
    version = str(bom.get("specVersion", ""))
    if version not in CDX_VERSIONS:
        raise UploadError(f"CycloneDX specVersion {version!r} is not accepted (accepted: {', '.join(CDX_VERSIONS)})")
    errors = pointer_errors(_cdx_validator(version).iter_errors(bom))
    if errors:
        raise UploadError(f"invalid CycloneDX {version}: " + describe(errors), errors)
    meta = (bom.get("metadata") or {}).get("component")
    comps: list[dict[str, Any]] = []

    def walk(items: list[dict[str, Any]]) -> None:
        for c in items:
            comps.append(c)
            walk(c.get("components") or [])

    walk([meta] if meta else [])
    walk(bom.get("components") or [])
    models = [c for c in comps if c.get("type") == "machine-learning-model"]
    if not models:
        raise UploadError("the CycloneDX BOM has no machine-learning-model component (nothing to register)")
    main = meta if meta and meta.get("type") == "machine-learning-model" else models[0]
    w: list[str] = []
    ex = Extracted("cyclonedx", _short(main.get("name") or "unnamed", w, "model name"), warnings=w)
    if "/" in ex.name:  # hub-style ids are labels; a bare name is only searchable
        ex.labels.append(ex.name)
    purl = str(main.get("purl") or "")
    if purl.startswith("pkg:huggingface/"):
        ex.labels.append(_short(purl.split("/", 1)[1].split("@")[0], w, "hub id"))
    ancestors = {id(a) for a in (main.get("pedigree") or {}).get("ancestors") or []}
    for a in (main.get("pedigree") or {}).get("ancestors") or []:
        props = {p.get("name"): p.get("value") for p in a.get("properties") or []}
        ex.lineage.append(
            {
                "base": _short(a.get("name") or a.get("purl") or "?", w, "base model"),
                "relation": props.get("aitrail:derivation") or "unknown",
                "evidence": props.get("aitrail:evidence") or "CycloneDX pedigree.ancestors",
                "resolver": "uploaded CycloneDX BOM",
            }
        )
    for c in comps:
        if id(c) in ancestors:
            continue
        t = c.get("type")
        if t == "file":
            props = {p.get("name"): p.get("value") for p in c.get("properties") or []}
            size = props.get("aitrail:size")
            ex.files.append(
                {
                    "path": str(c.get("name") or ""),
                    "sha256": _hash(c.get("hashes"), "sha256"),
                    "size": int(size) if size and str(size).isdigit() else None,
                    "format": props.get("aitrail:format"),
                }
            )
        elif t == "data":
            ex.datasets.append({"name": _short(c.get("name") or "?", w, "dataset"), "relation": "trained-on"})
        role = {"machine-learning-model": "model", "data": "dataset", "library": "package"}.get(str(t))
        if role:
            for lic in _cdx_licences(c):
                ex.licenses.append(
                    {
                        "component": c.get("name") or "",
                        "role": role if c is main or role != "model" else "base",
                        "license": _short(lic, w, "licence"),
                        "verdict": None,
                        "evidence": "CycloneDX licenses",
                    }
                )
    card = main.get("description")
    ex.card = str(card) if card else None
    return ex


def from_spdx(doc: dict[str, Any]) -> Extracted:
    ctx = doc.get("@context")
    graph = doc.get("@graph")
    if ctx != SPDX_CONTEXT and not (isinstance(ctx, list) and SPDX_CONTEXT in ctx):
        raise UploadError(f"SPDX: @context must be {SPDX_CONTEXT} (SPDX 3.0.1 JSON-LD)")
    if not isinstance(graph, list) or not all(isinstance(e, dict) and "type" in e for e in graph):
        raise UploadError("SPDX: @graph must be a list of elements, each with a type")
    errors = spdx_schema.schema_errors(doc)
    if errors:
        raise UploadError("invalid SPDX 3.0.1 (official JSON schema): " + describe(errors), errors)
    by_id = {e.get("spdxId") or e.get("@id"): e for e in graph}
    models = [e for e in graph if e["type"] == "ai_AIPackage"]
    if not models:
        raise UploadError("the SPDX document has no ai_AIPackage element (nothing to register)")
    main = models[0]
    w: list[str] = []
    ex = Extracted("spdx", _short(main.get("name") or "unnamed", w, "model name"), warnings=w)
    if errors is None:
        w.append(f"not validated against the SPDX 3.0.1 JSON schema: no schema file ({spdx_schema.ENV} is not set)")
    gaps = spdx_schema.profile_gaps(doc)
    if gaps:
        w.append("SPDX 3.0.1 AI/Dataset profile (not checked by its schema): " + "; ".join(gaps))
    if "/" in ex.name:
        ex.labels.append(ex.name)
    for e in graph:
        if e["type"] == "software_File":
            ex.files.append(
                {
                    "path": str(e.get("name") or ""),
                    "sha256": _hash(e.get("verifiedUsing"), "sha256"),
                    "size": None,
                    "format": None,
                }
            )
    for r in graph:
        if r["type"] != "Relationship" or r.get("from") not in by_id:
            continue
        src = by_id[r["from"]]
        for to in r.get("to") or []:
            tgt = by_id.get(to)
            if tgt is None:
                continue
            kind = r.get("relationshipType")
            if kind == "trainedOn" and src is main:
                ex.datasets.append({"name": _short(tgt.get("name") or to, w, "dataset"), "relation": "trained-on"})
            elif kind == "testedOn" and src is main:
                ex.datasets.append({"name": _short(tgt.get("name") or to, w, "dataset"), "relation": "tested-on"})
            elif kind in ("descendantOf", "ancestorOf"):
                child, base = (src, tgt) if kind == "descendantOf" else (tgt, src)
                if child is main:
                    ex.lineage.append(
                        {
                            "base": _short(base.get("name") or to, w, "base model"),
                            "relation": "unknown",
                            "evidence": f"SPDX {kind}",
                            "resolver": "uploaded SPDX BOM",
                        }
                    )
            elif kind in ("hasDeclaredLicense", "hasConcludedLicense") and src["type"] in (
                "ai_AIPackage",
                "dataset_DatasetPackage",
            ):
                expr = tgt.get("simplelicensing_licenseExpression") or tgt.get("name")
                if expr:
                    ex.licenses.append(
                        {
                            "component": src.get("name") or "",
                            "role": "model" if src is main else ("dataset" if "Dataset" in src["type"] else "base"),
                            "license": _short(expr, w, "licence"),
                            "verdict": None,
                            "evidence": f"SPDX {kind}",
                        }
                    )
    unique: dict[tuple[str, str], dict[str, Any]] = {}  # declared and concluded often repeat each other
    for x in ex.licenses:
        unique.setdefault((x["component"], x["license"]), x)
    ex.licenses = list(unique.values())
    ex.card = str(main["description"]) if main.get("description") else None
    return ex


def spec_version(kind: str, doc: dict[str, Any]) -> str | None:
    if kind == "cyclonedx":
        return str(doc.get("specVersion"))
    if kind == "spdx":
        for e in doc.get("@graph") or []:
            if isinstance(e, dict) and e.get("type") == "CreationInfo" and e.get("specVersion"):
                return str(e["specVersion"])
    return None
