"""Search index: single characters without positions (storage/search.py).

A third of the tokens were single characters stored with positions no query
uses; on SQLite they move to their own FTS5 table with rowids only
(post_chars), on PostgreSQL they become lexemes without positions. The index
shrinks from ~2.4× to ~1.8× the text (bench/search.py). Every post is
indexed again, in batches. Posts gain an index by channel and date (filtered
searches and statistics), and on PostgreSQL one in search-page order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from storage.models import NEWEST_INDEX
from storage.search import backend_for, rebuild_index

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    backend = backend_for(bind.dialect.name)
    # IF NOT EXISTS throughout: pysqlite commits DDL as it goes, so a migration that was
    # interrupted on SQLite runs again from the top.
    op.execute("CREATE INDEX IF NOT EXISTS ix_posts_channel_published ON posts (channel_id, published_at)")
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS post_fts")  # positions for characters: rebuilt without
    else:
        # Newest first, undated last, as search pages are ordered: lets PostgreSQL walk
        # posts in that order and stop after a page (SQLite sorts NULLs last in DESC anyway).
        op.execute(f"CREATE INDEX IF NOT EXISTS {NEWEST_INDEX} ON posts (published_at DESC NULLS LAST, id DESC)")
    for statement in backend.ddl:
        op.execute(statement)
    posts = sa.table("posts", sa.column("id"), sa.column("title"), sa.column("body"), sa.column("department"),
                     sa.column("attachments", sa.JSON()))
    rebuild_index(bind, posts)  # SQLite: merged into one segment at the end; PostgreSQL: GIN built once


def downgrade() -> None:
    raise NotImplementedError("the earlier layout is rebuilt by reinstalling the earlier version and `xxgk reindex`")
