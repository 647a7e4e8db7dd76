"""The hub index: model id -> licence evidence, bases with relation, datasets, revision, source and date.

One SQLite file (``DIR/index.sqlite``): compact, versioned (``meta.format``), a primary-key lookup well
under a millisecond, and updatable in place. ``build`` re-reads a card only when the row's sha or
lastModified differs from what the index holds; edge lists add bases the cards do not name.
The licence evidence is read by the single-model card reader (``batch.read_card``).
"""

from __future__ import annotations

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


def entry(rec: dict[str, Any]) -> tuple[list[list[str]], list[list[str]], list[str]]:
    """(licences [value, source, location], bases [id, relation, evidence], datasets) of one hub record."""
    from ..model import RelationshipKind
    from . import batch

    mid = rec["id"]
    card = rec.get("card") or ""
    if card.startswith("Error: the path 'README.md' does not exist"):
        card = ""
    found, _meta, _body = batch.read_card(mid, card.lstrip("\ufeff"))
    lics = [[x.value, "card license", str(x.evidence)] for x in found.licenses]
    if not lics:
        lics = [[t, "hub tag license", f"{mid} tags"] for t in rec.get("license_tags") or [] if isinstance(t, str)]
    bases = [
        [r.target.removeprefix("model:"), str(r.derivation or "unknown"), str(r.evidence[0]) if r.evidence else ""]
        for r in found.relationships
        if r.kind == RelationshipKind.DERIVED_FROM
    ]
    datasets = [r.target.removeprefix("dataset:") for r in found.relationships if r.kind == RelationshipKind.TRAINED_ON]
    return lics, bases, datasets


def build(
    paths: Sequence[str | Path], out: Path, edge_files: list[str] | None = None, progress: bool = False
) -> dict[str, Any]:
    """Add or update the index from hub tables (and edge lists); returns counts."""
    from . import inputs, lineage
    from .run import _bar

    t0 = time.monotonic()
    con = open_index(out)
    srcs = inputs.sources(paths)
    judged = unchanged = bad = 0
    bar = _bar(progress, "indexing", "rows")
    now = _now()
    with con:
        for src in srcs:
            sid = con.execute("insert into sources (path, indexed_at) values (?, ?)", (str(src.path), now)).lastrowid
            for _s, first, b in inputs.batches([src]):
                recs = b.to_pylist()
                ids = [r["id"] for r in recs if isinstance(r.get("id"), str)]
                have = {}
                for i in range(0, len(ids), 500):  # SQLite's bound-variable limit
                    chunk = ids[i : i + 500]
                    q = f"select id, sha, last_modified from models where id in ({','.join('?' * len(chunk))})"
                    have.update({r[0]: (r[1], r[2]) for r in con.execute(q, chunk)})
                rows = []
                for n, rec in enumerate(recs):
                    mid = rec.get("id")
                    if rec.get("__error__") or not isinstance(mid, str) or not mid:
                        bad += 1
                        continue
                    if have.get(mid) == (rec.get("sha"), rec.get("last_modified")) and mid in have:
                        unchanged += 1
                        continue
                    try:
                        lics, bases, ds = entry(rec)
                    except (ValueError, RecursionError):  # a record the card reader cannot take: counted
                        bad += 1
                        continue
                    judged += 1
                    rows.append((mid, rec.get("sha"), rec.get("last_modified"), json.dumps(lics), json.dumps(bases),
                                 json.dumps(ds), sid, first + n, now))
                con.executemany("insert or replace into models values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
                if bar is not None:
                    bar.update(len(recs))
        for f in edge_files or []:
            g = lineage.Graph()
            lineage.read_edges(g, f)
            sid = con.execute("insert into sources (path, indexed_at) values (?, ?)", (str(f), now)).lastrowid
            con.executemany(
                "insert or replace into edges values (?, ?, ?, ?, ?)",
                [(g.ids[c], g.ids[p], rel, ev, sid) for c, ps in enumerate(g.parents) for p, rel, ev in ps],
            )
        con.execute("insert or replace into meta values ('updated', ?)", (now,))
    if bar is not None:
        bar.close()
    total = con.execute("select count(*) from models").fetchone()[0]
    con.close()
    return {"models": total, "judged": judged, "unchanged": unchanged, "malformed": bad,
            "seconds": round(time.monotonic() - t0, 3)}
