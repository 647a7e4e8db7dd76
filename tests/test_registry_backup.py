"""Backup and restore, on SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore)."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401

from aitrail.registry.crud.backup import BackupError, backup, restore


def _names(client) -> list[str]:  # type: ignore[no-untyped-def]
    return sorted(x["name"] for x in client.get("/api/v1/models").json()["items"])


def test_backup_then_restore(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    client = make_client(db_url)
    w = auth(make_token(db_url, "write"))
    for i in range(2):
        d = check_doc(tiny_model(tmp_path / f"m{i}", size=2 + i))
        d["inventory"]["components"][0]["name"] = f"model-{i}"
        client.post("/api/v1/documents", json={"document": d}, headers=w)
    dump = tmp_path / "registry.backup"
    backup(db_url, dump)  # while the app holds connections: an online copy
    late = check_doc(tiny_model(tmp_path / "late", size=9))
    client.post("/api/v1/documents", json={"document": late}, headers=w)
    assert len(_names(client)) == 3
    client.app.state.registry.db.dispose()
    restore(dump, db_url)
    again = make_client(db_url)
    assert _names(again) == ["model-0", "model-1"]
    # the tokens came back too: writes work with the same token
    assert again.post("/api/v1/documents", json={"document": late}, headers=w).status_code == 201
    again.app.state.registry.db.dispose()


def test_restore_refuses_the_wrong_file(tmp_path: Path) -> None:
    bogus = tmp_path / "x.backup"
    bogus.write_bytes(b"PGDMP not really")
    with pytest.raises(BackupError, match="not a SQLite backup"):
        restore(bogus, str(tmp_path / "r.db"))
    with pytest.raises(BackupError, match="missing"):
        restore(tmp_path / "missing", str(tmp_path / "r.db"))


def test_cli_backup(tmp_path: Path) -> None:
    import argparse

    from aitrail.cli import _common
    from aitrail.registry import cli

    p = argparse.ArgumentParser()
    handlers = cli.register(p.add_subparsers(dest="command"), _common)
    db = str(tmp_path / "r.db")
    make_token(db, "read")
    out = tmp_path / "b.db"
    assert handlers["registry"](p.parse_args(["registry", "backup", "-o", str(out), "--db", db])) == 0
    assert out.read_bytes().startswith(b"SQLite format 3\0")
