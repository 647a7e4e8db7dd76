"""Full-text search over names, labels and cards, and the database generation (what cached counts are keyed on).

SQLite: an FTS5 table ``search_fts(name, labels, card)`` whose rowid is the version id. PostgreSQL: a table
``search_docs(version_id, doc tsvector)`` with a GIN index; names and labels weigh A, the card D. Both are
filled here from what is stored and kept in step by triggers on ``versions`` and ``labels``, in the same
transaction as every write, whoever writes. Text is cut at every non-alphanumeric character on both (FTS5's
unicode61 tokenizer; ``search_text()`` before PostgreSQL's 'simple' configuration), lower-cased, accents
kept, no stemming, so one query finds the same versions on both databases.

A later migration that rebuilds ``versions`` or ``labels`` in SQLite batch mode (copy and rename) drops these
triggers: it must create them again (``_SQLITE_TRIGGERS``).

Revision ID: 0004
Revises: 0003
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_LABELS_OF = "(SELECT group_concat(l.name, ' ') FROM labels l WHERE l.version_id = {vid})"
_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER search_versions_ai AFTER INSERT ON versions BEGIN
        INSERT INTO search_fts(rowid, name, labels, card)
        VALUES (new.id, new.name, coalesce({_LABELS_OF.format(vid="new.id")}, ''), coalesce(new.card, ''));
    END""",
    """CREATE TRIGGER search_versions_au AFTER UPDATE OF name, card ON versions BEGIN
        UPDATE search_fts SET name = new.name, card = coalesce(new.card, '') WHERE rowid = new.id;
    END""",
    """CREATE TRIGGER search_versions_ad AFTER DELETE ON versions BEGIN
        DELETE FROM search_fts WHERE rowid = old.id;
    END""",
    f"""CREATE TRIGGER search_labels_ai AFTER INSERT ON labels BEGIN
        UPDATE search_fts SET labels = coalesce({_LABELS_OF.format(vid="new.version_id")}, '')
        WHERE rowid = new.version_id;
    END""",
    f"""CREATE TRIGGER search_labels_ad AFTER DELETE ON labels BEGIN
        UPDATE search_fts SET labels = coalesce({_LABELS_OF.format(vid="old.version_id")}, '')
        WHERE rowid = old.version_id;
    END""",
    f"""CREATE TRIGGER search_labels_au AFTER UPDATE OF name, version_id ON labels BEGIN
        UPDATE search_fts SET labels = coalesce({_LABELS_OF.format(vid="old.version_id")}, '')
        WHERE rowid = old.version_id;
        UPDATE search_fts SET labels = coalesce({_LABELS_OF.format(vid="new.version_id")}, '')
        WHERE rowid = new.version_id;
    END""",
)

_PG_DOC = """setweight(to_tsvector('simple', search_text(v.name || ' ' || coalesce({labels}, ''))), 'A')
    || setweight(to_tsvector('simple', search_text(v.card)), 'D')"""
_PG = (
    """CREATE TABLE search_docs (
        version_id integer PRIMARY KEY REFERENCES versions (id) ON DELETE CASCADE,
        doc tsvector NOT NULL
    )""",
    # the query side (crud/queries.py) cuts the same way: runs of anything but letters and digits
    """CREATE FUNCTION search_text(t text) RETURNS text IMMUTABLE LANGUAGE sql
        AS $$ SELECT regexp_replace(lower(coalesce(t, '')), '[^[:alnum:]]+', ' ', 'g') $$""",
    """CREATE FUNCTION search_refresh(vid integer) RETURNS void LANGUAGE sql AS $$
        INSERT INTO search_docs (version_id, doc)
        SELECT v.id, """
    + _PG_DOC.format(labels="(SELECT string_agg(l.name, ' ' ORDER BY l.id) FROM labels l WHERE l.version_id = v.id)")
    + """
        FROM versions v WHERE v.id = vid
        ON CONFLICT (version_id) DO UPDATE SET doc = excluded.doc
    $$""",
    """CREATE FUNCTION search_versions_trg() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN PERFORM search_refresh(NEW.id); RETURN NULL; END $$""",
    """CREATE FUNCTION search_labels_trg() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP <> 'INSERT' THEN PERFORM search_refresh(OLD.version_id); END IF;
            IF TG_OP <> 'DELETE' THEN PERFORM search_refresh(NEW.version_id); END IF;
            RETURN NULL;
        END $$""",
    """CREATE TRIGGER search_versions AFTER INSERT OR UPDATE OF name, card ON versions
        FOR EACH ROW EXECUTE FUNCTION search_versions_trg()""",
    """CREATE TRIGGER search_labels AFTER INSERT OR UPDATE OR DELETE ON labels
        FOR EACH ROW EXECUTE FUNCTION search_labels_trg()""",
    """INSERT INTO search_docs (version_id, doc) SELECT v.id, """
    + _PG_DOC.format(labels="l.names")
    + """ FROM versions v LEFT JOIN (SELECT version_id, string_agg(name, ' ' ORDER BY id) AS names
        FROM labels GROUP BY version_id) l ON l.version_id = v.id""",
    "CREATE INDEX search_docs_doc ON search_docs USING gin (doc)",
)


def upgrade() -> None:
    op.create_table(
        "registry_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("generation", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    state = sa.table("registry_state", sa.column("id", sa.Integer), sa.column("generation", sa.String))
    op.bulk_insert(state, [{"id": 1, "generation": uuid.uuid4().hex}])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            # diacritics kept, as PostgreSQL's 'simple' configuration keeps them: one answer on both
            "CREATE VIRTUAL TABLE search_fts USING fts5(name, labels, card, tokenize='unicode61 remove_diacritics 0')"
        )
        op.execute(
            "INSERT INTO search_fts(rowid, name, labels, card) SELECT v.id, v.name, "
            f"coalesce({_LABELS_OF.format(vid='v.id')}, ''), coalesce(v.card, '') FROM versions v"
        )
        for ddl in _SQLITE_TRIGGERS:
            op.execute(ddl)
    else:
        for ddl in _PG:
            op.execute(ddl)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("versions_ai", "versions_au", "versions_ad", "labels_ai", "labels_ad", "labels_au"):
            op.execute(f"DROP TRIGGER IF EXISTS search_{name}")
        op.execute("DROP TABLE IF EXISTS search_fts")
    else:
        op.execute("DROP TRIGGER IF EXISTS search_labels ON labels")
        op.execute("DROP TRIGGER IF EXISTS search_versions ON versions")
        for fn in ("search_labels_trg()", "search_versions_trg()", "search_refresh(integer)", "search_text(text)"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}")
        op.execute("DROP TABLE IF EXISTS search_docs")
    op.drop_table("registry_state")
