"""(key, version_id) indexes instead of key alone: a filter's count and page come from the index.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_datasets_key"))
        batch_op.create_index("ix_datasets_key_version", ["key", "version_id"], unique=False)

    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_files_sha256"))
        batch_op.create_index("ix_files_sha256_version", ["sha256", "version_id"], unique=False)

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_rule"))
        batch_op.create_index("ix_findings_rule_version", ["rule", "version_id"], unique=False)

    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_labels_key"))
        batch_op.create_index("ix_labels_key_version", ["key", "version_id"], unique=False)

    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licenses_key"))
        batch_op.create_index("ix_licenses_key_version", ["key", "version_id"], unique=False)

    with op.batch_alter_table("lineage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lineage_key"))
        batch_op.create_index("ix_lineage_key_version", ["key", "version_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("lineage", schema=None) as batch_op:
        batch_op.drop_index("ix_lineage_key_version")
        batch_op.create_index(batch_op.f("ix_lineage_key"), ["key"], unique=False)

    with op.batch_alter_table("licenses", schema=None) as batch_op:
        batch_op.drop_index("ix_licenses_key_version")
        batch_op.create_index(batch_op.f("ix_licenses_key"), ["key"], unique=False)

    with op.batch_alter_table("labels", schema=None) as batch_op:
        batch_op.drop_index("ix_labels_key_version")
        batch_op.create_index(batch_op.f("ix_labels_key"), ["key"], unique=False)

    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index("ix_findings_rule_version")
        batch_op.create_index(batch_op.f("ix_findings_rule"), ["rule"], unique=False)

    with op.batch_alter_table("files", schema=None) as batch_op:
        batch_op.drop_index("ix_files_sha256_version")
        batch_op.create_index(batch_op.f("ix_files_sha256"), ["sha256"], unique=False)

    with op.batch_alter_table("datasets", schema=None) as batch_op:
        batch_op.drop_index("ix_datasets_key_version")
        batch_op.create_index(batch_op.f("ix_datasets_key"), ["key"], unique=False)
