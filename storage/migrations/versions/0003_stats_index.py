"""A covering index for statistics: every count is index-only.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.create_index("ix_posts_stats", ["published_at", "channel_id", "category", "item", "type", "reads"])
        batch.drop_index("ix_posts_published_channel")


def downgrade() -> None:
    with op.batch_alter_table("posts") as batch:
        batch.create_index("ix_posts_published_channel", ["published_at", "channel_id"])
        batch.drop_index("ix_posts_stats")
