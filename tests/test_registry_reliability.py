"""Reliability: concurrent uploads lose nothing, a kill -9 mid-ingest leaves nothing partial, and a
database that goes away gives 503s until it is back."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_registry_support import auth, check_doc, db_url, live_server, make_token, pg_cluster, tiny_model  # noqa: F401

from aitrail.registry.client import RegistryError, request


def _variant(doc: dict, i: int) -> dict:
    """The same document with file digests of its own: a distinct version (identity by content)."""
    d = json.loads(json.dumps(doc))
    for c in d["inventory"]["components"]:
        if c.get("sha256"):
            c["sha256"] = f"{i:08x}" + c["sha256"][8:]
    for f in d["security"]["files"]:
        if f.get("sha256"):
            f["sha256"] = f"{i:08x}" + f["sha256"][8:]
    return d


def test_concurrent_uploads_lose_nothing(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    doc = check_doc(tiny_model(tmp_path / "m"))
    tok = make_token(db_url, "write")
    with live_server(db_url) as (url, _app):
        bodies = [{"document": _variant(doc, i % 24), "labels": [f"org/m{i}"]} for i in range(48)]  # 24 twice each

        def send(body: dict) -> dict:
            return request(url, "POST", "/api/v1/documents", token=tok, body=body)

        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(send, bodies))
        listing = request(url, "GET", "/api/v1/models", params={"limit": "100"})
    assert listing["total"] == 24
    assert len({r["version"] for r in results}) == 24
    labels = {lab for it in listing["items"] for lab in it["labels"]}
    assert {f"org/m{i}" for i in range(48)} <= labels  # every label of every upload kept


KILLER = """
import json, sys
from aitrail.registry.core.db import Database
from aitrail.registry.crud.extract import from_check
from aitrail.registry.crud.ingest import ingest
db = Database(sys.argv[1]); db.migrate()
doc = json.load(open(sys.argv[2]))
i = 0
while True:
    for c in doc["inventory"]["components"]:
        if c.get("sha256"):
            c["sha256"] = f"{i:08x}" + c["sha256"][8:]
    ex = from_check(doc)
    ex.files = ex.files * 200  # a big upload: a long transaction to be killed in
    ingest(db, ex, body_digest=f"{i:064x}", document=doc)
    print(i, flush=True)
    i += 1
"""


def test_kill_9_mid_ingest_leaves_nothing_partial(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    from sqlalchemy import func, select

    from aitrail.registry.core.db import Database
    from aitrail.registry.models import File, Upload, Version

    doc_path = tmp_path / "doc.json"
    doc_path.write_text(json.dumps(check_doc(tiny_model(tmp_path / "m"))))
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLER, db_url, str(doc_path)], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    assert proc.stdout is not None
    for _ in range(3):  # let a few commit, then kill it in the middle of the next one
        assert proc.stdout.readline(), "the ingest loop died"
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    db = Database(db_url)
    with db.read() as s:
        versions = s.scalar(select(func.count()).select_from(Version))
        uploads = s.scalar(select(func.count()).select_from(Upload))
        per = s.execute(select(File.version_id, func.count()).group_by(File.version_id)).all()
    db.dispose()
    assert versions and versions >= 3 and uploads == versions
    assert {n for _v, n in per} == {per[0][1]} and len(per) == versions  # every stored version complete


def test_database_down_gives_503_then_recovers(pg_cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    url = pg_cluster.create_db()
    with live_server(url) as (base, _app):
        assert request(base, "GET", "/api/v1/models")["total"] == 0
        pg_cluster.stop("immediate")
        try:
            with pytest.raises(RegistryError) as e:
                request(base, "GET", "/api/v1/models")
            assert e.value.status == 503
            with pytest.raises(RegistryError) as e:
                request(base, "GET", "/api/v1/health")
            assert e.value.status == 503
        finally:
            pg_cluster.restart()
        assert request(base, "GET", "/api/v1/models")["total"] == 0
        assert request(base, "GET", "/api/v1/health")["status"] == "ok"
