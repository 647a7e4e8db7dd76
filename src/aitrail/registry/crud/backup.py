"""Backup and restore (``aitrail registry backup|restore``).

SQLite: the online backup API (a consistent copy while the server runs and writes). PostgreSQL:
``pg_dump --format=custom`` and ``pg_restore --clean``. Backups are written atomically (a temporary
file renamed into place); a restore checks the file's kind first and migrates the schema after.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..core.config import database_url
from ..core.db import Database

SQLITE_MAGIC = b"SQLite format 3\0"
PGDUMP_MAGIC = b"PGDMP"


class BackupError(Exception):
    """A backup or restore could not be done: the message says what and why (nothing was changed)."""


def _sqlite_path(url: str) -> str:
    return unquote(url.split(":///", 1)[1])


def _libpq(url: str) -> str:
    return "postgresql://" + url.split("://", 1)[1]


def _tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise BackupError(f"{name} not found (install PostgreSQL's client tools)")
    return path


def backup(db: str, dest: str | os.PathLike[str]) -> str:
    url = database_url(db)
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.tmp-{os.getpid()}")
    try:
        if url.startswith("sqlite"):
            src = sqlite3.connect(_sqlite_path(url))
            out = sqlite3.connect(tmp)
            try:
                src.backup(out)
            finally:
                out.close()
                src.close()
            kind = "sqlite"
        elif url.startswith("postgresql"):
            r = subprocess.run(
                [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(tmp), _libpq(url)],
                capture_output=True,
                text=True,
                timeout=3600,
            )
            if r.returncode:
                raise BackupError(f"pg_dump failed: {r.stderr.strip()[-500:]}")
            kind = "postgresql"
        else:
            raise BackupError(f"{urlsplit(url).scheme}: backups are made for SQLite and PostgreSQL only")
        os.replace(tmp, dest)
    except (OSError, sqlite3.Error) as e:
        raise BackupError(f"backup to {dest}: {e}") from None
    finally:
        tmp.unlink(missing_ok=True)
    return kind


def restore(src: str | os.PathLike[str], db: str) -> str:
    url = database_url(db)
    src = Path(src)
    try:
        with open(src, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise BackupError(f"{src}: {e.strerror}") from None
    if url.startswith("sqlite"):
        if head != SQLITE_MAGIC:
            raise BackupError(f"{src}: not a SQLite backup (a PostgreSQL dump restores into PostgreSQL only)")
        try:
            back = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
            target = sqlite3.connect(_sqlite_path(url))
            try:
                back.backup(target)  # page by page into the live file: readers see the old or the new database
            finally:
                target.close()
                back.close()
        except sqlite3.Error as e:
            raise BackupError(f"restore into {url}: {e}") from None
    elif url.startswith("postgresql"):
        if not head.startswith(PGDUMP_MAGIC):
            raise BackupError(f"{src}: not a pg_dump custom-format file")
        r = subprocess.run(
            [
                _tool("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "-d",
                _libpq(url),
                str(src),
            ],
            capture_output=True,
            text=True,
            timeout=3600,
        )
        if r.returncode:
            raise BackupError(f"pg_restore failed: {r.stderr.strip()[-500:]}")
    else:
        raise BackupError(f"{urlsplit(url).scheme}: restores are made for SQLite and PostgreSQL only")
    d = Database(db)
    d.migrate()  # a backup from an older aitrail gets this version's schema
    d.dispose()
    return "sqlite" if url.startswith("sqlite") else "postgresql"
