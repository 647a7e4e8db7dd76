"""The policy each verdict was judged with (``policy_digest`` on versions and deployments): a server
restarted with a stricter ``--policy`` or ``--env-policy`` re-judges, on the next ``POST /rejudge``, the
verdicts made under another policy. Stored verdicts get NULL (unknown): re-judged once.

Added with ADD COLUMN (no table rebuild on SQLite, so migration 0004's search triggers stay).

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("versions", sa.Column("policy_digest", sa.String(length=64), nullable=True))
    op.add_column("deployments", sa.Column("policy_digest", sa.String(length=64), nullable=True))


def downgrade() -> None:
    op.drop_column("deployments", "policy_digest")
    op.drop_column("versions", "policy_digest")
