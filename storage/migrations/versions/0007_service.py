"""The service's tables: channel leases (one writer per channel), marks (what the
service has done once: a month's export, an alert for a health state), and why a
run failed (`sync_runs.failure`: blocked | unreachable | broken), which the health
state reads.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("failure", sa.String(length=16), nullable=True))
    op.create_table(
        "channel_leases",
        sa.Column("channel_id", sa.String(length=64), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["channel_id"], ["channels.id"]),
        sa.PrimaryKeyConstraint("channel_id"),
    )
    op.create_table(
        "service_marks",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value", sa.String(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("service_marks")
    op.drop_table("channel_leases")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("failure")
