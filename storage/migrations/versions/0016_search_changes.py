"""A number that moves whenever a search could see a stored post differently: `search_changes`.

The web keeps recent searches' totals and first pages. New posts only add ids above the
highest one (SQLite has one writer; PostgreSQL's writers take turns inserting posts, see
`storage.writes`), so a kept count stays right for the posts up to that id and only the newer
ones need counting. Any other change — a post's text, date, tag, type, channel or address
edited, a post deleted, a channel moved to another group — adds one to `search_changes`,
and a kept count made before it is not used again.

The database keeps the number, not the code that writes posts: triggers see every update and
delete, whichever statement made it (a sync, a manual tag, reclassify, attachments' text, a
script). A re-sync that only refreshes a WeChat post's reads does not move it. `xxgk reindex`
adds one itself (the index is rebuilt without touching the posts).

- SQLite: row triggers.
- PostgreSQL: statement triggers that compare the statement's old and new rows (one update of
  the counter per statement, not per row).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

# What a search finds, filters, orders or shows of a post (storage.search: the index's text,
# _filter_conditions, _RESULT_COLUMNS).
SEARCHED = ("title", "body", "department", "attachments", "attachment_text", "url", "published_at", "channel_id",
            "item", "category", "type", "notice_key")
BUMP = "UPDATE search_changes SET changes = changes + 1"


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in SEARCHED)
    return [
        f"CREATE TRIGGER tr_posts_search_changes_update AFTER UPDATE OF {', '.join(SEARCHED)} ON posts "
        f"WHEN {changed} BEGIN {BUMP}; END",
        f"CREATE TRIGGER tr_posts_search_changes_delete AFTER DELETE ON posts BEGIN {BUMP}; END",
        "CREATE TRIGGER tr_channels_search_changes_update AFTER UPDATE OF group_name ON channels "
        f"WHEN OLD.group_name IS NOT NEW.group_name BEGIN {BUMP}; END",
        f"CREATE TRIGGER tr_channels_search_changes_delete AFTER DELETE ON channels BEGIN {BUMP}; END",
    ]


def _pg_function(name: str, changed: str) -> str:
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"IF EXISTS ({changed}) THEN {BUMP}; END IF; RETURN NULL; END $$")


def _pg_differ(columns: tuple[str, ...]) -> str:
    return (f"SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
            f"({', '.join(f'o.{c}' for c in columns)}) IS DISTINCT FROM ({', '.join(f'n.{c}' for c in columns)})")


def _pg_statements() -> list[str]:
    out = []
    for table, columns in (("posts", SEARCHED), ("channels", ("group_name",))):
        out += [
            _pg_function(f"{table}_search_changes_update", _pg_differ(columns)),
            _pg_function(f"{table}_search_changes_delete", "SELECT 1 FROM old_rows"),
            (f"CREATE TRIGGER tr_{table}_search_changes_update AFTER UPDATE ON {table} REFERENCING OLD TABLE AS "
             f"old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_search_changes_update()"),
            (f"CREATE TRIGGER tr_{table}_search_changes_delete AFTER DELETE ON {table} REFERENCING OLD TABLE AS "
             f"old_rows FOR EACH STATEMENT EXECUTE FUNCTION {table}_search_changes_delete()"),
        ]
    return out


def upgrade() -> None:
    conn = op.get_bind()
    op.create_table("search_changes", sa.Column("one", sa.Integer(), nullable=False),
                    sa.Column("changes", sa.BigInteger(), nullable=False), sa.PrimaryKeyConstraint("one"))
    conn.execute(sa.text("INSERT INTO search_changes (one, changes) VALUES (1, 0)"))
    for statement in _sqlite_triggers() if conn.dialect.name == "sqlite" else _pg_statements():
        conn.execute(sa.text(statement))


def downgrade() -> None:
    conn = op.get_bind()
    for table in ("posts", "channels"):
        for trigger in ("update", "delete"):
            if conn.dialect.name == "sqlite":
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS tr_{table}_search_changes_{trigger}"))
            else:
                conn.execute(sa.text(f"DROP TRIGGER IF EXISTS tr_{table}_search_changes_{trigger} ON {table}"))
                conn.execute(sa.text(f"DROP FUNCTION IF EXISTS {table}_search_changes_{trigger}()"))
    op.drop_table("search_changes")
