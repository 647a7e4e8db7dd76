"""Security findings after aitrail's security rules changed (knowledge/security.yaml's rules_version).

The registry keeps no model bytes, so a stored version's findings can be re-derived only from what
was stored: a verdict is per file ("sha256 X at path P, beside these config files, scanned by rules vN"),
so a file whose path, digest and context files another stored document scanned with the current rules
takes that document's findings for it (the same bytes under another name, or beside a config whose
auto_map names them, are judged differently: not a source). A file
the old scan did not judge (no format, no finding, not a name the rules read) stays unjudged. Any
other file cannot be judged again without its bytes: the version keeps its old findings (with their
old rules_version), gains a ``registry.rescan-needed`` finding per such file, and is listed with its
deployments (where, who) — never silently kept as current. Pushing the model again (a check document
with the current rules) replaces them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from ..models import Deployment, Event, File, FindingRow, Version
from .ingest import SEVERITIES, now

RESCAN = "registry.rescan-needed"
RESCAN_SEVERITY = "high"  # a file whose judgement under the current rules is unknown fails closed
CHUNK = 500


def current_rules() -> int:
    from aitrail.analyze import security

    return int(security.rules()["rules_version"])


def _judged(f: dict[str, Any]) -> bool:
    """Whether the old scan judged this file (so new rules may judge it differently)."""
    from aitrail.analyze.security import JUDGED_NAMES

    name = str(f.get("path") or "").rsplit("/", 1)[-1]
    return bool(f.get("format") or f.get("findings") or name in JUDGED_NAMES or name.endswith((".jinja", ".py")))


def _context(doc: dict[str, Any], path: str) -> frozenset[tuple[str, Any]]:
    """The files beside ``path`` whose content decides how the rules judge it: for Python code, the configs
    (an auto_map naming it makes it remote code) and the other code files; none for other files, which are
    judged by their own name and bytes."""
    from aitrail.analyze.security import JUDGED_NAMES

    if not path.endswith(".py"):
        return frozenset()
    folder = path.rpartition("/")[0]
    out = set()
    for c in (doc.get("inventory") or {}).get("components") or []:
        p = c.get("path") if isinstance(c, dict) else None
        if not isinstance(p, str) or p == path:
            continue
        where, _, name = p.rpartition("/")
        if where == folder and (name in JUDGED_NAMES or name.endswith((".jinja", ".py"))):
            out.add((p, c.get("sha256")))
    return frozenset(out)


def _current_scans(
    s: Session, judged: list[dict[str, Any]], rules: int, exclude: int, doc: dict[str, Any]
) -> dict[tuple[str, str], dict[str, Any]]:
    """(path, digest) -> (version, security file entry) from a stored document scanned with ``rules`` that
    holds the same bytes under the same path beside the same context files. A scan of the same digest
    under another name or beside another config is not a scan of this file: a pickle is judged under a
    pickle suffix, a .py file as remote code only when a config's auto_map names it."""
    wanted = {(str(f["path"]), str(f["sha256"])) for f in judged if f.get("sha256") and f.get("path")}
    digests = sorted({d for _, d in wanted})
    found: dict[tuple[str, str], list[int]] = {}
    for i in range(0, len(digests), CHUNK):
        q = (
            select(File.path, File.sha256, File.version_id)
            .join(Version, Version.id == File.version_id)
            .where(
                File.sha256.in_(digests[i : i + CHUNK]),
                Version.rules_version == rules,
                Version.source_kind == "check",
                Version.id != exclude,
            )
            .order_by(File.version_id)
        )
        for path, digest, vid in s.execute(q):
            if (path, str(digest)) in wanted:
                found.setdefault((path, str(digest)), []).append(vid)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    docs: dict[int, dict[str, Any]] = {}
    for key, vids in found.items():
        mine = _context(doc, key[0])
        for vid in vids:
            if vid not in docs:
                docs[vid] = s.scalar(select(Version.document).where(Version.id == vid)) or {}
            other = docs[vid]
            entries = (other.get("security") or {}).get("files") or []
            entry = next((f for f in entries if (f.get("path"), f.get("sha256")) == key), None)
            if entry is not None and _context(other, key[0]) == mine:
                out[key] = {"version": vid, "file": entry}
                break
    return out


def resecure(s: Session, v: Version, rules: int) -> dict[str, Any] | None:
    """Re-derive ``v``'s security findings for ``rules``; what happened (None: nothing to do)."""
    doc = v.document if isinstance(v.document, dict) else {}
    sec = doc.get("security")
    if v.source_kind != "check" or not isinstance(sec, dict) or v.rules_version == rules:
        return None
    files = [f for f in sec.get("files") or [] if isinstance(f, dict)]
    judged = [f for f in files if _judged(f)]
    scans = _current_scans(s, judged, rules, v.id, doc)

    def key(f: dict[str, Any]) -> tuple[str, str]:
        return (str(f.get("path")), str(f.get("sha256")))

    stale = [f for f in judged if not f.get("sha256") or key(f) not in scans]
    before = v.max_severity
    marked = set(s.scalars(select(FindingRow.path).where(FindingRow.version_id == v.id, FindingRow.rule == RESCAN)))
    in_doc = {f.get("path") for f in files if any(x.get("rule") == RESCAN for x in f.get("findings") or [])}
    if stale and marked == in_doc == {f.get("path") for f in stale}:  # already said, nothing new: no second event
        return {"version": v.id, "name": v.name, "security": "rescan-needed", "unchanged": True}
    s.execute(delete(FindingRow).where(FindingRow.version_id == v.id, FindingRow.rule == RESCAN))
    if stale:
        rows = [
            {
                "version_id": v.id,
                "rule": "registry.rescan-needed",  # = RESCAN (spelled out for docs/findings.md)
                "severity": RESCAN_SEVERITY,
                "path": f.get("path"),
                "message": f"scanned with security rules v{sec.get('rules_version')}; rules v{rules} may judge it "
                "differently and no stored document has this file's digest scanned with them: re-scan needed "
                "(aitrail push)",
                "rules_version": rules,
            }
            for f in stale
        ]
        s.execute(insert(FindingRow), rows)
        worst = max(SEVERITIES.index(RESCAN_SEVERITY), SEVERITIES.index(before) if before in SEVERITIES else -1)
        v.max_severity = SEVERITIES[worst]
        # the mark goes into the stored document too: every judge() of it (re-judging, a new deployment's
        # policy) reads the document, and must see the file's judgement as unknown, not as passed
        by_path = {r["path"]: r for r in rows}
        doc = dict(doc)
        doc["security"] = {
            **sec,
            "max_severity": v.max_severity,
            "files": [
                {
                    **f,
                    "findings": [x for x in f.get("findings") or [] if x.get("rule") != RESCAN]
                    + (
                        [
                            {
                                "rule": RESCAN,
                                "severity": RESCAN_SEVERITY,
                                "message": by_path[f.get("path")]["message"],
                                "location": f.get("path"),
                            }
                        ]
                        if f.get("path") in by_path
                        else []
                    ),
                }
                for f in files
            ],
        }
        v.document = doc
        detail = {
            "version": v.id,
            "name": v.name,
            "security": "rescan-needed",
            "rules_version": {"stored": v.rules_version, "current": rules},
            "files": [f.get("path") for f in stale][:100],
            "rederivable": len(judged) - len(stale),
        }
        kind = "security-stale"
    else:
        new_files = []
        judged_ids = {id(f) for f in judged}
        for f in files:
            hit = scans.get(key(f)) if id(f) in judged_ids else None
            new_files.append({**f, "findings": hit["file"]["findings"]} if hit else f)
        findings = [
            {
                "version_id": v.id,
                "rule": x["rule"],
                "severity": x["severity"],
                "path": f.get("path"),
                "message": x.get("message", ""),
                "rules_version": rules,
            }
            for f in new_files
            for x in f.get("findings") or []
        ]
        s.execute(delete(FindingRow).where(FindingRow.version_id == v.id))
        if findings:
            s.execute(insert(FindingRow), findings)
        worst_i = max((SEVERITIES.index(x["severity"]) for x in findings if x["severity"] in SEVERITIES), default=-1)
        v.max_severity = SEVERITIES[worst_i] if worst_i >= 0 else None
        doc = dict(doc)
        doc["security"] = {**sec, "rules_version": rules, "files": new_files, "max_severity": v.max_severity}
        v.document, v.rules_version = doc, rules
        sources = sorted({scans[key(f)]["version"] for f in judged})
        detail = {
            "version": v.id,
            "name": v.name,
            "security": "rederived",
            "rules_version": {"stored": sec.get("rules_version"), "current": rules},
            "from_versions": sources,
        }
        kind = "security-rederived"
    if before != v.max_severity:
        detail["max_severity"] = {"from": before, "to": v.max_severity}
    s.add(Event(version_id=v.id, kind=kind, detail=detail, created_at=now()))
    return detail


def where_and_who(s: Session, vid: int) -> list[dict[str, Any]]:
    rows = s.execute(
        select(Deployment.environment, Deployment.service, Deployment.owner).where(Deployment.version_id == vid)
    )
    return [{"environment": e, "service": sv, "owner": o} for e, sv, o in rows]


def stale_versions(s: Session, limit: int) -> list[dict[str, Any]]:
    """Versions whose security judgement is stale (re-scan needed), with where they run and who owns them."""
    vids = s.scalars(
        select(FindingRow.version_id).where(FindingRow.rule == RESCAN).distinct().order_by(FindingRow.version_id)
    ).all()
    out = []
    for vid in vids[:limit]:
        v = s.get(Version, vid)
        if v is None:
            continue
        files = s.scalars(select(FindingRow.path).where(FindingRow.version_id == vid, FindingRow.rule == RESCAN))
        out.append(
            {
                "id": vid,
                "name": v.name,
                "rules_version": v.rules_version,
                "rescan_files": sorted(p or "" for p in files),
                "deployments": where_and_who(s, vid),
            }
        )
    return out
