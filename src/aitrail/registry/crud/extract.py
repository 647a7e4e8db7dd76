"""What the registry keeps of an upload, as plain data: the same shape from an ``aitrail check``
document, a CycloneDX BOM or an SPDX 3 BOM (crud/boms.py), so ingest has one path."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MAX_NAME = 300  # labels, dataset and base names longer than this are cut (and said so)


class UploadError(ValueError):
    """The upload cannot be stored: the message names what is wrong (a 4xx, nothing stored); ``errors``
    lists schema errors as {path, message} (a JSON pointer into the upload) when there are any."""

    def __init__(self, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []


@dataclass
class Extracted:
    kind: str  # check | cyclonedx | spdx
    name: str
    labels: list[str] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)  # path, sha256, size, format
    datasets: list[dict[str, Any]] = field(default_factory=list)  # name, relation
    licenses: list[dict[str, Any]] = field(default_factory=list)  # component, role, license, verdict, evidence
    lineage: list[dict[str, Any]] = field(default_factory=list)  # base, relation, evidence, resolver
    findings: list[dict[str, Any]] = field(default_factory=list)  # rule, severity, path, message
    obligations: list[dict[str, Any]] = field(default_factory=list)  # license, term, kind, text, clause, source
    use: str | None = None
    verdict: str | None = None
    mof_class: int | None = None
    rules_version: int | None = None
    card: str | None = None
    warnings: list[str] = field(default_factory=list)
    signatures: list[Any] = field(default_factory=list)  # crud/signing.Signature, from the upload

    def identity(self, document_digest: str) -> tuple[str, str]:
        """(identity, kind): see :func:`file_identity`; with no file digest at all, the document's own digest."""
        if not any(f.get("sha256") for f in self.files):
            self.warnings.append("no file digests: identified by the document's digest, not by the model's bytes")
            return "document:" + document_digest, "document"
        missing = [f["path"] for f in self.files if not f.get("sha256")]
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            self.warnings.append(
                f"{len(missing)} file(s) without a SHA-256: this upload is the same as another only if those files "
                f"have the same paths and sizes and the upload declares the same licences, datasets and bases: {shown}"
            )
        return file_identity(self.files, facts(self.licenses, self.datasets, self.lineage), document_digest)


def _norm(path: Any) -> str:
    p = str(path or "").replace("\\", "/")
    while p.startswith("./"):
        p = p[2:]
    return p


def facts(licenses: list[dict[str, Any]], datasets: list[dict[str, Any]], lineage: list[dict[str, Any]]) -> list[str]:
    """What an upload declares beside its files (licences, datasets, bases), as sorted lines: a partial identity
    covers them, so two uploads merged by a partial identity never answer with each other's facts."""
    out = {f"license\t{x.get('component')}\t{x.get('role')}\t{x.get('license')}" for x in licenses}
    out |= {f"dataset\t{x.get('name')}\t{x.get('relation')}" for x in datasets}
    out |= {f"base\t{x.get('base')}\t{x.get('relation')}" for x in lineage}
    return sorted(out)


def file_identity(files: list[dict[str, Any]], declared: list[str], salt: str) -> tuple[str, str]:
    """(identity, kind) of an upload's files. Judgements depend on names (a pickle is judged under a pickle
    suffix, remote code under the names auto_map gives), so the identity is over (path, SHA-256) pairs, not
    a set of digests: the same bytes under another file name are another version.

    With every file hashed: ``sha256:`` (kind "files"). With some unhashed, ``partial:sha256:`` over the
    hashed pairs, the unhashed files' (path, size) and the declared facts: two uploads are the same only if
    all of those agree; an unhashed file without a size can never agree (``salt``, the upload's digest, is
    mixed in), so such an upload is always new."""
    lines = []
    partial = False
    for f in files:
        path = _norm(f.get("path"))
        if f.get("sha256"):
            lines.append(f"{path}\t{str(f['sha256']).lower()}")
            continue
        partial = True
        size = f.get("size")
        lines.append(f"{path}\tsize:{size}" if isinstance(size, int) else f"{path}\tunknown:{salt}")
    if partial:
        lines += declared
    h = hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()
    return ("partial:sha256:" + h, "partial") if partial else ("sha256:" + h, "files")


def _short(value: Any, warnings: list[str], what: str) -> str:
    s = str(value)
    if len(s) > MAX_NAME:
        warnings.append(f"{what} longer than {MAX_NAME} characters, cut: {s[:60]!r}…")
        return s[:MAX_NAME]
    return s


@lru_cache(maxsize=1)
def _check_validator() -> Any:
    """schemas/check.schema.json (with the inventory schema it refers to), compiled once: jsonschema_rs
    takes a few milliseconds a document where aitrail.check.validate takes a few hundred under load."""
    import json
    from importlib import resources

    import jsonschema_rs

    root = resources.files("aitrail.schemas")
    check = json.loads(root.joinpath("check.schema.json").read_text("utf-8"))
    inventory = json.loads(root.joinpath("inventory.schema.json").read_text("utf-8"))

    def local(uri: str) -> Any:  # the only reference is to our own inventory schema: never the network
        if uri.rstrip("#") != inventory["$id"]:
            raise ValueError(f"unexpected schema reference {uri}")
        return inventory

    return jsonschema_rs.validator_for(check, retriever=local)


def pointer_errors(errors: Any, limit: int = 5) -> list[dict[str, str]]:
    """jsonschema_rs errors as {path (a JSON pointer), message}, the first ``limit``."""
    out = []
    for e in errors:
        msg = str(e.message)  # a oneOf's message quotes the whole instance: cut
        msg = msg[:300] + "…" if len(msg) > 300 else msg
        out.append({"path": "/" + "/".join(map(str, e.instance_path)), "message": msg})
        if len(out) >= limit:
            break
    return out


def describe(errors: list[dict[str, str]]) -> str:
    return "; ".join(f"{e['path']}: {e['message']}" for e in errors)


def _check_errors(doc: Any) -> list[dict[str, str]]:
    return pointer_errors(_check_validator().iter_errors(doc))


def obligations(lic: dict[str, Any]) -> list[dict[str, Any]]:
    """The obligations of a licence report, one row each (deduplicated: several components may share one)."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for o in lic.get("obligations") or []:
        if not isinstance(o, dict) or not o.get("text") or not o.get("license"):
            continue
        row = {
            k: (str(o[k])[:MAX_NAME] if o.get(k) is not None else None) for k in ("license", "term", "kind", "clause")
        }
        row["text"], row["source"] = str(o["text"]), (str(o["source"]) if o.get("source") else None)
        rows.setdefault(tuple(row.values()), row)
    return list(rows.values())


def _evidence(e: Any) -> str:
    if not isinstance(e, dict):
        return str(e)
    where = e.get("path") or ""
    return where + (f" [{e['key']}]" if e.get("key") else "") + (f" = {e['value']}" if e.get("value") else "")


def from_check(doc: Any) -> Extracted:
    """Rows from an ``aitrail check --format json`` document (schemas/check.schema.json)."""
    if not isinstance(doc, dict) or "inventory" not in doc or "security" not in doc:
        raise UploadError("not an aitrail check document: 'inventory' and 'security' are required")
    errors = _check_errors(doc)
    if errors:
        raise UploadError("the check document does not match schemas/check.schema.json: " + describe(errors), errors)
    inv = doc["inventory"]
    comps = {c["id"]: c for c in inv["components"]}
    rels = inv.get("relationships", [])
    owners = {r["source"] for r in rels if r["kind"] == "contains"}
    models = [c for c in inv["components"] if c["type"] == "model" and c["id"] in owners]
    if not models:
        models = [c for c in inv["components"] if c["type"] == "model"]
    if not models:
        raise UploadError("the check document names no model component")
    main = models[0]
    w: list[str] = []
    ex = Extracted("check", _short(main["name"], w, "model name"), warnings=w)
    for m in models:
        if "/" in m["name"]:  # a hub-style id names the model; a bare folder name ("model") does not
            ex.labels.append(_short(m["name"], w, "model name"))
        if m.get("purl", "").startswith("pkg:huggingface/"):
            ex.labels.append(_short(m["purl"].split("/", 1)[1].split("@")[0], w, "hub id"))
    ex.files = [
        {"path": c["path"], "sha256": c.get("sha256"), "size": c.get("size"), "format": c.get("format")}
        for c in inv["components"]
        if c.get("path")
    ]
    for r in rels:
        tgt = comps.get(r["target"])
        if tgt is None:
            continue
        if r["kind"] in ("trained-on", "tested-on") and tgt["type"] == "dataset":
            ex.datasets.append({"name": _short(tgt["name"], w, "dataset"), "relation": r["kind"]})
        elif r["kind"] == "derived-from":
            props = tgt.get("properties") or {}
            ev = "; ".join(_evidence(e) for e in (r.get("evidence") or tgt.get("evidence") or [])[:3]) or None
            ex.lineage.append(
                {
                    "base": _short(tgt["name"], w, "base model"),
                    "relation": str(r.get("derivation") or props.get("derivation") or "unknown"),
                    "evidence": ev,
                    "resolver": "aitrail check (the model's folder)",
                }
            )
    lic = doc.get("licenses") or {}
    ex.use, ex.verdict = lic.get("use"), lic.get("verdict")
    for c in lic.get("components", []):
        ex.licenses.append(
            {
                "component": c.get("name") or c.get("component") or "",
                "role": c.get("role") or "",
                "license": c.get("license") or c.get("declared"),
                "verdict": c.get("verdict"),
                "evidence": "; ".join(c.get("evidence") or []) or None,
            }
        )
    ex.obligations = obligations(lic)
    classes = [o["mof"]["class"] for o in doc.get("openness") or [] if isinstance(o.get("mof"), dict)]
    ex.mof_class = classes[0] if classes else None
    sec = doc["security"]
    ex.rules_version = sec.get("rules_version")
    for f in sec.get("files", []):
        for x in f.get("findings", []):
            ex.findings.append(
                {"rule": x["rule"], "severity": x["severity"], "path": f.get("path"), "message": x.get("message", "")}
            )
    ex.card = main.get("description")
    return ex
