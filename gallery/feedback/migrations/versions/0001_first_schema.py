"""The first schema: one row per rating, with optional comment, input and output.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the feedback table."""
    op.create_table(
        "feedback",
        # AUTOINCREMENT on SQLite: an id is never reused, not even after a crash lost the newest row's commit.
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("demo_id", sa.Text, nullable=False),
        sa.Column("created_at", sa.Text, nullable=False),
        sa.Column("rating", sa.Text, nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("input_json", sa.Text),
        sa.Column("output_json", sa.Text),
        sa.CheckConstraint("rating IN ('up', 'down')", name="feedback_rating"),
        sqlite_autoincrement=True,
    )


def downgrade() -> None:
    """Drop the feedback table."""
    op.drop_table("feedback")
