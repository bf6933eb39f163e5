"""A notice's copies by key and date: a search page looks up the same notice on other channels
within a few weeks of each result (「另见」). With the key alone indexed, PostgreSQL joined that
index's entries with every post of those weeks from the date index (1,757 entries for 19 keys,
5 ms at 100k posts); with the date beside the key each key is one range.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_posts_notice", "posts", ["notice_key", "published_at"])
    op.drop_index("ix_posts_notice_key", table_name="posts")


def downgrade() -> None:
    op.create_index("ix_posts_notice_key", "posts", ["notice_key"])
    op.drop_index("ix_posts_notice", table_name="posts")
