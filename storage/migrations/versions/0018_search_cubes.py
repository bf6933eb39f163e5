"""Facet cubes kept in the store (`search_cubes`), so every web process and every restart does
not group a query's matches again: each process kept its own, and with `xxgk serve --workers N`
each query's cube was grouped N times (on PostgreSQL a common phrase's 0.2–0.7 s, every
candidate rechecked). A row is a query's cube at the store's mark it was grouped at; a process
that finds one adds the posts stored since. A cache: nothing else refers to it.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_cubes",
        sa.Column("words", sa.String(length=64), nullable=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.Column("made_at", sa.DateTime(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("words"),
    )
    op.create_index("ix_search_cubes_made", "search_cubes", ["made_at"])


def downgrade() -> None:
    op.drop_index("ix_search_cubes_made", table_name="search_cubes")
    op.drop_table("search_cubes")
