"""Fixtures for the registry tests: a throwaway PostgreSQL cluster and a database per test, on SQLite
and PostgreSQL alike (``db_url`` is parametrised over both).

PostgreSQL comes from PATH or /usr/lib/postgresql/*/bin, runs in a temp dir on a free port, as the
``postgres`` user when we are root (initdb refuses root). Without it the PostgreSQL cases skip, or
fail when AITRAIL_REQUIRE_POSTGRES=1 (CI sets it: a skipped backend proves nothing).
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import STANDARDS

_COUNTER = itertools.count()
SPDX_SCHEMA = STANDARDS / "spdx3-model-3.0.1" / "spdx-json-schema.json"
# the official SPDX 3.0.1 JSON schema, read from shared/ (the server's --spdx-schema / $AITRAIL_SPDX_SCHEMA)
os.environ.setdefault("AITRAIL_SPDX_SCHEMA", str(SPDX_SCHEMA))


def _pg_bin() -> Path | None:
    found = shutil.which("pg_ctl")
    if found and shutil.which("initdb"):
        # Debian's /usr/bin wrappers need a cluster config; the real binaries sit beside postgres
        real = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        return Path(real[-1]).parent if real else Path(found).parent
    real = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(real[-1]).parent if real else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _unavailable(why: str) -> None:
    if os.environ.get("AITRAIL_REQUIRE_POSTGRES") == "1":
        pytest.fail(f"PostgreSQL is required (AITRAIL_REQUIRE_POSTGRES=1) but {why}")
    pytest.skip(f"PostgreSQL not available: {why}")


class PgCluster:
    def __init__(self, bindir: Path, root: Path) -> None:
        self.bindir, self.root, self.port = bindir, root, _free_port()
        self.data = root / "data"
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=120)

    def start(self) -> None:
        if self.as_user:
            shutil.chown(self.root, "postgres")
        r = self._run(
            str(self.bindir / "initdb"), "-D", str(self.data), "-U", "aitrail", "-A", "trust", "--no-sync", "-E", "UTF8"
        )
        if r.returncode:
            raise RuntimeError(f"initdb failed: {r.stderr.strip()[-500:]}")
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        r = self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start"
        )
        if r.returncode:
            log = (self.root / "log").read_text(errors="replace")[-800:] if (self.root / "log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {r.stderr.strip()[-300:]} {log}")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"), "-w", "start"
        )

    def url(self, db: str = "postgres") -> str:
        return f"postgresql://aitrail@127.0.0.1:{self.port}/{db}"

    def create_db(self) -> str:
        import psycopg

        name = f"t{os.getpid()}_{next(_COUNTER)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    bindir = _pg_bin()
    if bindir is None:
        _unavailable("no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin")
        return
    root = Path(tempfile.mkdtemp(prefix="aitrail-pg-"))
    os.chmod(root, 0o755)
    cluster = PgCluster(bindir, root)
    try:
        cluster.start()
    except (RuntimeError, OSError, subprocess.SubprocessError) as e:
        shutil.rmtree(root, ignore_errors=True)
        _unavailable(str(e))
        return
    yield cluster
    cluster.stop("immediate")
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "registry.db")
    cluster: PgCluster = request.getfixturevalue("pg_cluster")
    return cluster.create_db()


def make_client(url: str, **settings: object):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    from aitrail.registry.api.main import create_app
    from aitrail.registry.core.config import Settings

    return TestClient(create_app(Settings(db_url=url, **settings)))  # type: ignore[arg-type]


def make_token(url: str, scope: str) -> str:
    from aitrail.registry.crud.tokens import create

    return create(url, scope, name=f"test-{scope}")


def tiny_model(
    d: Path,
    *,
    license: str = "apache-2.0",
    base: str | None = None,
    datasets: tuple[str, ...] = (),
    size: int = 3,
    card_body: str = "# tiny\n",
) -> Path:
    """A small real model folder: safetensors written by the safetensors library, a card with front matter."""
    from builders import safetensors_file

    d.mkdir(parents=True, exist_ok=True)
    safetensors_file(d / "model.safetensors", {"w": ("float32", [size, 2])})
    front = [f"license: {license}"]
    if base:
        front.append(f"base_model: {base}")
    if datasets:
        front.append("datasets:\n" + "".join(f"- {x}\n" for x in datasets).rstrip())
    (d / "README.md").write_text("---\n" + "\n".join(front) + "\n---\n" + card_body)
    return d


def check_doc(path: Path) -> dict:
    from aitrail.check import check

    return check(path).to_dict()


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@contextmanager
def live_server(url: str, **settings: object) -> Iterator[tuple[str, object]]:
    """The registry under uvicorn on a free loopback port, in a thread (for clients that use real HTTP)."""
    import threading
    import time

    import uvicorn

    from aitrail.registry.api.main import create_app
    from aitrail.registry.core.config import Settings

    app = create_app(Settings(db_url=url, **settings))  # type: ignore[arg-type]
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the registry server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app
    finally:
        server.should_exit = True
        thread.join(15)
        app.state.registry.db.dispose()


def migrate_to(db: object, revision: str) -> None:
    """Bring ``db`` (a registry Database) to one migration: a database as an older server left it."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", "aitrail.registry:migrations")
    with db.write_engine.connect() as conn:  # type: ignore[attr-defined]
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
