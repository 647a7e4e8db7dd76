"""Storing an upload: one transaction, idempotent by content, children inserted in batches.

The same request body twice changes nothing (``uploads.sha256``); the same files under a new name
add a label to the existing version; a known name with new bytes is a new version, and the response
says so with the difference (a re-registered hub name becomes visible, not silently merged).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..core.db import Database
from ..models import Bom, Dataset, Event, File, FindingRow, Label, Licence, Lineage, Obligation, Upload, Version
from . import signing
from .boms import spec_version
from .extract import Extracted

SEVERITIES = ("info", "low", "medium", "high", "critical")


def now() -> datetime:
    return datetime.now(timezone.utc)


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


UNKNOWN_KNOWLEDGE = "unknown"


def stamp(document: dict[str, Any] | None) -> str:
    """The knowledge a document was judged with, as the document says (``inventory.tool.knowledge_version``,
    the value ``core.config.knowledge_version()`` gives for the aitrail that wrote it); absent, "unknown",
    which the next re-judge judges again. Never the server's own: an upload written with older knowledge
    stamped current would never be re-judged."""
    tool = ((document or {}).get("inventory") or {}).get("tool") or {}
    k = tool.get("knowledge_version") if isinstance(tool, dict) else None
    return k[:64] if isinstance(k, str) and k else UNKNOWN_KNOWLEDGE


def policy_digest(policy: Any) -> str:
    """What a policy says, as a digest: stored beside each verdict so a re-judge knows which verdicts were
    made under another policy (the server restarted with a stricter ``--policy`` or ``--env-policy``)."""
    import json

    from aitrail import policy as policy_mod

    data = (policy or policy_mod.DEFAULT).data
    return "sha256:" + hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()[:40]


def judge(policy: Any, document: dict[str, Any] | None, kind: str) -> dict[str, Any]:
    """The policy's verdict on a stored document (aitrail.policy, the code ``aitrail check`` uses)."""
    if document is None or kind != "check":
        return {"passed": None, "violations": [], "reason": "a BOM alone is not judged: push the model (aitrail push)"}
    from aitrail import policy as policy_mod

    return policy_mod.evaluate(policy or policy_mod.DEFAULT, document)


class RateLimited(Exception):
    """More uploads from this token than the write rate allows, counted across every worker."""

    def __init__(self, limit: int, window: float) -> None:
        super().__init__(f"at most {limit} uploads per {window:g} s per token (counted across all workers)")


def _rate(s: Session, token_id: int | None, rate: float, burst: int) -> None:
    """The write rate shared by every worker process: at most ``burst`` uploads of new content per
    ``burst / rate`` seconds per token, counted in the database (the uploads table) inside the upload's
    own transaction — no extra write. Only the latest ``burst`` uploads are read, so the check costs the
    same at any size. (Each worker's token bucket, api/deps.py, still smooths bursts in front of it.)"""
    if rate <= 0 or burst <= 0:
        return
    window = max(1.0, burst / rate)
    since = now() - timedelta(seconds=window)
    nth = s.scalar(select(Upload.created_at).order_by(Upload.id.desc()).offset(burst - 1).limit(1))
    if nth is None or _aware(nth) <= since:  # fewer than ``burst`` uploads from anyone in the window: one row read
        return
    recent = select(Upload.token_id, Upload.created_at).order_by(Upload.id.desc()).limit(burst).subquery()
    mine = recent.c.token_id.is_(None) if token_id is None else recent.c.token_id == token_id
    n = s.scalar(select(func.count()).select_from(recent).where(mine, recent.c.created_at > since)) or 0
    if n >= burst:
        raise RateLimited(burst, window)


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)  # SQLite returns the stored UTC time naive


def ingest(
    db: Database,
    ex: Extracted,
    *,
    body_digest: str,
    document: dict[str, Any],
    boms: Sequence[tuple[str, dict[str, Any], str]] = (),
    labels: Sequence[str] = (),
    token_id: int | None = None,
    policy: Any = None,
    rate: tuple[float, int] | None = None,
) -> dict[str, Any]:
    """Store ``ex`` (with the original ``document`` and BOMs as (format, doc, digest)); the response.
    ``rate``: (uploads per second, burst) per token across all workers (RateLimited when exceeded)."""
    # judged before the write transaction: on SQLite the write lock is held only for the inserts
    verdict = judge(policy, document if ex.kind == "check" else None, ex.kind)
    verdict = {**verdict, "policy_digest": policy_digest(policy) if ex.kind == "check" else None}
    for attempt in range(3):
        try:
            with db.write() as s:
                return _store(s, ex, body_digest, document, list(boms), list(labels), token_id, verdict, rate)
        except IntegrityError:  # a concurrent upload of the same content won the race: retry, it now exists
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _store(
    s: Session,
    ex: Extracted,
    body_digest: str,
    document: dict[str, Any],
    boms: list[tuple[str, dict[str, Any], str]],
    labels: list[str],
    token_id: int | None,
    verdict: dict[str, Any],
    rate: tuple[float, int] | None = None,
) -> dict[str, Any]:
    done = s.scalar(select(Upload).where(Upload.sha256 == body_digest))
    if done is not None:
        v = s.get(Version, done.version_id)
        assert v is not None
        return _response(s, v, created=False, duplicate=True, warnings=[], moved=[])
    if rate is not None:
        _rate(s, token_id, *rate)
    identity, identity_kind = ex.identity(body_digest)
    v, identity, identity_kind = _find(s, ex, identity, identity_kind)
    created = v is None
    t = now()
    if v is None:
        worst = max((SEVERITIES.index(f["severity"]) for f in ex.findings if f["severity"] in SEVERITIES), default=-1)
        v = Version(
            identity=identity,
            identity_kind=identity_kind,
            name=ex.name,
            name_key=ex.name.lower(),
            source_kind=ex.kind,
            created_at=t,
            use=ex.use,
            verdict=ex.verdict,
            mof_class=ex.mof_class,
            max_severity=SEVERITIES[worst] if worst >= 0 else None,
            rules_version=ex.rules_version,
            policy_passed=verdict["passed"],
            policy=_stored(verdict),
            policy_digest=verdict.get("policy_digest"),
            knowledge_version=stamp(document if ex.kind == "check" else None),
            card=ex.card,
            document=document,
        )
        s.add(v)
        s.flush()
        _children(s, v.id, ex)
    elif ex.kind == "check" and v.source_kind != "check":
        # the same bytes, now with aitrail's full judgement: the check document replaces a BOM-only record
        _upgrade(s, v, ex, document, verdict)
    elif ex.kind == "check" and (ex.rules_version or 0) > (v.rules_version or 0):
        # the same bytes re-scanned with newer security rules (a stale version pushed again): the newer
        # judgement replaces the older one, and the history says so
        old_rules, old_worst = v.rules_version, v.max_severity
        _upgrade(s, v, ex, document, verdict)
        detail = {"rules_version": {"from": old_rules, "to": ex.rules_version}, "max_severity": old_worst}
        s.add(Event(version_id=v.id, kind="rescanned", detail=detail, created_at=t))
    elif ex.kind == "check":
        _compare(s, v, ex, document, verdict, t)
    all_labels = list(dict.fromkeys([*labels, *ex.labels]))
    moved = _labels(s, v, all_labels, t, created)
    for fmt, bom, dg in boms:
        # A BOM aitrail generated beside a check document (push) differs on every run only by its serial
        # number and time: kept once per format. BOMs uploaded on their own are kept when their bytes differ.
        same = Bom.sha256 == dg if ex.kind != "check" else Bom.format == fmt
        if s.scalar(select(Bom.id).where(Bom.version_id == v.id, Bom.format == fmt, same)) is None:
            s.add(Bom(version_id=v.id, format=fmt, spec_version=spec_version(fmt, bom), sha256=dg, content=bom))
    for sig in ex.signatures:
        if not sig.matches:
            continue
        have = select(Bom.id).where(Bom.version_id == v.id, Bom.format == signing.FORMAT, Bom.sha256 == sig.sha256)
        if s.scalar(have) is None:  # kept as it was uploaded: served as a TEA attestation
            kept = Bom(version_id=v.id, format=signing.FORMAT, spec_version="OMS 1.0", sha256=sig.sha256)
            kept.content = sig.stored()
            s.add(kept)
    s.add(Upload(sha256=body_digest, version_id=v.id, kind=ex.kind, token_id=token_id, created_at=t))
    s.flush()
    out = _response(s, v, created=created, duplicate=False, warnings=ex.warnings, moved=moved)
    if ex.signatures:
        out["signatures"] = [sig.summary() for sig in ex.signatures]
        out["warnings"].extend(
            f"signature {sig.path} not kept and not used as identity: {'; '.join(sig.problems)}"
            for sig in ex.signatures
            if not sig.matches
        )
    return out


def _find(s: Session, ex: Extracted, identity: str, kind: str) -> tuple[Version | None, str, str]:
    """The stored version this upload is, and the identity a new one gets. A signature covering the
    upload makes the OMS root digest the identity; the same root digest over the same file names, or the
    same files without their signature files, find the version stored before (crud/signing.py)."""
    sigs = [sig for sig in ex.signatures if sig.matches]
    candidates: list[tuple[str | None, list[str] | None]]
    if sigs:
        oms_id: str | None = "oms:sha256:" + sigs[0].root_digest
        candidates = [(oms_id, sigs[0].ignores), (identity, None), (signing.unsigned_identity(ex), None)]
    else:
        would_be = signing.would_be_root(ex)
        oms_id = None
        candidates = [("oms:sha256:" + would_be if would_be else None, []), (identity, None)]
    taken = False
    for c, ignores in candidates:
        if c is None:
            continue
        v = s.scalar(select(Version).where(Version.identity == c))
        if v is None:
            continue
        # a root digest hashes the digests, not the names: the same bytes under other names are not the same
        if ignores is not None and not _same_files(s, v.id, ex, ignores):
            taken = taken or c == oms_id
            ex.warnings.append(
                f"version {v.id} has the same signed digests under other file names: this upload is a new version"
            )
            continue
        return v, v.identity, v.identity_kind
    if oms_id and not taken:
        return None, oms_id, "oms"
    return None, identity, kind


def _same_files(s: Session, vid: int, ex: Extracted, ignores: list[str]) -> bool:
    rows = s.execute(select(File.path, File.sha256).where(File.version_id == vid))
    stored = [{"path": p, "sha256": h} for p, h in rows]
    return signing.covered(Extracted(ex.kind, ex.name, files=stored), ignores) == signing.covered(ex, ignores)


RESCAN = "registry.rescan-needed"  # crud/resecure.py's mark: not a judgement an upload carries


def _compare(
    s: Session, v: Version, ex: Extracted, document: dict[str, Any], verdict: dict[str, Any], t: datetime
) -> None:
    """A check upload of a stored version (same identity) whose judgement differs from the stored one is
    never dropped silently: a stricter judgement under the same security rules (a finding the stored one
    lacks, a failing policy, a worse licence verdict) replaces the stored one; a more lenient one is kept
    out, and both are said (event and warning)."""
    from aitrail.analyze.licenses import VERDICTS

    stored = {
        (r, sev, p)
        for r, sev, p in s.execute(
            select(FindingRow.rule, FindingRow.severity, FindingRow.path).where(
                FindingRow.version_id == v.id, FindingRow.rule != RESCAN
            )
        )
    }
    mine = {(f["rule"], f["severity"], f["path"]) for f in ex.findings}
    added, dropped = sorted(mine - stored, key=str), sorted(stored - mine, key=str)

    def rank(x: str | None) -> int:
        return VERDICTS.index(x) if x in VERDICTS else VERDICTS.index("unknown")

    def keys(pol: Any) -> set[str]:
        return {str(x.get("policy_key")) for x in (pol or {}).get("violations") or [] if isinstance(x, dict)}

    mine_keys, stored_keys = keys(verdict), keys(v.policy)
    if v.identity_kind == "oms" and not any(sig.matches for sig in ex.signatures):
        # the signed version's bytes pushed without their signature files: the version keeps its signature,
        # so the upload's "no verified signature" says nothing new about these files
        mine_keys.discard("signatures.required")
        stored_keys.discard("signatures.required")
    policy_worse = bool(mine_keys - stored_keys) or (verdict["passed"] is False and v.policy_passed is None)
    licence_worse = rank(ex.verdict) > rank(v.verdict)
    if not (added or dropped or mine_keys != stored_keys or ex.verdict != v.verdict):
        return
    detail: dict[str, Any] = {
        "findings_added": [list(x) for x in added[:50]],
        "findings_missing": [list(x) for x in dropped[:50]],
        "policy_passed": {"stored": v.policy_passed, "upload": verdict["passed"]},
        "verdict": {"stored": v.verdict, "upload": ex.verdict},
        "rules_version": {"stored": v.rules_version, "upload": ex.rules_version},
    }
    if (added or policy_worse or licence_worse) and ex.rules_version == v.rules_version:
        _upgrade(s, v, ex, document, verdict)
        s.add(Event(version_id=v.id, kind="judgement-replaced", detail=detail, created_at=t))
        ex.warnings.append(
            f"version {v.id} was stored with a more lenient judgement of these files: the upload's replaces it "
            f"({len(added)} finding(s) added, policy passed {detail['policy_passed']['stored']} -> {verdict['passed']})"
        )
    else:
        s.add(Event(version_id=v.id, kind="judgement-differs", detail=detail, created_at=t))
        ex.warnings.append(
            f"version {v.id} is stored with another judgement of these files, kept (the upload's is more lenient or "
            f"made with other security rules): {len(dropped)} stored finding(s) not in the upload, policy passed "
            f"{v.policy_passed} (upload: {verdict['passed']}); push again with the current aitrail to re-scan"
        )


def _children(s: Session, vid: int, ex: Extracted) -> None:
    """Batched inserts (one executemany per table): a 1,000-file BOM is a handful of statements."""
    rows: list[tuple[Any, list[dict[str, Any]]]] = [
        (File, [{"version_id": vid, **f} for f in ex.files]),
        (Dataset, [{"version_id": vid, "key": d["name"].lower(), **d} for d in ex.datasets]),
        (
            Licence,
            [{"version_id": vid, "key": (x["license"] or "").lower() or None, **x} for x in ex.licenses],
        ),
        (Lineage, [{"version_id": vid, "key": x["base"].lower(), **x} for x in ex.lineage]),
        (FindingRow, [{"version_id": vid, "rules_version": ex.rules_version, **f} for f in ex.findings]),
        (Obligation, [{"version_id": vid, **o} for o in ex.obligations]),
    ]
    for table, values in rows:
        if values:
            s.execute(insert(table), values)


def _stored(verdict: dict[str, Any]) -> dict[str, Any]:
    return {k: x for k, x in verdict.items() if k != "policy_digest"}  # kept in its own column


def _upgrade(s: Session, v: Version, ex: Extracted, document: dict[str, Any], verdict: dict[str, Any]) -> None:
    for table in (File, Dataset, Licence, Lineage, FindingRow, Obligation):
        s.execute(delete(table).where(table.version_id == v.id))
    _children(s, v.id, ex)
    v.source_kind, v.document, v.use, v.verdict, v.mof_class = "check", document, ex.use, ex.verdict, ex.mof_class
    v.rules_version, v.policy, v.policy_passed = ex.rules_version, _stored(verdict), verdict["passed"]
    v.policy_digest = verdict.get("policy_digest")
    v.card = ex.card or v.card
    v.knowledge_version = stamp(document)
    worst = max((SEVERITIES.index(f["severity"]) for f in ex.findings if f["severity"] in SEVERITIES), default=-1)
    v.max_severity = SEVERITIES[worst] if worst >= 0 else None


def _labels(s: Session, v: Version, names: list[str], t: datetime, created: bool) -> list[dict[str, Any]]:
    moved = []
    for name in names:
        key = name.lower()
        others = s.scalars(
            select(Label.version_id).where(Label.key == key, Label.version_id != v.id).order_by(Label.id.desc())
        ).all()
        have = s.scalar(select(Label.id).where(Label.key == key, Label.version_id == v.id))
        if have is None:
            s.add(Label(version_id=v.id, name=name, key=key, created_at=t))
        if others and have is None:
            prev = others[0]
            change = {"label": name, "previous_version": prev, "diff": diff(s, prev, v.id)}
            moved.append(change)
            s.add(Event(version_id=v.id, kind="label-moved", detail=change, created_at=t))
    return moved


def diff(s: Session, old: int, new: int) -> dict[str, Any]:
    """What changed between two versions: files by path, licences, verdict, policy."""
    s.flush()

    def files(vid: int) -> dict[str, str | None]:
        return {p: h for p, h in s.execute(select(File.path, File.sha256).where(File.version_id == vid))}

    def lics(vid: int) -> set[str]:
        return {x for x in s.scalars(select(Licence.license).where(Licence.version_id == vid)) if x}

    a, b = files(old), files(new)
    va, vb = s.get(Version, old), s.get(Version, new)
    out: dict[str, Any] = {
        "files_added": sorted(set(b) - set(a)),
        "files_removed": sorted(set(a) - set(b)),
        "files_changed": sorted(p for p in set(a) & set(b) if a[p] != b[p]),
        "licenses_added": sorted(lics(new) - lics(old)),
        "licenses_removed": sorted(lics(old) - lics(new)),
    }
    if va and vb:
        for col in ("verdict", "policy_passed", "mof_class", "max_severity"):
            if getattr(va, col) != getattr(vb, col):
                out[col] = {"from": getattr(va, col), "to": getattr(vb, col)}
    return out


def _response(
    s: Session, v: Version, *, created: bool, duplicate: bool, warnings: list[str], moved: list[dict[str, Any]]
) -> dict[str, Any]:
    s.flush()
    labels = list(s.scalars(select(Label.name).where(Label.version_id == v.id).order_by(Label.id)))
    out: dict[str, Any] = {
        "version": v.id,
        "identity": v.identity,
        "identity_kind": v.identity_kind,
        "created": created,
        "duplicate": duplicate,
        "labels": labels,
        "policy": v.policy,
        "warnings": list(warnings),
    }
    if moved:
        out["label_moved"] = moved
        out["warnings"].extend(
            f"label {m['label']!r} was on version {m['previous_version']}: these are different bytes" for m in moved
        )
    return out
