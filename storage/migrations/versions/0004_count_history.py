"""Count history: when a post's reads/likes were observed, and every snapshot.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.add_column(sa.Column("counts_at", sa.DateTime(), nullable=True))
    op.create_table(
        "post_metrics",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("reads", sa.Integer(), nullable=True),
        sa.Column("likes", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["posts.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("post_id", "observed_at", name="uq_post_metrics_post_observed"),
    )
    with op.batch_alter_table("post_metrics") as batch:
        batch.create_index(batch.f("ix_post_metrics_post_id"), ["post_id"], unique=False)


def downgrade() -> None:
    op.drop_table("post_metrics")
    with op.batch_alter_table("posts") as batch:
        batch.drop_column("counts_at")
