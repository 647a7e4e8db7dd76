"""The registry's questions: which versions use dataset X / licence Y / base model Z (through the
lineage, transitively) / a file digest / a rule; one version in full; a label's history."""

from __future__ import annotations

import re
import threading
import uuid
from array import array
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable

from sqlalchemy import (
    Boolean,
    Connection,
    Integer,
    Select,
    String,
    bindparam,
    cast,
    column,
    exists,
    func,
    literal_column,
    select,
    table,
)
from sqlalchemy.orm import Session

from ..models import Bom, Dataset, Deployment, Event, File, FindingRow, Label, Licence, Lineage, RegistryState, Version

V, L = Version.__table__, Label.__table__


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


def _bases_cte() -> Any:
    """Every name that derives, through any number of stored hops, from the ``base_model`` parameter: a
    version whose lineage names a base joins through its labels, so its own descendants are found too."""
    lin = Lineage.__table__
    names = select(cast(bindparam("base_model"), String(300)).label("key")).cte("bases", recursive=True)
    step = select(L.c.key).join(lin, lin.c.version_id == L.c.version_id).join(names, lin.c.key == names.c.key)
    return names.union(step)  # UNION (not ALL): a cycle in the lineage ends the recursion


# Full-text search (tables made by migration 0004, kept in step by triggers)
_FTS = table("search_fts", column("rowid"))
_DOCS = table("search_docs", column("version_id"), column("doc"))
_TOKEN = re.compile(r"[^\W_]+")  # what FTS5's unicode61 keeps and search_text() keeps on PostgreSQL


def search_terms(q: str) -> list[list[str]]:
    """A query as words, each the run of tokens it is cut into: "org/mi bert" -> [["org", "mi"], ["bert"]].
    Each word must occur as a phrase, its last token as a prefix; every word must occur."""
    return [t for t in (_TOKEN.findall(w.lower()) for w in q.split()) if t]


def _match(dialect: str, words: list[list[str]]) -> str:
    # tokens are letters and digits only: quoting them is all either query syntax needs
    if dialect == "sqlite":
        return " AND ".join('"' + " ".join(w) + '"*' for w in words)
    return " & ".join("(" + " <-> ".join(w[:-1] + [w[-1] + ":*"]) + ")" for w in words)


def _search(dialect: str) -> tuple[Any, Any, Any, Any]:
    """The dialect's full-text match on the ``match`` parameter: (source, version id column, condition,
    score). Higher scores are better: FTS5's bm25 negated, names and labels weighing 10 to the card's 1;
    PostgreSQL's ts_rank with names and labels weighted A, the card D."""
    if dialect == "sqlite":
        hidden: Any = literal_column("search_fts")  # FTS5 knows its hidden column by the table's own name: no alias
        return _FTS, _FTS.c.rowid, hidden.op("MATCH")(bindparam("match")), -func.bm25(hidden, 10.0, 10.0, 1.0)
    query = func.to_tsquery(literal_column("'simple'::regconfig"), bindparam("match", type_=String))
    return _DOCS, _DOCS.c.version_id, _DOCS.c.doc.op("@@")(query), func.ts_rank(_DOCS.c.doc, query)


# The filters, most selective first: (name, table, version-id column, condition on an alias of the table).
# Each condition reads its value from the parameter of the filter's name (``_values``).
_FILTERS: tuple[tuple[str, Any, str, Callable[[Any], Any]], ...] = (
    ("digest", File.__table__, "version_id", lambda t: t.c.sha256 == bindparam("digest")),
    ("label", L, "version_id", lambda t: t.c.key == bindparam("label")),
    ("base_model", Lineage.__table__, "version_id", lambda t: t.c.key.in_(select(_bases_cte().c.key))),
    ("dataset", Dataset.__table__, "version_id", lambda t: t.c.key == bindparam("dataset")),
    ("rule", FindingRow.__table__, "version_id", lambda t: t.c.rule == bindparam("rule")),
    ("environment", Deployment.__table__, "version_id", lambda t: t.c.environment == bindparam("environment")),
    ("license", Licence.__table__, "version_id", lambda t: t.c.key == bindparam("license")),
    ("policy_passed", V, "id", lambda t: t.c.policy_passed == bindparam("policy_passed", type_=Boolean)),
)
_LOWERED = {"digest", "label", "base_model", "dataset", "license"}  # matched on their lower-cased *_key columns


def _values(f: Filters, dialect: str) -> dict[str, Any] | None:
    """The parameters of ``f``'s filters (None: a text search of punctuation only, which matches nothing)."""
    out: dict[str, Any] = {}
    for name, *_rest in _FILTERS:
        v = getattr(f, name)
        if v is None or v == "":
            continue
        if name in _LOWERED:
            v = v.lower()
        out[name] = v.removeprefix("sha256:") if name == "digest" else v
    if f.q:
        words = search_terms(f.q)
        if not words:
            return None
        out["match"] = _match(dialect, words)
    return out


def _probes(names: list[str], vid: Any) -> list[Any]:
    out = []
    for name, tab, col, cond in _FILTERS:
        if name in names:
            other = tab.alias()
            out.append(exists().where(other.c[col] == vid, cond(other)))
    return out


def _ids(names: list[str], search: bool, dialect: str) -> tuple[Select[Any], Any] | None:
    """The ids of versions matching every named filter, DISTINCT, as one SELECT, and the column to order
    by first (a text search's score): the text search, else the most selective filter, drives (read from
    its (key, version_id) index); every other is an EXISTS probe of its own index for each candidate, so a
    broad filter (a popular licence) is never materialised."""
    if search:
        source, vid, cond, score = _search(dialect)
        q = select(vid.label("id"), score.label("score")).select_from(source).where(cond, *_probes(names, vid))
        return q, q.selected_columns.score
    if not names:
        return None
    first = next(x for x in _FILTERS if x[0] in names)
    _name, tab, col, cond = first
    drv = tab.alias()
    vid = drv.c[col]
    return select(vid.label("id")).where(cond(drv), *_probes(names[1:], vid)).distinct(), None


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
_SUMMARY_COLS = [V.c[c] for c in SUMMARY]  # columns only: never the stored document or card


def _summary(row: Any) -> dict[str, Any]:
    d = dict(zip(SUMMARY, row))
    d["source"] = d.pop("source_kind")
    at = d["created_at"]
    if isinstance(at, str):  # SQLite's text, read without SQLAlchemy's type processing (_Sql)
        at = datetime.fromisoformat(at)
    d["created_at"] = (at if at.tzinfo else at.replace(tzinfo=timezone.utc)).isoformat()
    if d["policy_passed"] is not None:
        d["policy_passed"] = bool(d["policy_passed"])  # SQLite's 0/1, likewise
    return d


def summary(s: Session, v: Version) -> dict[str, Any]:
    return _summary([getattr(v, c) for c in SUMMARY])


class _Sql:
    """A statement compiled once for a dialect and run as its SQL string: a list query's statements have
    a few fixed shapes, and building and keying them anew (SQLAlchemy's compiled cache) cost more CPU
    than the database spent answering. ``reference=True`` runs the same statement through SQLAlchemy."""

    def __init__(self, stmt: Any, dialect: Any) -> None:
        compiled = stmt.compile(dialect=dialect)
        self.stmt, self.sql, self.defaults = stmt, str(compiled), dict(compiled.params)
        self.order = list(compiled.positiontup or ()) if dialect.positional else None

    def run(self, conn: Connection, values: dict[str, Any], reference: bool = False) -> Any:
        p = {k: values.get(k, d) for k, d in self.defaults.items()}
        if reference:
            return conn.execute(self.stmt, p)
        return conn.exec_driver_sql(self.sql, tuple(p[k] for k in self.order) if self.order is not None else p)


@dataclass
class _Shape:
    count: _Sql
    page: _Sql
    listed: _Sql | None = None  # every matching id in order, for LISTED (a text search, a lineage query)


_CACHE: dict[tuple[Any, ...], Any] = {}
_CACHE_LOCK = threading.Lock()


def _cached(key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
    got = _CACHE.get(key)
    if got is None:
        got = build()
        with _CACHE_LOCK:
            _CACHE.setdefault(key, got)
    return got


def _shape(names: tuple[str, ...], search: bool, after: bool, dialect: Any) -> _Shape:
    limit, offset = bindparam("limit_", type_=Integer), bindparam("offset_", type_=Integer)
    built = _ids(list(names), search, dialect.name)
    if built is None:
        page = select(*_SUMMARY_COLS)
        if after:
            page = page.where(V.c.id < bindparam("after", type_=Integer))
        page = page.order_by(V.c.id.desc()).limit(limit).offset(offset)
        return _Shape(_Sql(select(func.count()).select_from(V), dialect), _Sql(page, dialect))
    ids, score = built
    count = select(func.count()).select_from(ids.subquery())
    id_col = ids.selected_columns.id
    if after:
        ids = ids.where(id_col < bindparam("after", type_=Integer))
    # ordered on the driving column itself: the database walks its index backwards and stops at the page
    order = [id_col.desc()] if score is None else [score.desc(), id_col.desc()]
    sub = ids.order_by(*order).limit(limit).offset(offset).subquery("page")
    outer = [V.c.id.desc()] if score is None else [sub.c.score.desc(), V.c.id.desc()]
    page = select(*_SUMMARY_COLS).join_from(V, sub, V.c.id == sub.c.id).order_by(*outer)
    listed = _Sql(ids.order_by(*order), dialect) if score is not None or "base_model" in names else None
    return _Shape(_Sql(count, dialect), _Sql(page, dialect), listed)


def _some(n: int) -> list[Any]:
    return [bindparam(f"v{i}", type_=Integer) for i in range(n)]


def _rows_sql(n: int, dialect: Any) -> _Sql:
    return _Sql(select(*_SUMMARY_COLS).where(V.c.id.in_(_some(n))), dialect)


def _labels_sql(n: int, dialect: Any) -> _Sql:
    return _Sql(select(L.c.version_id, L.c.name).where(L.c.version_id.in_(_some(n))).order_by(L.c.id), dialect)


class _Lru:
    """Answers by (generation, filters), bounded by their total weight: a broad filter (74 k licence
    matches) is counted, a text search ranked and a lineage walked once per state of the data rather than
    on every page. The generation changes with every write, so an entry is never served for other data."""

    def __init__(self, max_weight: int) -> None:
        self.max_weight, self.weight, self.lock = max_weight, 0, threading.Lock()
        self.data: OrderedDict[tuple[str, Filters], tuple[Any, int]] = OrderedDict()

    def get(self, key: tuple[str, Filters]) -> Any:
        with self.lock:
            got = self.data.get(key)
            if got is None:
                return None
            self.data.move_to_end(key)
            return got[0]

    def put(self, key: tuple[str, Filters], value: Any, weight: int = 1) -> None:
        with self.lock:
            old = self.data.pop(key, None)
            self.weight += weight - (old[1] if old else 0)
            self.data[key] = (value, weight)
            while self.weight > self.max_weight and len(self.data) > 1:
                self.weight -= self.data.popitem(last=False)[1][1]


COUNTS = _Lru(4096)  # totals
LISTED = _Lru(2_000_000)  # matching ids in order (4 bytes each: at most ~8 MB in all)
_STATE = RegistryState.__table__


def generation(conn: Connection) -> str:
    """The data's generation; without its row (deleted by hand) a token of its own, so nothing cached is
    ever served for it."""
    sql = _cached(("generation", conn.dialect.name), lambda: _Sql(select(_STATE.c.generation), conn.dialect))
    got = sql.run(conn, {}).scalar()
    return str(got) if got else "unknown-" + uuid.uuid4().hex


def list_models(
    s: Session, f: Filters, limit: int, offset: int = 0, after: int | None = None, *, reference: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """One page of the versions matching ``f`` and how many match in all: newest first, or best first for
    a text search (``q``). ``after`` pages by id (the last id of the previous page; not with ``q``):
    cheap at any depth, where ``offset`` walks past every skipped match. ``reference`` runs the same
    statements through SQLAlchemy's execution and counts afresh (tests compare the two)."""
    conn = s.connection()
    key = (generation(conn), f)  # first read: the snapshot the page and the total come from
    dialect = conn.dialect
    values = _values(f, dialect.name)
    if values is None:
        return [], 0
    names = tuple(n for n, *_r in _FILTERS if n in values)
    search, paged = "match" in values, after is not None
    shape = _cached((dialect.name, names, search, paged), lambda: _shape(names, search, paged, dialect))
    if shape.listed is not None and after is None and not reference:
        # a text search ranks every match (about 1 us each), a lineage query walks the lineage: once per
        # generation, then pages are slices
        listed = LISTED.get(key)
        if listed is None:
            listed = array("i", (r[0] for r in shape.listed.run(conn, values)))
            LISTED.put(key, listed, len(listed) + 1)
        page = listed[offset : offset + limit]
        rows = []
        if page:
            sql = _cached(("rows", dialect.name, len(page)), lambda: _rows_sql(len(page), dialect))
            by_id = {r[0]: r for r in sql.run(conn, {f"v{i}": vid for i, vid in enumerate(page)})}
            rows = [by_id[vid] for vid in page if vid in by_id]
        total = len(listed)
    else:
        counted = None if reference else COUNTS.get(key)
        if counted is None:
            counted = int(shape.count.run(conn, values, reference).scalar() or 0)
            COUNTS.put(key, counted)
        total = counted
        values.update(limit_=limit, offset_=offset, after=after)
        rows = shape.page.run(conn, values, reference).all()
    labels: dict[int, list[str]] = {}
    if rows:
        sql = _cached(("labels", dialect.name, len(rows)), lambda: _labels_sql(len(rows), dialect))
        for vid, name in sql.run(conn, {f"v{i}": r[0] for i, r in enumerate(rows)}, reference):
            labels.setdefault(vid, []).append(name)
    return [{**_summary(r), "labels": labels.get(r[0], [])} for r in rows], total


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
