"""Identity by (path, digest) pairs: a version's ``identity`` of kind "files" or "partial" was the digest of
the *set* of its file digests, without names (an upload adding a copy of a file under a name the security
rules judge was merged into the old version, its findings dropped). Recomputed here from the stored file
rows with ``crud/extract.file_identity``, as a new upload of the same files computes it, so stored versions
stay found by their bytes. OMS and document identities do not change.

Revision ID: 0005
Revises: 0004
"""

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    from aitrail.registry.crud.extract import facts, file_identity

    conn = op.get_bind()
    versions = sa.table(
        "versions", sa.column("id", sa.Integer), sa.column("identity", sa.String), sa.column("identity_kind", sa.String)
    )
    files = sa.table(
        "files",
        sa.column("version_id", sa.Integer),
        sa.column("path", sa.Text),
        sa.column("sha256", sa.String),
        sa.column("size", sa.BigInteger),
    )
    licences = sa.table(
        "licenses",
        sa.column("version_id", sa.Integer),
        sa.column("component", sa.Text),
        sa.column("role", sa.String),
        sa.column("license", sa.String),
    )
    datasets = sa.table(
        "datasets", sa.column("version_id", sa.Integer), sa.column("name", sa.String), sa.column("relation", sa.String)
    )
    lineage = sa.table(
        "lineage", sa.column("version_id", sa.Integer), sa.column("base", sa.String), sa.column("relation", sa.String)
    )

    def rows(table: sa.TableClause, ids: list[int], *cols: str) -> dict[int, list[dict[str, object]]]:
        out: dict[int, list[dict[str, object]]] = {}
        q = sa.select(table.c.version_id, *(table.c[c] for c in cols)).where(table.c.version_id.in_(ids))
        for r in conn.execute(q):
            out.setdefault(r[0], []).append(dict(zip(cols, r[1:])))
        return out

    last = 0
    while True:
        batch = conn.execute(
            sa.select(versions.c.id, versions.c.identity, versions.c.identity_kind)
            .where(versions.c.id > last, versions.c.identity_kind.in_(("files", "partial")))
            .order_by(versions.c.id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        last = batch[-1][0]
        ids = [b[0] for b in batch]
        fs = rows(files, ids, "path", "sha256", "size")
        ls = rows(licences, ids, "component", "role", "license")
        ds, lg = rows(datasets, ids, "name", "relation"), rows(lineage, ids, "base", "relation")
        updates = []
        for vid, old, _kind in batch:
            if not fs.get(vid):
                continue
            new, kind = file_identity(fs[vid], facts(ls.get(vid, []), ds.get(vid, []), lg.get(vid, [])), old)
            updates.append({"vid": vid, "new": new, "kind": kind})
        if updates:
            conn.execute(
                versions.update()
                .where(versions.c.id == sa.bindparam("vid"))
                .values(identity=sa.bindparam("new"), identity_kind=sa.bindparam("kind")),
                updates,
            )
    state = sa.table("registry_state", sa.column("generation", sa.String))
    conn.execute(state.update().values(generation=uuid.uuid4().hex))


def downgrade() -> None:
    """Nothing to undo in the schema. The identities stay by (path, digest): an older server finds no
    stored version by them, so its uploads become new versions (never a wrong merge)."""
