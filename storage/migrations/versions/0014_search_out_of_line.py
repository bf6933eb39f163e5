"""PostgreSQL: the search index's tsvectors out of line (TOAST), not in the row. Counting a
common word through the GIN index visits each matching row; with 6 KB tsvectors in the rows
that meant reading most of the table (one character at 100k posts: p95 221 ms). The rows
stored before keep their place until they are written again (`xxgk reindex` rewrites all).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE post_search ALTER COLUMN tsv SET STORAGE EXTENDED"))
        op.execute(sa.text("ALTER TABLE post_search RESET (toast_tuple_target)"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("ALTER TABLE post_search ALTER COLUMN tsv SET STORAGE MAIN"))
        op.execute(sa.text("ALTER TABLE post_search SET (toast_tuple_target = 8160)"))
