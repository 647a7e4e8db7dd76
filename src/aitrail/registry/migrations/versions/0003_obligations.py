"""Obligations per version (for "obligations across the inventory"), filled from the stored documents.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "obligations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("license", sa.String(length=300), nullable=False),
        sa.Column("term", sa.String(length=120), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("clause", sa.String(length=120), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.create_index("ix_obligations_license_version", ["license", "version_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_obligations_version_id"), ["version_id"], unique=False)
    _backfill()


def _backfill() -> None:
    """Versions stored before this revision: their documents' obligations, one row each (frozen copy of
    the rule in crud/extract.obligations, as a migration must not change when the code does)."""
    bind = op.get_bind()
    versions = sa.table("versions", sa.column("id", sa.Integer), sa.column("document", sa.JSON))
    cols = ("license", "term", "kind", "clause")
    table = sa.table(
        "obligations",
        sa.column("version_id", sa.Integer),
        *(sa.column(c, sa.String) for c in cols),
        sa.column("text", sa.Text),
        sa.column("source", sa.Text),
    )
    for vid, doc in bind.execute(sa.select(versions.c.id, versions.c.document)).all():
        lic = (doc or {}).get("licenses") if isinstance(doc, dict) else None
        rows: dict[tuple, dict] = {}
        for o in (lic or {}).get("obligations") or []:
            if isinstance(o, dict) and o.get("text") and o.get("license"):
                row = {c: (str(o[c])[:300] if o.get(c) is not None else None) for c in cols}
                row.update(text=str(o["text"]), source=str(o["source"]) if o.get("source") else None)
                rows.setdefault(tuple(row.values()), {"version_id": vid, **row})
        if rows:
            bind.execute(sa.insert(table), list(rows.values()))


def downgrade() -> None:
    with op.batch_alter_table("obligations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_obligations_version_id"))
        batch_op.drop_index("ix_obligations_license_version")

    op.drop_table("obligations")
