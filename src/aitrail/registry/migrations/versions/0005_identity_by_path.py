"""Identity by (path, digest) pairs: a version's ``identity`` of kind "files" or "partial" was the digest of
the *set* of its file digests, without names (an upload adding a copy of a file under a name the security
rules judge was merged into the old version, its findings dropped). Recomputed here from the stored file
rows with ``crud/extract.file_identity``, as a new upload of the same files computes it, so stored versions
stay found by their bytes. OMS and document identities do not change.

Revision ID: 0005
Revises: 0004
"""

import uuid
from typing import Any

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
    def table(table_name: str, /, **cols: Any) -> sa.TableClause:
        return sa.table(table_name, *(sa.column(c, t) for c, t in cols.items()))

    versions = table("versions", id=sa.Integer, identity=sa.String, identity_kind=sa.String)
    files = table("files", version_id=sa.Integer, path=sa.Text, sha256=sa.String, size=sa.BigInteger)
    licences = table("licenses", version_id=sa.Integer, component=sa.Text, role=sa.String, license=sa.String)
    datasets = table("datasets", version_id=sa.Integer, name=sa.String, relation=sa.String)
    lineage = table("lineage", version_id=sa.Integer, base=sa.String, relation=sa.String)

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
