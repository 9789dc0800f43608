"""Where the feedback came from (ui, api), and an index for per-demo export and stats.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Add the source column and the (demo_id, created_at) index."""
    # A plain ADD COLUMN, not a batch copy of the table: rows and ids stay where they are.
    with op.batch_alter_table("feedback", recreate="never") as batch:
        batch.add_column(sa.Column("source", sa.Text, nullable=False, server_default="unknown"))
    op.create_index("feedback_demo_time", "feedback", ["demo_id", "created_at"])


def downgrade() -> None:
    """Drop the index and the source column."""
    op.drop_index("feedback_demo_time", table_name="feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("source")
