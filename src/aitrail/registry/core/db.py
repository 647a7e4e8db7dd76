"""Engines, sessions and migrations.

SQLite gets WAL (readers never wait for the writer) and a second engine for writes whose
transactions start with ``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes can
fail at once with "database is locked" when another writer got in between, whatever the busy timeout.
A read session is one snapshot on both databases (SQLite's read transaction; REPEATABLE READ on
PostgreSQL), so a page and its total agree. Every write transaction stores a new random generation
(``registry_state``) before it commits: answers cached under the generation they were computed at
(crud/queries.py) are never served for other data, across workers and after a restore.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event, update
from sqlalchemy.orm import Session, sessionmaker

from ..models import RegistryState
from .config import database_url


def _sqlite_engine(url: str, immediate: bool) -> Engine:
    eng = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, pool_pre_ping=True)

    @event.listens_for(eng, "connect")
    def _connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(eng, "begin")
    def _begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return eng


class Database:
    """One registry database: ``read()`` and ``write()`` give sessions; a write session commits
    everything or nothing (one transaction per upload)."""

    def __init__(self, url: str) -> None:
        self.url = database_url(url)
        self.is_sqlite = self.url.startswith("sqlite")
        if self.is_sqlite:
            self.engine = _sqlite_engine(self.url, immediate=False)
            self.write_engine = _sqlite_engine(self.url, immediate=True)
        else:
            self.engine = create_engine(self.url, pool_pre_ping=True, pool_size=10, max_overflow=10)
            self.write_engine = self.engine
        reads: Any = self.engine
        if not self.is_sqlite:
            reads = self.engine.execution_options(isolation_level="REPEATABLE READ")
        self._read = sessionmaker(reads, expire_on_commit=False)
        self._write = sessionmaker(self.write_engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as s:
            yield s

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._write() as s, s.begin():
            yield s
            s.execute(update(RegistryState).where(RegistryState.id == 1).values(generation=uuid.uuid4().hex))

    def migrate(self) -> None:
        """Bring the schema to the newest migration (Alembic, migrations shipped inside the package)."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", "aitrail.registry:migrations")
        with self.write_engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")
            if conn.in_transaction():
                conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
