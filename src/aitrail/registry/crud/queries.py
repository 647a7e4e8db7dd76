"""The registry's questions: which versions use dataset X / licence Y / base model Z (through the
lineage, transitively) / a file digest / a rule; one version in full; a label's history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone
from typing import Any, Callable

from sqlalchemy import Select, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from ..models import Bom, Dataset, Deployment, Event, File, FindingRow, Label, Licence, Lineage, Version


@dataclass(frozen=True)
class Filters:
    license: str | None = None
    dataset: str | None = None
    base_model: str | None = None
    digest: str | None = None
    rule: str | None = None
    label: str | None = None
    q: str | None = None
    environment: str | None = None
    policy_passed: bool | None = None


def _bases_cte(base: str) -> Any:
    """Every name that derives, through any number of stored hops, from ``base``: a version whose
    lineage names a base joins through its labels, so its own descendants are found too."""
    names = select(literal(base.lower()).label("key")).cte("bases", recursive=True)
    step = (
        select(Label.key).join(Lineage, Lineage.version_id == Label.version_id).join(names, Lineage.key == names.c.key)
    )
    return names.union(step)  # UNION (not ALL): a cycle in the lineage ends the recursion


# A filter: (selectivity rank, table, version-id column name, condition on an alias of the table).
_Filter = tuple[int, Any, str, Callable[[Any], Any]]


def _conditions(f: Filters) -> list[_Filter]:
    out: list[_Filter] = []
    if f.digest:
        d = f.digest.lower().removeprefix("sha256:")
        out.append((0, File, "version_id", lambda t: t.sha256 == d))
    if f.label:
        lab = f.label.lower()
        out.append((1, Label, "version_id", lambda t: t.key == lab))
    if f.base_model:
        bases = _bases_cte(f.base_model)
        out.append((2, Lineage, "version_id", lambda t: t.key.in_(select(bases.c.key))))
    if f.dataset:
        ds = f.dataset.lower()
        out.append((3, Dataset, "version_id", lambda t: t.key == ds))
    if f.rule:
        rule = f.rule
        out.append((4, FindingRow, "version_id", lambda t: t.rule == rule))
    if f.environment:
        env = f.environment
        out.append((5, Deployment, "version_id", lambda t: t.environment == env))
    if f.license:
        lic = f.license.lower()
        out.append((6, Licence, "version_id", lambda t: t.key == lic))
    if f.policy_passed is not None:
        passed = f.policy_passed
        out.append((7, Version, "id", lambda t: t.policy_passed.is_(passed)))
    if f.q:
        like = "%" + f.q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        out.append(
            (
                8,
                Version,
                "id",
                lambda t: or_(
                    t.name_key.like(like, escape="\\"),
                    t.id.in_(select(Label.version_id).where(Label.key.like(like, escape="\\"))),
                    func.lower(t.card).like(like, escape="\\"),
                ),
            )
        )
    return sorted(out, key=lambda x: x[0])


def _ids(f: Filters) -> Select[Any] | None:
    """The ids of versions matching every filter, DISTINCT, as one SELECT: the most selective filter
    drives (read from its (key, version_id) index); every other is an EXISTS probe of its own index
    for each candidate, so a broad filter (a popular licence) is never materialised."""
    conds = _conditions(f)
    if not conds:
        return None
    _rank, table, col, cond = conds[0]
    drv = aliased(table)
    vid = getattr(drv, col)
    probes = []
    for _r, t2, c2, cond2 in conds[1:]:
        other = aliased(t2)
        probes.append(exists().where(getattr(other, c2) == vid, cond2(other)))
    return select(vid.label("id")).where(cond(drv), *probes).distinct()


SUMMARY = (
    "id",
    "name",
    "identity",
    "identity_kind",
    "source_kind",
    "created_at",
    "use",
    "verdict",
    "mof_class",
    "max_severity",
    "policy_passed",
    "knowledge_version",
)


def _summary(row: Any) -> dict[str, Any]:
    d = {c: getattr(row, c) for c in SUMMARY}
    d["source"] = d.pop("source_kind")
    at = d["created_at"]
    d["created_at"] = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).isoformat()
    return d


def summary(s: Session, v: Version) -> dict[str, Any]:
    return _summary(v)


def list_models(s: Session, f: Filters, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    cols = [getattr(Version, c) for c in SUMMARY]  # columns only: never the stored document or card
    ids = _ids(f)
    if ids is None:
        total = s.scalar(select(func.count()).select_from(Version)) or 0
        rows = s.execute(select(*cols).order_by(Version.id.desc()).limit(limit).offset(offset)).all()
    else:
        total = s.scalar(select(func.count()).select_from(ids.subquery())) or 0
        # ordered on the driving column itself: the database walks its index backwards and stops at the page
        id_col = ids.selected_columns[0]
        page = list(s.scalars(ids.order_by(id_col.desc()).limit(limit).offset(offset)))
        rows = s.execute(select(*cols).where(Version.id.in_(page)).order_by(Version.id.desc())).all() if page else []
    labels: dict[int, list[str]] = {}
    if rows:
        for vid, name in s.execute(
            select(Label.version_id, Label.name).where(Label.version_id.in_([r.id for r in rows])).order_by(Label.id)
        ):
            labels.setdefault(vid, []).append(name)
    return [{**_summary(r), "labels": labels.get(r.id, [])} for r in rows], total


def _rows(s: Session, table: Any, vid: int, cols: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {c: getattr(r, c) for c in cols}
        for r in s.scalars(select(table).where(table.version_id == vid).order_by(table.id))
    ]


def detail(s: Session, vid: int) -> dict[str, Any] | None:
    v = s.get(Version, vid)
    if v is None:
        return None
    out = summary(s, v)
    out["labels"] = _rows(s, Label, vid, ("name", "created_at"))
    for lab in out["labels"]:
        lab["created_at"] = lab["created_at"].isoformat()
    out["files"] = _rows(s, File, vid, ("path", "sha256", "size", "format"))
    out["datasets"] = _rows(s, Dataset, vid, ("name", "relation"))
    out["licenses"] = _rows(s, Licence, vid, ("component", "role", "license", "verdict", "evidence"))
    out["lineage"] = _rows(s, Lineage, vid, ("base", "relation", "evidence", "resolver"))
    out["findings"] = _rows(s, FindingRow, vid, ("rule", "severity", "path", "message", "rules_version"))
    out["deployments"] = deployments(s, vid)
    out["policy"] = v.policy
    out["boms"] = [
        {"format": f, "spec_version": sv}
        for f, sv in s.execute(select(Bom.format, Bom.spec_version).where(Bom.version_id == vid))
    ]
    out["events"] = [
        {"kind": e.kind, "detail": e.detail, "at": e.created_at.isoformat()}
        for e in s.scalars(select(Event).where(Event.version_id == vid).order_by(Event.id))
    ]
    doc = v.document if isinstance(v.document, dict) else {}
    out["obligations"] = (doc.get("licenses") or {}).get("obligations", [])
    out["openness"] = doc.get("openness", [])
    out["card"] = v.card
    return out


def deployments(s: Session, vid: int) -> list[dict[str, Any]]:
    cols = (
        "id",
        "environment",
        "service",
        "owner",
        "since",
        "support_status",
        "end_of_life",
        "policy_passed",
        "policy",
    )
    return _rows(s, Deployment, vid, cols)


def history(s: Session, label: str) -> list[dict[str, Any]]:
    """Every version a label was pushed under, oldest first."""
    vids = s.execute(
        select(Label.version_id, Label.created_at)
        .where(Label.key == label.lower())
        .order_by(Label.created_at, Label.id)
    ).all()
    out = []
    for vid, at in vids:
        v = s.get(Version, vid)
        if v is not None:
            out.append({**summary(s, v), "labelled_at": at.isoformat()})
    return out


def resolve(s: Session, model_id: str, revision: str | None = None) -> dict[str, Any] | None:
    """The newest version labelled ``model_id`` (``model_id@revision`` first when a revision is given),
    as resolver facts (licences, bases, datasets)."""
    vid = None
    for key in ([f"{model_id}@{revision}"] if revision else []) + [model_id]:
        q = select(Label.version_id).where(Label.key == key.lower()).order_by(Label.id.desc()).limit(1)
        vid = s.scalar(q)
        if vid is not None:
            break
    if vid is None:
        return None
    v = s.get(Version, vid)
    assert v is not None
    lic = s.scalars(select(Licence).where(Licence.version_id == vid, Licence.role == "model")).all()
    return {
        "model_id": model_id,
        "version": vid,
        "identity": v.identity,
        "licenses": [
            {"value": x.license, "source": x.evidence or "registry", "location": x.component} for x in lic if x.license
        ],
        "bases": _rows(s, Lineage, vid, ("base", "relation", "evidence")),
        "datasets": [d["name"] for d in _rows(s, Dataset, vid, ("name",))],
    }
