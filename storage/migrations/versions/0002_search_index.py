"""Search index: FTS5 on SQLite, tsvector + GIN on PostgreSQL (storage/search.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from storage.search import SEARCH_DDL, index_rows_sql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    for statement in SEARCH_DDL[bind.dialect.name]:
        op.execute(statement)
    # Index the posts an existing store already holds.
    posts = sa.table("posts", sa.column("id"), sa.column("title"), sa.column("body"), sa.column("department"),
                     sa.column("attachments", sa.JSON()))
    last = 0
    while True:
        rows = bind.execute(
            sa.select(posts).where(posts.c.id > last).order_by(posts.c.id).limit(2000)
        ).mappings().all()
        if not rows:
            break
        statement, params = index_rows_sql(bind.dialect.name, rows)
        bind.execute(sa.text(statement), params)
        last = rows[-1]["id"]


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS post_fts")
    else:
        op.execute("DROP TABLE IF EXISTS post_search")
