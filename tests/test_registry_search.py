"""Full-text search over names, labels and cards (migration 0004: SQLite FTS5, PostgreSQL tsvector + GIN),
ranked, behind one query function; on SQLite and PostgreSQL alike."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_registry_support import auth, check_doc, db_url, make_client, make_token, pg_cluster, tiny_model  # noqa: F401


@pytest.fixture
def reg(db_url: str):  # noqa: F811
    client = make_client(db_url)
    client.w = auth(make_token(db_url, "write"))  # type: ignore[attr-defined]
    yield client
    client.app.state.registry.db.dispose()  # type: ignore[attr-defined]


def push(reg, path: Path, labels: list[str], card: str | None = None) -> int:  # type: ignore[no-untyped-def]
    body = {"document": check_doc(path), "labels": labels, **({"card": card} if card is not None else {})}
    r = reg.post("/api/v1/documents", json=body, headers=reg.w)
    assert r.status_code == 201, r.text
    return int(r.json()["version"])


def ids(reg, q: str, **extra: str) -> list[int]:  # type: ignore[no-untyped-def]
    r = reg.get("/api/v1/models", params={"q": q, **extra})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return [x["id"] for x in body["items"]]


def test_schema_is_the_models_plus_search(db_url: str) -> None:  # noqa: F811
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect

    from aitrail.registry.core.db import Database
    from aitrail.registry.models import Base, include_name

    db = Database(db_url)
    db.migrate()
    db.migrate()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_name": include_name})
        assert compare_metadata(ctx, Base.metadata) == []
        tables = set(inspect(conn).get_table_names())
        assert ("search_fts" if db.is_sqlite else "search_docs") in tables
    db.dispose()


def test_names_labels_and_cards_ranked(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    in_card = push(reg, tiny_model(tmp_path / "a", size=2), ["acme/alpha"], card="# Alpha\nDetects zebra crossings.")
    in_name = push(reg, tiny_model(tmp_path / "b", size=3), ["acme/zebra-detector"], card="# Detector\nRoads.")
    push(reg, tiny_model(tmp_path / "c", size=4), ["acme/other"], card="# Other\nNothing to see.")
    assert ids(reg, "zebra") == [in_name, in_card]  # a name or label outweighs the card
    assert ids(reg, "ZEBRA") == [in_name, in_card]  # case-insensitive
    assert ids(reg, "zeb") == [in_name, in_card]  # the last token is a prefix
    assert ids(reg, "zebra crossing") == [in_card]  # every word must occur
    assert ids(reg, "zebra-detector") == [in_name]  # a word cut at punctuation is a phrase
    assert ids(reg, "acme/zeb") == [in_name]
    assert ids(reg, "detector zebra") == [in_name]  # in any order, across name and card
    assert ids(reg, "crossings detects") == [in_card]
    assert ids(reg, "zebra", license="apache-2.0") == [in_name, in_card]  # combined with other filters
    assert ids(reg, "zebra", label="acme/alpha") == [in_card]
    assert ids(reg, "zebra", license="mit") == []
    assert ids(reg, "giraffe") == []


def test_case_folds_in_any_script_accents_count(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The same answers on both databases: FTS5's unicode61 (accents kept) and PostgreSQL's 'simple'."""
    v = push(reg, tiny_model(tmp_path / "a", size=2), ["acme/Über-Modell"], card="Ein Café für 日本語 und ΣΟΦΙΑ")
    for q in ("über", "ÜBER", "über-mod", "café", "CAFÉ", "日本語", "σοφια", "für 日本"):
        assert ids(reg, q) == [v], q
    for q in ("uber", "cafe", "sofia"):
        assert ids(reg, q) == [], q


@pytest.mark.parametrize(
    "q", ['"', "*", "!!!", 'zebra" OR "x', "NEAR(zebra", "AND", "zebra AND", "-zebra", "zebra:*", "' OR 1=1 --", "^z"]
)
def test_query_syntax_is_never_interpreted(reg, tmp_path: Path, q: str) -> None:  # type: ignore[no-untyped-def]
    """What users type is words, never the database's query language: no error, no match-everything."""
    push(reg, tiny_model(tmp_path / "a", size=2), ["acme/zebra"], card="# Zebra\nand or near")
    r = reg.get("/api/v1/models", params={"q": q})
    assert r.status_code == 200, r.text
    assert r.json()["total"] <= 1


def test_later_labels_are_searchable(reg, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    model = tiny_model(tmp_path / "a", size=2)
    v = push(reg, model, ["acme/first"])
    assert ids(reg, "okapi") == []
    doc = check_doc(model)
    r = reg.post("/api/v1/documents", json={"document": doc, "labels": ["zoo/okapi-v2"]}, headers=reg.w)
    assert r.status_code in (200, 201) and r.json()["version"] == v  # the same bytes: a new label only
    assert ids(reg, "okapi") == [v] and ids(reg, "first") == [v]


def test_search_follows_updates_and_deletes(db_url: str, tmp_path: Path) -> None:  # noqa: F811
    """Triggers keep the index in step with any write to versions and labels, in the writing transaction."""
    from sqlalchemy import delete, update

    from aitrail.registry.core.db import Database
    from aitrail.registry.crud import queries
    from aitrail.registry.models import Label, Version

    c = make_client(db_url)
    c.w = auth(make_token(db_url, "write"))  # type: ignore[attr-defined]
    v = push(c, tiny_model(tmp_path / "a", size=2), ["acme/quokka"], card="about marsupials")
    db: Database = c.app.state.registry.db

    def found(q: str) -> list[int]:
        with db.read() as s:
            return [x["id"] for x in queries.list_models(s, queries.Filters(q=q), 10)[0]]

    assert found("marsupials") == [v]
    with db.write() as s:
        s.execute(update(Version).where(Version.id == v).values(card="about wombats"))
    assert found("marsupials") == [] and found("wombats") == [v]
    with db.write() as s:
        s.execute(delete(Label).where(Label.version_id == v))
    assert found("quokka") == []
    with db.write() as s:
        s.execute(delete(Version).where(Version.id == v))
    assert found("wombats") == []
    db.dispose()


def test_migration_indexes_what_was_stored_before(db_url: str) -> None:  # noqa: F811
    """Versions stored under 0003 are searchable once 0004 runs; 0004 goes down again cleanly."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text
    from test_registry_support import migrate_to

    from aitrail.registry.core.db import Database
    from aitrail.registry.crud import queries

    db = Database(db_url)
    migrate_to(db, "0003")
    cfg = Config()
    cfg.set_main_option("script_location", "aitrail.registry:migrations")
    with db.write_engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO versions (id, identity, identity_kind, name, name_key, source_kind, created_at,"
                " knowledge_version, card, document) VALUES (7, 'sha256:x', 'files', 'old/pangolin', 'old/pangolin',"
                " 'check', CURRENT_TIMESTAMP, 'k', 'scaly anteater', '{}')"
            )
        )
        conn.execute(
            text("INSERT INTO labels (version_id, name, key, created_at) VALUES (7, 'hub/armadillo', 'hub/armadillo',"
                 " CURRENT_TIMESTAMP)")
        )
    db.migrate()
    for q in ("pangolin", "anteater", "armadillo"):
        with db.read() as s:
            assert [x["id"] for x in queries.list_models(s, queries.Filters(q=q), 10)[0]] == [7], q
    with db.write_engine.connect() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0003")
        conn.commit()
    with db.write_engine.connect() as conn:
        names = conn.dialect.get_table_names(conn)
    assert not [n for n in names if n.startswith("search_") or n == "registry_state"]
    db.dispose()
