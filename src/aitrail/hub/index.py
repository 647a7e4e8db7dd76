"""The hub index: model id -> licence evidence, bases with relation, datasets, revision, source and date.

One SQLite file (``DIR/index.sqlite``): compact, versioned (``meta.format``), a primary-key lookup well
under a millisecond, and updatable in place. ``build`` re-reads a card only when the row's sha or
lastModified differs from what the index holds (a row with neither is always read again: nothing says it is
unchanged); edge lists add bases the cards do not name. Scans,
check documents and BOMs add every model they hold (their ``last_modified`` is the document's digest,
so a changed document is read again). The licence evidence is read by the single-model card reader
(``batch.read_card``) or, for documents, by the document readers (``documents``, ``boms``).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from .. import __version__
from ..errors import InputError

FORMAT = 1
FILE = "index.sqlite"
SCHEMA = """
create table if not exists meta (key text primary key, value text not null) without rowid;
create table if not exists sources (id integer primary key, path text not null, indexed_at text not null);
create table if not exists models (
    id text primary key, sha text, last_modified text, licences text not null, bases text not null,
    datasets text not null, source integer not null, row integer not null, indexed_at text not null
) without rowid;
create table if not exists edges (
    child text not null, parent text not null, relation text not null, evidence text not null,
    source integer not null, primary key (child, parent)
) without rowid;
"""


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def open_index(out: Path) -> sqlite3.Connection:
    out.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(out / FILE)
    con.executescript(SCHEMA)
    fmt = con.execute("select value from meta where key = 'format'").fetchone()
    if fmt is None:
        con.executemany("insert into meta values (?, ?)", [("format", str(FORMAT)), ("created", _now()),
                                                          ("tool", f"aitrail {__version__}")])
    elif fmt[0] != str(FORMAT):
        raise InputError(f"{out / FILE}: hub index format {fmt[0]}, this aitrail reads format {FORMAT}; rebuild it")
    return con


def entry(rec: dict[str, Any]) -> tuple[list[list[str | None]], list[list[str]], list[str]]:
    """(licences [value, source, location, name, link], bases [id, relation, evidence], datasets) of one hub
    record."""
    from ..model import RelationshipKind
    from . import batch

    mid = rec["id"]
    card = rec.get("card") or ""
    if card.startswith("Error: the path 'README.md' does not exist"):
        card = ""
    found, _meta, _body = batch.read_card(mid, card.lstrip("\ufeff"))
    # name and link too: `license: other` + `license_name: llama3` resolves through the index as the card says
    lics = [[x.value, "card license", str(x.evidence), x.name, x.link] for x in found.licenses]
    if not lics:
        lics = [[t, "hub tag license", f"{mid} tags", None, None] for t in rec.get("license_tags") or []
                if isinstance(t, str)]
    bases = [
        [r.target.removeprefix("model:"), str(r.derivation or "unknown"), str(r.evidence[0]) if r.evidence else ""]
        for r in found.relationships
        if r.kind == RelationshipKind.DERIVED_FROM
    ]
    datasets = [r.target.removeprefix("dataset:") for r in found.relationships if r.kind == RelationshipKind.TRAINED_ON]
    return lics, bases, datasets


def _judge(recs: list[dict[str, Any]], source: str) -> list[list[Any] | None]:
    """Index entries of records (runs in a worker): per record None (not readable: counted) or its models
    as [id, sha, last_modified, licences, bases, datasets, row, conditional]."""
    from . import documents

    out: list[list[Any] | None] = []
    for rec in recs:
        try:
            if rec.get("__doc__") is not None:  # a scan, check document or BOM: every model in it
                text = rec["__doc__"]
                digest = "sha256:" + hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:32]
                got = documents.facts(documents.parse(text), source)
                out.append([[mid, sha, digest, json.dumps(lics), json.dumps(bases), json.dumps(ds), rec["row"], True]
                            for mid, sha, lics, bases, ds in got])
                continue
            lics, bases, ds = entry(rec)
        except (ValueError, RecursionError):  # a record the card reader cannot take: counted
            out.append(None)
            continue
        out.append([[rec["id"], rec.get("sha"), rec.get("last_modified"), json.dumps(lics), json.dumps(bases),
                     json.dumps(ds), rec["row"], rec["cond"]]])
    return out


PARALLEL_MIN = 4  # batches: fewer are judged in this process (starting workers costs ~1-2 s of imports)


def _rows(srcs: list[Any]) -> float:
    """About how many rows the inputs hold (Parquet metadata; text tables by size)."""
    n = 0.0
    for s in srcs:
        if s.kind == "parquet":
            import pyarrow.parquet as pq

            n += pq.ParquetFile(s.path).metadata.num_rows
        elif s.kind == "document":
            n += 1
        else:
            n += s.path.stat().st_size / 2048  # a hub record with its card: ~2 KB and more
    return n


class _Done:
    """A job run in this process, with the interface of a pool's AsyncResult."""

    def __init__(self, value: list[list[Any] | None]) -> None:
        self.value = value

    def get(self) -> list[list[Any] | None]:
        return self.value


def build(
    paths: Sequence[str | Path], out: Path, edge_files: list[str] | None = None, progress: bool = False,
    workers: int = 1, batch_rows: int = 2048,
) -> dict[str, Any]:
    """Add or update the index from hub tables, scans, check documents and BOMs (and edge lists); returns
    counts. ``workers`` > 1 judges in that many processes (inputs of more than PARALLEL_MIN batches), with
    the same index as one process.

    Rows are read, checked against the index and written in input order by this process; only judging
    runs in the workers. A row whose id is in a batch still in flight (or that follows a document in
    flight, whose ids are known only once parsed) is judged and compared with the index when its batch
    is written, as one process would have compared it."""
    from collections import Counter, deque

    from . import inputs, lineage
    from .run import _bar

    t0 = time.monotonic()
    con = open_index(out)
    srcs = inputs.sources(paths)
    n = {"judged": 0, "unchanged": 0, "bad": 0}
    bar = _bar(progress, "indexing", "rows")
    now = _now()
    pool = None
    if workers > 1 and _rows(srcs) > PARALLEL_MIN * batch_rows:
        import multiprocessing as mp

        pool = mp.get_context("spawn").Pool(workers)
    pending: Counter[str] = Counter()  # ids of card rows in batches in flight
    docs = {"in_flight": 0}
    window: deque[tuple[Any, Any, list[str], int]] = deque()

    def write(job: Any, sid: Any, ids: list[str], ndocs: int) -> None:
        rows = []
        for got in job.get():
            if got is None:
                n["bad"] += 1
                continue
            for mid, sha, lm, lics, bases, ds, row, cond in got:
                if cond and (sha, lm) != (None, None) and con.execute(
                        "select sha, last_modified from models where id = ?", (mid,)).fetchone() == (sha, lm):
                    n["unchanged"] += 1
                    continue
                n["judged"] += 1
                rows.append((mid, sha, lm, lics, bases, ds, sid, row, now))
        con.executemany("insert or replace into models values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        pending.subtract(ids)
        docs["in_flight"] -= ndocs

    try:
        with con:
            for src in srcs:
                sid = con.execute("insert into sources (path, indexed_at) values (?, ?)",
                                  (str(src.path), now)).lastrowid
                for _s, first, b in inputs.batches([src], batch_rows):
                    recs = b.to_pylist()
                    ids = [r["id"] for r in recs if isinstance(r.get("id"), str)]
                    have = {}
                    for i in range(0, len(ids), 500):  # SQLite's bound-variable limit
                        chunk = ids[i : i + 500]
                        q = f"select id, sha, last_modified from models where id in ({','.join('?' * len(chunk))})"
                        have.update({r[0]: (r[1], r[2]) for r in con.execute(q, chunk)})
                    todo: list[dict[str, Any]] = []
                    flight: list[str] = []
                    ndocs = 0
                    for k, rec in enumerate(recs):
                        mid = rec.get("id")
                        if rec.get("__doc__") is not None and not rec.get("__error__"):
                            todo.append({"__doc__": rec["__doc__"], "row": first + k})
                            ndocs += 1
                            continue
                        if rec.get("__error__") or not isinstance(mid, str) or not mid:
                            n["bad"] += 1
                            continue
                        cond = pending[mid] > 0 or docs["in_flight"] > 0
                        # a row with neither sha nor lastModified cannot be known unchanged: it is read again
                        key = (rec.get("sha"), rec.get("last_modified"))
                        if not cond and key != (None, None) and mid in have and have[mid] == key:
                            n["unchanged"] += 1
                            continue
                        todo.append({"id": mid, "sha": rec.get("sha"), "last_modified": rec.get("last_modified"),
                                     "card": rec.get("card"), "license_tags": rec.get("license_tags"),
                                     "row": first + k, "cond": cond})
                        flight.append(mid)
                    pending.update(flight)
                    docs["in_flight"] += ndocs
                    args = (todo, str(src.path))
                    job = pool.apply_async(_judge, args) if pool else _Done(_judge(*args))
                    window.append((job, sid, flight, ndocs))
                    while window and (pool is None or len(window) >= 2 * workers):
                        write(*window.popleft())
                    if bar is not None:
                        bar.update(len(recs))
            while window:
                write(*window.popleft())
            for f in edge_files or []:
                g = lineage.Graph()
                lineage.read_edges(g, f)
                sid = con.execute("insert into sources (path, indexed_at) values (?, ?)", (str(f), now)).lastrowid
                con.executemany(
                    "insert or replace into edges values (?, ?, ?, ?, ?)",
                    [(g.ids[c], g.ids[p], rel, ev, sid) for c, ps in enumerate(g.parents) for p, rel, ev in ps],
                )
            con.execute("insert or replace into meta values ('updated', ?)", (now,))
    finally:
        if pool is not None:
            pool.terminate()
        if bar is not None:
            bar.close()
    total = con.execute("select count(*) from models").fetchone()[0]
    con.close()
    return {"models": total, "judged": n["judged"], "unchanged": n["unchanged"], "malformed": n["bad"],
            "workers": workers, "seconds": round(time.monotonic() - t0, 3)}
