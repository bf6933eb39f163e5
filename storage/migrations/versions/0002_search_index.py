"""Search index: FTS5 on SQLite, tsvector + GIN on PostgreSQL (storage/search.py).

The first layout of the index (one FTS5 table with positions for every token).
0005 replaces it and indexes the posts a store already holds, so this revision
only creates the tables as they were.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(t, r, content='', "
                   "tokenize='unicode61 remove_diacritics 0', detail=full, columnsize=0)")
    else:
        op.execute("CREATE TABLE IF NOT EXISTS post_search (post_id integer PRIMARY KEY "
                   "REFERENCES posts(id) ON DELETE CASCADE, tsv tsvector NOT NULL)")
        op.execute("CREATE INDEX IF NOT EXISTS ix_post_search_tsv ON post_search USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS post_fts")
    else:
        op.execute("DROP TABLE IF EXISTS post_search")
