"""The list query's fast path (statements compiled once, run as SQL strings; totals cached per database
generation; keyset pages) gives exactly what a plain Python evaluation of the stored rows gives, and
what SQLAlchemy's own execution of the same statements gives, on a registry generated from the real hub
metadata (shared/data/hub-metadata: ids, licence and dataset tags, cards, lineage chains). SQLite and
PostgreSQL alike."""

from __future__ import annotations

import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import ROOT
from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401

sys.path.insert(0, str(ROOT / "benchmarks"))

HUB_ROOT = "meta-llama/Meta-Llama-3-8B-Instruct"  # a lineage hub: chains of several hops below it


@pytest.fixture(scope="module")
def hub() -> tuple[list[dict], dict[str, str]]:
    """700 models of the 2022 snapshot (licences, datasets, cards) and every model below HUB_ROOT."""
    import registry_bench

    rows, parents = registry_bench.hub_rows()
    by_id = {r["id"]: r for r in rows}
    kids: dict[str, list[str]] = defaultdict(list)
    for child, parent in parents.items():
        kids[parent.lower()].append(child)
    below, i = [HUB_ROOT], 0
    while i < len(below):
        below += [k for k in kids[below[i].lower()] if k not in below]
        i += 1
    picked = rows[:700] + [by_id[m] for m in below if m in by_id and m not in {r["id"] for r in rows[:700]}]
    return picked, parents


@pytest.fixture
def generated(db_url: str, hub) -> str:  # type: ignore[no-untyped-def]  # noqa: F811
    import registry_bench

    registry_bench.generate(db_url, len(hub[0]), 3, hub=hub, quiet=True)
    return db_url


def _naive(db) -> dict:  # type: ignore[no-untyped-def]
    """Every stored row, read plainly: what each filter must match, computed in Python."""
    from sqlalchemy import text

    with db.read() as s:
        c = s.connection()
        t = {
            "versions": c.execute(text("SELECT id, name, card, policy_passed FROM versions")).all(),
            "labels": c.execute(text("SELECT version_id, name, key FROM labels")).all(),
            "licenses": c.execute(text("SELECT version_id, key FROM licenses")).all(),
            "datasets": c.execute(text("SELECT version_id, key FROM datasets")).all(),
            "lineage": c.execute(text("SELECT version_id, key FROM lineage")).all(),
            "files": c.execute(text("SELECT version_id, sha256 FROM files")).all(),
        }
    return t


def _expect(t: dict, **f: str) -> set[int]:
    ids = {v.id for v in t["versions"]}
    for k, val in f.items():
        if k == "license":
            ids &= {r.version_id for r in t["licenses"] if r.key == val.lower()}
        elif k == "dataset":
            ids &= {r.version_id for r in t["datasets"] if r.key == val.lower()}
        elif k == "label":
            ids &= {r.version_id for r in t["labels"] if r.key == val.lower()}
        elif k == "digest":
            ids &= {r.version_id for r in t["files"] if r.sha256 == val}
        elif k == "base_model":
            names, grew = {val.lower()}, True
            while grew:  # the transitive closure through labels, to a fixpoint
                vids = {r.version_id for r in t["lineage"] if r.key in names}
                more = {r.key for r in t["labels"] if r.version_id in vids} - names
                names |= more
                grew = bool(more)
            ids &= {r.version_id for r in t["lineage"] if r.key in names}
        elif k == "q":  # single tokens: a prefix of a token of the name, a label or the card
            labels = defaultdict(list)
            for r in t["labels"]:
                labels[r.version_id].append(r.name)
            words = val.lower().split()
            hit = set()
            for v in t["versions"]:
                toks = re.findall(r"[^\W_]+", " ".join([v.name, *labels[v.id], v.card or ""]).lower())
                if all(any(tok.startswith(w) for tok in toks) for w in words):
                    hit.add(v.id)
            ids &= hit
        elif k == "policy_passed":
            ids &= {v.id for v in t["versions"] if v.policy_passed is not None and bool(v.policy_passed) == val}
    return ids


CASES = [
    {},
    {"license": "apache-2.0"},
    {"license": "MIT"},
    {"dataset": "glue"},
    {"base_model": HUB_ROOT},
    {"base_model": HUB_ROOT, "license": "apache-2.0"},
    {"license": "apache-2.0", "policy_passed": True},
    {"license": "apache-2.0", "dataset": "glue"},
    {"q": "sentiment"},
    {"q": "bert base"},
    {"q": "llama", "base_model": HUB_ROOT},
    {"q": "german", "license": "mit"},
    {"label": "none/such"},
]


def _all_pages(db, f, page: int, **kw) -> tuple[list[dict], int]:  # type: ignore[no-untyped-def]
    from aitrail.registry.crud import queries

    out, offset, total = [], 0, -1
    while True:
        with db.read() as s:
            items, total = queries.list_models(s, f, page, offset, **kw)
        out += items
        if len(items) < page:
            return out, total
        offset += page


def test_fast_path_equals_python_and_sqlalchemy(generated: str) -> None:
    from aitrail.registry.core.db import Database
    from aitrail.registry.crud import queries

    db = Database(generated)
    t = _naive(db)
    with db.read() as s:
        sample = s.connection().exec_driver_sql("SELECT sha256 FROM files ORDER BY id LIMIT 1 OFFSET 700").scalar()
        label = s.connection().exec_driver_sql("SELECT name FROM labels ORDER BY id LIMIT 1 OFFSET 300").scalar()
    cases = [*CASES, {"digest": sample}, {"label": label.upper()}, {"digest": "sha256:" + sample, "license": "mit"}]
    seen_nonempty = 0
    for case in cases:
        f = queries.Filters(**case)
        want = _expect(t, **case)
        fast, total = _all_pages(db, f, 97)
        assert total == len(want) == len(fast), case
        assert {x["id"] for x in fast} == want, case
        if "q" not in case:
            assert [x["id"] for x in fast] == sorted(want, reverse=True), case  # newest first
        ref, ref_total = _all_pages(db, f, 97, reference=True)
        assert fast == ref and total == ref_total, case  # the same rows, values and order, field by field
        seen_nonempty += bool(want)
    assert seen_nonempty >= 12  # the cases are not vacuous on this data
    db.dispose()


def test_keyset_pages_equal_offset_pages(generated: str) -> None:
    from aitrail.registry.core.db import Database
    from aitrail.registry.crud import queries

    db = Database(generated)
    for case in ({}, {"license": "apache-2.0"}, {"base_model": HUB_ROOT}):
        f = queries.Filters(**case)  # type: ignore[arg-type]
        whole, total = _all_pages(db, f, 500)
        keyed, after = [], None
        while True:
            with db.read() as s:
                items, t2 = queries.list_models(s, f, 41, after=after)
            assert t2 == total
            keyed += items
            if len(items) < 41:
                break
            after = items[-1]["id"]
        assert keyed == whole and len(whole) == total > 0, case
    db.dispose()


def _push(c, w, path: Path, labels: list[str]) -> dict:  # type: ignore[no-untyped-def]
    r = c.post("/api/v1/documents", json={"document": check_doc(path), "labels": labels}, headers=w)
    assert r.status_code == 201, r.text
    return r.json()


def test_cached_totals_follow_every_write_across_workers(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """Two apps on one database stand for two workers (each reads the generation from the database)."""
    from sqlalchemy import text

    from aitrail.registry.crud import queries

    a, b = make_client(db_url), make_client(db_url)
    w = auth(make_token(db_url, "write"))
    _push(a, w, tiny_model(tmp_path / "m1", license="mit", size=2), ["org/one"])
    assert a.get("/api/v1/models", params={"license": "mit"}).json()["total"] == 1
    db = a.app.state.registry.db
    with db.read() as s:
        g1 = queries.generation(s.connection())
    _push(b, w, tiny_model(tmp_path / "m2", license="mit", size=3), ["org/two"])  # the other worker writes
    with db.read() as s:
        assert queries.generation(s.connection()) != g1  # bumped in the write's own transaction
    body = a.get("/api/v1/models", params={"license": "mit"}).json()
    assert body["total"] == 2 and len(body["items"]) == 2
    # the cache is really used: a row written behind Database.write's back (no new generation) leaves the
    # cached total as it was, while the page itself is read afresh
    isc = text("INSERT INTO licenses (version_id, component, role, license, key) VALUES (:v, 'c', 'x', 'ISC', 'isc')")
    with db.write_engine.begin() as conn:
        vid = conn.execute(text("SELECT min(id) FROM versions")).scalar()
        conn.execute(isc, {"v": vid})
    assert a.get("/api/v1/models", params={"license": "isc"}).json()["total"] == 1  # never counted: counted now
    with db.write_engine.begin() as conn:
        conn.execute(isc, {"v": vid + 1})
    stale = a.get("/api/v1/models", params={"license": "isc"}).json()
    assert stale["total"] == 1 and len(stale["items"]) == 2
    with db.write() as s:  # any write through the registry's own path makes the next answer exact
        pass
    assert a.get("/api/v1/models", params={"license": "isc"}).json()["total"] == 2
    # without the generation's row (deleted by hand) nothing is served from the cache
    with db.write_engine.begin() as conn:
        conn.execute(text("DELETE FROM registry_state"))
        conn.execute(text("DELETE FROM licenses WHERE key = 'isc' AND version_id = :v"), {"v": vid + 1})
    assert a.get("/api/v1/models", params={"license": "isc"}).json()["total"] == 1
    with db.write_engine.begin() as conn:
        conn.execute(isc, {"v": vid + 1})
    assert a.get("/api/v1/models", params={"license": "isc"}).json()["total"] == 2
    for c in (a, b):
        c.app.state.registry.db.dispose()


def test_after_parameter_and_its_limits(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    c = make_client(db_url)
    w = auth(make_token(db_url, "write"))
    ids = [_push(c, w, tiny_model(tmp_path / f"m{i}", size=i + 2), [f"org/m{i}"])["version"] for i in range(4)]
    r = c.get("/api/v1/models", params={"limit": 2, "after": ids[2]}).json()
    assert [x["id"] for x in r["items"]] == [ids[1], ids[0]] and r["total"] == 4
    r = c.get("/api/v1/models", params={"q": "org", "after": ids[2]})
    assert r.status_code == 422 and "offset" in r.json()["detail"]
    c.app.state.registry.db.dispose()
