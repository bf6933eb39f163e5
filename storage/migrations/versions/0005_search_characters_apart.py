"""Search index: single characters without positions (storage/search.py).

A third of the tokens were single characters stored with positions no query
uses; on SQLite they move to their own FTS5 table with rowids only
(post_chars), on PostgreSQL they become lexemes without positions. The index
shrinks from ~2.4× to ~1.8× the text (bench/search.py). The posts a store
already holds are indexed again after the migration, by the tokenizer of the
version that runs it (`storage.engine.migrate`: a migration never calls live
code, so its DDL is written out here as it was). Posts gain an index by channel and date (filtered
searches and statistics), and on PostgreSQL one in search-page order.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    # IF NOT EXISTS throughout: pysqlite commits DDL as it goes, so a migration that was
    # interrupted on SQLite runs again from the top.
    op.execute("CREATE INDEX IF NOT EXISTS ix_posts_channel_published ON posts (channel_id, published_at)")
    if bind.dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS post_fts")  # positions for characters: rebuilt without
    else:
        # Newest first, undated last, as search pages are ordered: lets PostgreSQL walk
        # posts in that order and stop after a page (SQLite sorts NULLs last in DESC anyway).
        op.execute("CREATE INDEX IF NOT EXISTS ix_posts_newest ON posts (published_at DESC NULLS LAST, id DESC)")
    for statement in _DDL[bind.dialect.name]:
        op.execute(statement)


_DDL = {
    "sqlite": [
        "CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(t, r, content='', "
        "tokenize='unicode61 remove_diacritics 0', detail=full, columnsize=0)",
        "CREATE VIRTUAL TABLE IF NOT EXISTS post_chars USING fts5(c, content='', "
        "tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0)",
    ],
    "postgresql": [
        "CREATE TABLE IF NOT EXISTS post_search (post_id integer PRIMARY KEY "
        "REFERENCES posts(id) ON DELETE CASCADE, tsv tsvector NOT NULL)",
        "ALTER TABLE post_search ALTER COLUMN tsv SET STORAGE MAIN",
        "ALTER TABLE post_search SET (toast_tuple_target = 8160)",
        "CREATE INDEX IF NOT EXISTS ix_post_search_tsv ON post_search USING gin (tsv)",
    ],
}


def downgrade() -> None:
    raise NotImplementedError("the earlier layout is rebuilt by reinstalling the earlier version and `xxgk reindex`")
