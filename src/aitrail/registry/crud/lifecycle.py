"""Lifecycle of stored versions: support status and end-of-life, as ECMA-428 CLE events (what TEA's
``/cle`` endpoints serve) and as a summary for the REST API.

Events the operator declares (end of development, support, life, distribution, marketing) are kept as
``events`` rows (kind ``lifecycle``). Two kinds are derived from what the registry knows: ``released``
(a version first stored, or a name first given to it) and ``supersededBy`` (a name moved to new bytes).
A CLE document numbers its events 1..n in the order they were published (so numbers never change as
events are added) and lists them newest first, as the specification requires.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import Event, Label, Licence, Version
from .ingest import now

DECLARED = ("endOfDevelopment", "endOfSupport", "endOfLife", "endOfDistribution", "endOfMarketing")
KIND = "lifecycle"


class LifecycleError(ValueError):
    """A declared event that cannot be stored (its message names the field)."""


def _utc(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=timezone.utc)


def stamp(d: datetime) -> str:
    return _utc(d).astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_when(value: str) -> datetime:
    """A date (``2027-06-30``, midnight UTC) or an ISO 8601 date-time with a zone."""
    try:
        if len(value) == 10:
            return datetime.combine(date.fromisoformat(value), datetime.min.time(), timezone.utc)
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise LifecycleError(f"effective: {value!r} is not an ISO 8601 date or date-time") from None
    if d.tzinfo is None:
        raise LifecycleError(f"effective: {value!r} has no time zone (add Z for UTC)")
    return d.astimezone(timezone.utc)


def declare(s: Session, v: Version, body: dict[str, Any]) -> dict[str, Any]:
    """Store one declared event for ``v``; the stored event."""
    kind = body.get("type")
    if kind not in DECLARED:
        raise LifecycleError(f"type: one of {', '.join(DECLARED)} (released and supersededBy are derived)")
    when = parse_when(str(body.get("effective") or ""))
    detail: dict[str, Any] = {"type": kind, "effective": stamp(when), "published": stamp(now())}
    for key, limit in (("description", 2000), ("supportId", 100)):
        if body.get(key) is not None:
            if not isinstance(body[key], str) or len(body[key]) > limit:
                raise LifecycleError(f"{key}: text up to {limit} characters")
            detail[key] = body[key]
    refs = body.get("references")
    if refs is not None:
        if not isinstance(refs, list) or len(refs) > 20 or not all(_url(r) for r in refs):
            raise LifecycleError("references: up to 20 http(s) URLs (stored and shown, never fetched)")
        detail["references"] = refs
    s.add(Event(version_id=v.id, kind=KIND, detail=detail, created_at=now()))
    s.flush()
    return detail


def _url(r: Any) -> bool:
    return isinstance(r, str) and len(r) <= 2000 and r.startswith(("https://", "http://"))


def _licence(s: Session, vid: int) -> str | None:
    return s.scalar(select(Licence.license).where(Licence.version_id == vid, Licence.role == "model").limit(1))


def _declared(s: Session, vids: list[int]) -> list[tuple[datetime, int, dict[str, Any]]]:
    rows = s.execute(
        select(Event.created_at, Event.id, Event.detail, Version.identity)
        .join(Version, Version.id == Event.version_id)
        .where(Event.version_id.in_(vids), Event.kind == KIND)
    )
    return [(_utc(t), i, {**d, "versions": [{"version": ident}]}) for t, i, d, ident in rows]


def _released(v: Version, at: datetime, lic: str | None) -> dict[str, Any]:
    e = {"type": "released", "effective": stamp(at), "published": stamp(at), "version": v.identity}
    return {**e, "license": lic} if lic else e


def _document(events: list[tuple[datetime, int, dict[str, Any]]]) -> dict[str, Any]:
    ordered = sorted(events, key=lambda e: (e[0], e[1]))
    numbered = [{"id": n, **e} for n, (_t, _i, e) in enumerate(ordered, 1)]
    return {"events": list(reversed(numbered))}


def for_version(s: Session, v: Version) -> dict[str, Any]:
    """CLE of one version (a TEA component and its one release)."""
    events = [(_utc(v.created_at), 0, _released(v, v.created_at, _licence(s, v.id)))]
    return _document(events + _declared(s, [v.id]))


def _superseded(s: Session, old: Label, new: Label) -> tuple[datetime, int, dict[str, Any]] | None:
    prev, cur = s.get(Version, old.version_id), s.get(Version, new.version_id)
    if prev is None or cur is None:
        return None
    at = new.created_at
    event = {
        "type": "supersededBy",
        "effective": stamp(at),
        "published": stamp(at),
        "versions": [{"version": prev.identity}],
        "supersededByVersion": cur.identity,
        "description": f"{new.name} names other bytes from then on",
    }
    return _utc(at), new.id, event


def for_label(s: Session, lab: Label, product: bool) -> dict[str, Any]:
    """CLE of a name: every version it was given (a TEA product), or one of them (a product release:
    its release, and the version that superseded it, if any)."""
    labs = list(s.scalars(select(Label).where(Label.key == lab.key).order_by(Label.id)))
    mine = [x for x in labs if product or x.id == lab.id]
    events: list[tuple[datetime, int, dict[str, Any]]] = []
    for cur in mine:
        v = s.get(Version, cur.version_id)
        if v is not None:
            events.append((_utc(cur.created_at), cur.id, _released(v, cur.created_at, _licence(s, v.id))))
    for old, new in zip(labs, labs[1:]):
        if product or old.id == lab.id:
            e = _superseded(s, old, new)
            if e is not None:
                events.append(e)
    return _document(events + _declared(s, sorted({x.version_id for x in mine})))


def summary(s: Session, v: Version, at: datetime | None = None) -> dict[str, Any]:
    """Support status now (or ``at``) and the declared dates, for the REST API and the UI."""
    at = at or now()
    declared = sorted(_declared(s, [v.id]), key=lambda e: (e[0], e[1]))
    dates: dict[str, str] = {}
    for _t, _i, e in declared:
        dates[e["type"]] = e["effective"]  # the latest declaration of a kind wins
    status = "supported"
    for kind, name in (
        ("endOfDevelopment", "maintenance"),
        ("endOfSupport", "unsupported"),
        ("endOfLife", "end-of-life"),
    ):
        if kind in dates and parse_when(dates[kind]) <= at:
            status = name
    return {
        "support_status": status,
        "end_of_development": dates.get("endOfDevelopment"),
        "end_of_support": dates.get("endOfSupport"),
        "end_of_life": dates.get("endOfLife"),
        "events": for_version(s, v)["events"],
    }
