"""PostgreSQL: each post's tsvector out of line (in TOAST), so the search table's own rows are
narrow.

Counting a word's posts through GIN visits every matching row's page, even when the
visibility map says all are visible (measured on PostgreSQL 15.20 after VACUUM). In line, a
post's tsvector (about 7 KB; it does not compress) filled a page: counting the 75,000 posts of
one character read 58,000 pages (100k posts: 92 ms median, up to 390). Out of line, about 150
rows share a page (the same count: 3.7 ms), and only a phrase's recheck reads the tsvectors
themselves (1.3× slower from TOAST).

The table is copied rather than updated in place: an UPDATE would give every row a new
place and GIN an entry for each, where building the index once over the copy is several
times faster. SQLite is unchanged.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07
"""

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_UPGRADE = [
    "CREATE TABLE post_search_new (post_id integer PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE, "
    "tsv tsvector NOT NULL)",
    # Past 128 bytes a row's tsvector goes to TOAST (the default moves only rows over 2 KB,
    # and then only until the row is under 2 KB).
    "ALTER TABLE post_search_new SET (toast_tuple_target = 128)",
    "INSERT INTO post_search_new (post_id, tsv) SELECT post_id, tsv FROM post_search",
    "DROP TABLE post_search",
    "ALTER TABLE post_search_new RENAME TO post_search",
    "ALTER INDEX post_search_new_pkey RENAME TO post_search_pkey",
    "ALTER TABLE post_search RENAME CONSTRAINT post_search_new_post_id_fkey TO post_search_post_id_fkey",
    "SET LOCAL maintenance_work_mem = '256MB'",
    "CREATE INDEX ix_post_search_tsv ON post_search USING gin (tsv)",
    "ANALYZE post_search",
]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for statement in _UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE post_search ALTER COLUMN tsv SET STORAGE MAIN")
    op.execute("ALTER TABLE post_search SET (toast_tuple_target = 8160)")  # rows written from now on
