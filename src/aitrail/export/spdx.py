"""SPDX 3.0.1 JSON-LD with the AI and Dataset profiles.

Written as plain JSON-LD: spdx-python-model (the generated bindings) is pre-1.0 and mirrors
the RDF model one class per element, which costs more code than the ~40 element shapes we
emit. Documents are checked two ways: the official JSON schema (tests, offline) and
:func:`conformance`, which checks what the schema and the published SHACL do not — the
AI/Dataset profile conformance clauses and the mandatory property cardinalities.

Values the artefacts do not show are written as explicit placeholders (``NOASSERTION``) and
listed in the element's ``comment``, so the document conforms and a reader sees what is
missing; the scan's completeness report says where to supply each.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from datetime import datetime, timezone
from typing import Any

from .. import __version__
from ..analyze import judgements
from ..analyze.license_ids import license_ref
from ..model import Component, ComponentType, Inventory, RelationshipKind

CONTEXT = "https://spdx.org/rdf/3.0.1/spdx-context.jsonld"
NOASSERTION_LICENSE = "spdx:ExpandedLicensing/NoAssertionLicense"
PURPOSE = {
    ComponentType.WEIGHTS: "model",
    ComponentType.CONFIG: "configuration",
    ComponentType.TOKENIZER: "data",
    ComponentType.DOCUMENTATION: "documentation",
    ComponentType.LICENSE: "documentation",
    ComponentType.CODE: "source",
    ComponentType.DATA: "data",
    ComponentType.FILE: "other",
}
REL = {
    RelationshipKind.CONTAINS: "contains",
    RelationshipKind.TRAINED_ON: "trainedOn",
    RelationshipKind.TESTED_ON: "testedOn",
    RelationshipKind.DEPENDS_ON: "dependsOn",
    RelationshipKind.DERIVED_FROM: "descendantOf",
}
AI_REQUIRED = (
    "releaseTime",
    "suppliedBy",
    "software_downloadLocation",
    "software_packageVersion",
    "software_primaryPurpose",
)
DATASET_REQUIRED = (
    "releaseTime",
    "builtTime",
    "originatedBy",
    "software_downloadLocation",
    "software_primaryPurpose",
    "dataset_datasetType",
)


def _now() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")  # reproducible builds convention
    t = datetime.fromtimestamp(int(epoch), timezone.utc) if epoch else datetime.now(timezone.utc)
    return t.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Doc:
    def __init__(self, inv: Inventory) -> None:
        seed = hashlib.sha256(json.dumps(inv.to_dict(), sort_keys=True, default=str).encode()).hexdigest()
        self.ns = f"https://spdx.org/spdxdocs/aitrail-{uuid.UUID(seed[:32])}"
        self.graph: list[dict[str, Any]] = []
        self.ids: dict[str, str] = {}
        self.emitted: set[str] = set()  # spdxIds already in the graph: a graph scan per element was quadratic
        self.n = 0

    def id(self, key: str, kind: str) -> str:
        if key not in self.ids:
            self.n += 1
            slug = re.sub(r"[^A-Za-z0-9.\-]+", "-", key)[:60].strip("-")
            self.ids[key] = f"{self.ns}/{kind}-{self.n}-{slug}"
        return self.ids[key]

    def add(self, el: dict[str, Any]) -> dict[str, Any]:
        el.setdefault("creationInfo", "_:creationinfo")
        self.graph.append(el)
        if "spdxId" in el:
            self.emitted.add(el["spdxId"])
        return el

    def rel(self, src: str, kind: str, to: list[str], comment: str | None = None) -> None:
        el: dict[str, Any] = {
            "type": "Relationship",
            "spdxId": self.id(f"rel:{src}:{kind}:{','.join(to)}", "Rel"),
            "from": src,
            "relationshipType": kind,
            "to": to,
        }
        if comment:
            el["comment"] = comment
        self.add(el)

    def agent(self, name: str, kind: str = "Organization") -> str:
        sid = self.id(f"agent:{kind}:{name}", kind)
        if sid not in self.emitted:
            self.add({"type": kind, "spdxId": sid, "name": name})
        return sid

    def license(self, expr: str) -> str:
        sid = self.id(f"lic:{expr}", "License")
        if sid not in self.emitted:
            self.add(
                {"type": "simplelicensing_LicenseExpression", "spdxId": sid, "simplelicensing_licenseExpression": expr}
            )
        return sid


def _license_expr(c: Component) -> str | None:
    if not c.licenses:
        return None
    exprs = list(dict.fromkeys((lic.spdx or license_ref(lic.name or lic.link or lic.value)) for lic in c.licenses))
    # Several declarations (card, GGUF, LICENSE file) all apply: AND them, as SPDX does for
    # a package whose files carry different licences. Conflicts are the licence analyser's job.
    return exprs[0] if len(exprs) == 1 else " AND ".join(f"({e})" if " " in e else e for e in exprs)


def build(inv: Inventory) -> dict[str, Any]:
    doc = _Doc(inv)
    created = _now()
    tool = doc.agent("aitrail", "SoftwareAgent")
    doc.graph.insert(
        0,
        {
            "type": "CreationInfo",
            "@id": "_:creationinfo",
            "specVersion": "3.0.1",
            "created": created,
            "createdBy": [tool],
            "comment": f"Generated by aitrail {__version__} from a scan of {inv.target}",
        },
    )
    doc.graph[1]["creationInfo"] = "_:creationinfo"
    roots: list[str] = []
    for m in inv.models():
        roots.append(_ai_package(doc, inv, m, created))
    sbom = doc.id("sbom", "Sbom")
    doc.add(
        {
            "type": "software_Sbom",
            "spdxId": sbom,
            "software_sbomType": ["analyzed"],
            "rootElement": roots,
            "element": [e["spdxId"] for e in doc.graph if "spdxId" in e],
        }
    )
    doc.add(
        {
            "type": "SpdxDocument",
            "spdxId": doc.id("document", "Document"),
            "name": f"AI BOM of {inv.target}",
            "profileConformance": ["core", "software", "simpleLicensing", "ai", "dataset"],
            "rootElement": [sbom],
        }
    )
    return {"@context": CONTEXT, "@graph": doc.graph}


def _ai_package(doc: _Doc, inv: Inventory, m: Component, created: str) -> str:
    p = m.properties
    missing = []
    sid = doc.id(m.id, "AIPackage")
    supplier = p.get("supplier") or (p.get("repo_id", "").split("/")[0] if "/" in str(p.get("repo_id", "")) else None)
    if not supplier:
        missing.append("suppliedBy")
    release = p.get("release_time")
    if not release:
        missing.append("releaseTime (this document's creation time is given instead)")
        release = created
    loc = p.get("download_location")
    if not loc:
        missing.append("downloadLocation")
    if not m.version:
        missing.append("packageVersion")
    el: dict[str, Any] = {
        "type": "ai_AIPackage",
        "spdxId": sid,
        "name": m.name,
        "software_packageVersion": m.version or "NOASSERTION",
        "software_downloadLocation": loc or "NOASSERTION",
        "software_primaryPurpose": "model",
        "releaseTime": _datetime(release),
        "suppliedBy": doc.agent(str(supplier)) if supplier else doc.agent("NOASSERTION"),
    }
    if m.purl:
        el["software_packageUrl"] = m.purl
    if m.description:
        el["description"] = m.description[:2000]
    if p.get("architecture"):
        el["ai_typeOfModel"] = [str(p["architecture"])]
    if p.get("task"):
        el["ai_domain"] = [str(p["task"])]
    if p.get("card.limitations") or p.get("limitations"):
        el["ai_limitation"] = str(p.get("limitations") or p["card.limitations"])
    if p.get("card.intended_uses") or p.get("intended_use"):
        el["ai_informationAboutApplication"] = str(p.get("intended_use") or p["card.intended_uses"])
    if p.get("card.training_procedure"):
        el["ai_informationAboutTraining"] = str(p["card.training_procedure"])
    metrics = [
        {
            "type": "DictionaryEntry",
            "key": "/".join(x for x in (r.get("metric"), r.get("dataset"), r.get("split")) if x) or "metric",
            "value": str(r.get("value")),
        }
        for r in (p.get("evaluation_results") or [])[:500]
    ]
    if metrics:
        el["ai_metric"] = metrics
    if missing:
        el["comment"] = (
            "Not declared by the model's artefacts: "
            + "; ".join(missing)
            + ". Supply them in aitrail.yaml (see docs/manifest.md)."
        )
    doc.add(el)
    _licenses(doc, sid, m)
    for key, value in judgements.for_model(inv, m):
        doc.add(
            {
                "type": "Annotation",
                "spdxId": doc.id(f"annotation:{m.id}:{key}", "Annotation"),
                "annotationType": "other",
                "subject": sid,
                "statement": f"aitrail:{key} = {value}",
            }
        )

    files = [c for c in inv.related(m.id, RelationshipKind.CONTAINS) if c.path]
    file_ids = [_file(doc, f) for f in files]
    if file_ids:
        doc.rel(sid, "contains", file_ids)
    for r in inv.outgoing(m.id):
        if r.kind == RelationshipKind.CONTAINS:
            continue
        target = inv.component(r.target)
        if target is None:
            continue
        if target.type == ComponentType.DATASET:
            tid = _dataset(doc, target, created)
        else:
            tid = _package(doc, target)
        comment = "; ".join(
            filter(
                None,
                [
                    f"derivation: {r.derivation}" if r.derivation else None,
                    f"lineage grade: {r.grade}" if r.grade else None,
                    "evidence: " + ", ".join(map(str, r.evidence)) if r.evidence else None,
                ],
            )
        )
        doc.rel(sid, REL[r.kind], [tid], comment or None)
    for r in inv.incoming(m.id, RelationshipKind.CONTAINS):  # the package that carries the model
        src = inv.component(r.source)
        if src:
            doc.rel(_package(doc, src), "contains", [sid])
    return sid


def _licenses(doc: _Doc, sid: str, c: Component) -> None:
    expr = _license_expr(c)
    declared = doc.license(expr) if expr else NOASSERTION_LICENSE
    doc.rel(
        sid,
        "hasDeclaredLicense",
        [declared],
        "; ".join(f"{lic.value} ({lic.evidence})" for lic in c.licenses) or "no licence declared",
    )
    # aitrail does not conclude licences at scan time (that is `aitrail license`'s job).
    doc.rel(sid, "hasConcludedLicense", [NOASSERTION_LICENSE], "not concluded by the scanner")


def _file(doc: _Doc, f: Component) -> str:
    sid = doc.id(f.id, "File")
    el: dict[str, Any] = {
        "type": "software_File",
        "spdxId": sid,
        "name": f.path or f.name,
        "software_primaryPurpose": PURPOSE.get(f.type, "other"),
    }
    if f.sha256:
        el["verifiedUsing"] = [{"type": "Hash", "algorithm": "sha256", "hashValue": f.sha256}]
    if f.format:
        el["comment"] = f"format: {f.format}; size: {f.size} bytes"
        if f.properties.get("security_max_severity"):
            el["comment"] += f"; aitrail security: {f.properties['security_max_severity']}"
    doc.add(el)
    return sid


def _package(doc: _Doc, c: Component) -> str:
    sid = doc.id(c.id, "Package")
    if sid in doc.emitted:
        return sid
    el: dict[str, Any] = {
        "type": "software_Package",
        "spdxId": sid,
        "name": c.name,
        "software_primaryPurpose": "model" if c.type == ComponentType.MODEL else "library",
    }
    if c.version:
        el["software_packageVersion"] = c.version
    if c.purl:
        el["software_packageUrl"] = c.purl
    doc.add(el)
    if c.licenses:
        doc.rel(sid, "hasDeclaredLicense", [doc.license(_license_expr(c) or "NOASSERTION")])
    return sid


def _dataset(doc: _Doc, d: Component, created: str) -> str:
    sid = doc.id(d.id, "Dataset")
    if sid in doc.emitted:
        return sid
    missing = ["releaseTime", "builtTime"]
    url = d.properties.get("url")
    supplier = d.properties.get("supplier")
    if not url:
        missing.append("downloadLocation")
    if not supplier:
        missing.append("originatedBy")
    dtype = d.properties.get("type")
    if not dtype:
        missing.append("datasetType")
    el: dict[str, Any] = {
        "type": "dataset_DatasetPackage",
        "spdxId": sid,
        "name": d.name,
        "software_primaryPurpose": "data",
        "software_downloadLocation": url or "NOASSERTION",
        "originatedBy": [doc.agent(str(supplier)) if supplier else doc.agent("NOASSERTION")],
        "dataset_datasetType": [dtype if dtype in _DATASET_TYPES else "noAssertion"],
        # Dates of a dataset are never visible from a model folder: placeholder = this document's time.
        "releaseTime": created,
        "builtTime": created,
        "comment": "Not declared: " + ", ".join(missing) + " (releaseTime/builtTime given as the document's "
        "creation time). Supply them in aitrail.yaml datasets[].",
    }
    if d.properties.get("digest"):
        el["verifiedUsing"] = [_hash(str(d.properties["digest"]))]
    doc.add(el)
    _licenses(doc, sid, d)
    return sid


_DATASET_TYPES = {
    "audio",
    "categorical",
    "graph",
    "image",
    "noAssertion",
    "numeric",
    "other",
    "sensor",
    "structured",
    "syntactic",
    "text",
    "timeseries",
    "timestamp",
    "video",
}


def _hash(digest: str) -> dict[str, str]:
    alg, _, value = digest.partition(":")
    if not value:
        alg, value = "sha256", digest
    return {"type": "Hash", "algorithm": alg.lower().replace("-", ""), "hashValue": value}


def _datetime(v: Any) -> str:
    s = str(v)
    try:
        t = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        return s
    if t.tzinfo is None:
        t = t.replace(tzinfo=timezone.utc)
    return t.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def conformance(doc: dict[str, Any]) -> list[str]:
    """SPDX 3.0.1 requirements the schema and SHACL leave unchecked; empty when the document meets them."""
    graph = doc.get("@graph", [])
    ids = {e.get("spdxId") for e in graph} | {e.get("@id") for e in graph}
    problems = []
    rels: dict[tuple[str, str], int] = {}
    for e in graph:
        if e.get("type") == "Relationship":
            for t in e.get("to", []):
                if t not in ids and not str(t).startswith("spdx:"):
                    problems.append(f"{e['spdxId']}: 'to' names {t}, which is not in the document")
            if e.get("from") not in ids:
                problems.append(f"{e['spdxId']}: 'from' names {e.get('from')}, which is not in the document")
            rels[(e.get("from"), e.get("relationshipType"))] = (
                rels.get((e.get("from"), e.get("relationshipType")), 0) + 1
            )
        elif e.get("type") != "CreationInfo" and e.get("creationInfo") != "_:creationinfo":
            problems.append(f"{e.get('spdxId')}: no creationInfo")
    for e in graph:
        t = e.get("type")
        required = AI_REQUIRED if t == "ai_AIPackage" else DATASET_REQUIRED if t == "dataset_DatasetPackage" else ()
        for prop in required:
            if not e.get(prop):
                problems.append(f"{e['spdxId']}: {t} requires {prop} (minCount 1)")
        if required:
            for kind in ("hasDeclaredLicense", "hasConcludedLicense"):
                n = rels.get((e["spdxId"], kind), 0)
                if n != 1:
                    problems.append(f"{e['spdxId']}: {t} needs exactly one {kind} relationship, has {n}")
    return problems


def dumps(inv: Inventory, **_: Any) -> str:
    doc = build(inv)
    problems = conformance(doc)
    if problems:
        raise ValueError("aitrail produced a non-conformant SPDX document: " + "; ".join(problems[:5]))
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"
