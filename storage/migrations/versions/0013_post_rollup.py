"""Statistics from a rollup the database keeps: posts counted by month, channel, 清单 category and
item and announcement type, with their reads and stated procurement amounts. At 5M posts an
academic year grouped straight from the posts takes 0.5–1 s; the rollup holds a few thousand rows.

The database keeps it, not the code that writes posts: triggers on `posts` see every insert,
update and delete whichever statement made it (a sync, a manual tag, reclassify, rekey, a
script). A key's empty parts are stored as '' / 0 (month '' = no publication date), never NULL,
so each key is one row.

- SQLite (one writer at a time): row triggers add to `post_rollup` directly.
- The amounts are an announcement's (a post with a type): the statistics sum them by type only.
- PostgreSQL (many writers): statement triggers append each statement's net change to
  `post_rollup_delta`, which takes no lock another writer waits on; `Posts.fold_rollup` moves
  the deltas into `post_rollup` after a write. Readers sum both tables, so a count never
  depends on when the deltas were folded. (psycopg runs a batch insert as one statement per
  row, so a batch leaves a delta per post until the fold: a multi-row INSERT measured slower.)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

KEY = ("month", "channel_id", "category", "item", "type")
VALUES = ("posts", "reads", "budget", "budget_n", "award", "award_n")


def _columns() -> list[sa.Column]:
    return [sa.Column("month", sa.String(length=7), nullable=False),
            sa.Column("channel_id", sa.String(length=64), nullable=False),
            sa.Column("category", sa.Integer(), nullable=False),
            sa.Column("item", sa.Integer(), nullable=False),
            sa.Column("type", sa.String(length=16), nullable=False),
            sa.Column("posts", sa.BigInteger(), nullable=False),
            sa.Column("reads", sa.BigInteger(), nullable=False),
            sa.Column("budget", sa.Float(), nullable=False),
            sa.Column("budget_n", sa.BigInteger(), nullable=False),
            sa.Column("award", sa.Float(), nullable=False),
            sa.Column("award_n", sa.BigInteger(), nullable=False)]


def _sqlite_values(row: str, sign: str) -> list[str]:
    """One post's key and values (`row` = NEW, OLD or posts), the values with `sign`."""
    def amount(name: str) -> list[str]:
        # Only an announcement's amounts are read (the statistics sum them by type): a post
        # without a type costs no JSON parsing. Nested CASEs: SQLite need not short-circuit AND.
        is_number = (f"(CASE WHEN {row}.type IS NULL THEN 0 WHEN json_valid({row}.extra) THEN "
                     f"coalesce(json_type({row}.extra, '$.{name}') IN ('integer', 'real'), 0) ELSE 0 END)")
        return [f"{sign}CASE WHEN {is_number} THEN json_extract({row}.extra, '$.{name}') ELSE 0 END",
                f"{sign}{is_number}"]
    return [f"coalesce(substr({row}.published_at, 1, 7), '')", f"{row}.channel_id",
            f"coalesce({row}.category, 0)", f"coalesce({row}.item, 0)", f"coalesce({row}.type, '')",
            f"{sign}1", f"{sign}coalesce({row}.reads, 0)", *amount("budget"), *amount("award")]


def _sqlite_add(row: str, sign: str) -> str:
    return (f"INSERT INTO post_rollup ({', '.join(KEY + VALUES)}) VALUES ({', '.join(_sqlite_values(row, sign))}) "
            f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
            + ", ".join(f"{v} = {v} + excluded.{v}" for v in VALUES) + ";")


WATCHED = ("published_at", "channel_id", "category", "item", "type", "reads", "extra")


def _sqlite_triggers() -> list[str]:
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in WATCHED)
    return [
        f"CREATE TRIGGER tr_posts_rollup_insert AFTER INSERT ON posts BEGIN {_sqlite_add('NEW', '')} END",
        f"CREATE TRIGGER tr_posts_rollup_delete AFTER DELETE ON posts BEGIN {_sqlite_add('OLD', '-')} END",
        (f"CREATE TRIGGER tr_posts_rollup_update AFTER UPDATE OF {', '.join(WATCHED)} ON posts "
         f"WHEN {changed} BEGIN {_sqlite_add('OLD', '-')} {_sqlite_add('NEW', '')} END"),
    ]


def _pg_values(sign: str) -> list[str]:
    def amount(name: str) -> list[str]:
        is_number = f"type IS NOT NULL AND jsonb_typeof(extra -> '{name}') = 'number'"
        return [f"{sign}CASE WHEN {is_number} THEN (extra ->> '{name}')::float8 ELSE 0 END",
                f"{sign}CASE WHEN {is_number} THEN 1 ELSE 0 END"]
    return ["coalesce(to_char(published_at, 'YYYY-MM'), '')", "channel_id", "coalesce(category, 0)",
            "coalesce(item, 0)", "coalesce(type, '')", f"{sign}1", f"{sign}coalesce(reads, 0)::bigint",
            *amount("budget"), *amount("award")]


def _select(values: list[str], rows: str) -> str:
    return f"SELECT {', '.join(f'{v} AS {c}' for v, c in zip(values, KEY + VALUES, strict=True))} FROM {rows}"


def _summed(source: str) -> str:
    """Each key's net change from a SELECT of signed rows."""
    return (f"SELECT {', '.join(KEY)}, {', '.join(f'sum({v})' for v in VALUES)} FROM ({source}) d "
            f"GROUP BY {', '.join(KEY)}")


def _pg_function(name: str, source: str) -> str:
    return (f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO post_rollup_delta ({', '.join(KEY + VALUES)}) {_summed(source)} "
            "HAVING " + " OR ".join(f"sum({v}) <> 0" for v in VALUES) + "; RETURN NULL; END $$")


def _pg_statements() -> list[str]:
    new, old = _select(_pg_values(""), "new_rows"), _select(_pg_values("-"), "old_rows")
    return [
        _pg_function("posts_rollup_insert", new),
        _pg_function("posts_rollup_delete", old),
        _pg_function("posts_rollup_update", f"{new} UNION ALL {old}"),
        # Every write leaves its folded deltas dead: vacuum the table by their number, not by a
        # fraction of a table that is nearly always empty.
        ("ALTER TABLE post_rollup_delta SET (autovacuum_vacuum_scale_factor = 0, "
         "autovacuum_vacuum_threshold = 5000, autovacuum_analyze_scale_factor = 0, "
         "autovacuum_analyze_threshold = 5000)"),
        ("CREATE TRIGGER tr_posts_rollup_insert AFTER INSERT ON posts REFERENCING NEW TABLE AS new_rows "
         "FOR EACH STATEMENT EXECUTE FUNCTION posts_rollup_insert()"),
        ("CREATE TRIGGER tr_posts_rollup_delete AFTER DELETE ON posts REFERENCING OLD TABLE AS old_rows "
         "FOR EACH STATEMENT EXECUTE FUNCTION posts_rollup_delete()"),
        ("CREATE TRIGGER tr_posts_rollup_update AFTER UPDATE ON posts REFERENCING OLD TABLE AS old_rows "
         "NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION posts_rollup_update()"),
    ]


def upgrade() -> None:
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    op.create_table("post_rollup", *_columns(), sa.PrimaryKeyConstraint(*KEY))
    op.create_table("post_rollup_delta", sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
                    *_columns(), sa.PrimaryKeyConstraint("id"))
    # The posts already stored, counted once; the triggers keep the rollup from here on.
    values = _sqlite_values("posts", "") if sqlite else _pg_values("")
    conn.execute(sa.text(f"INSERT INTO post_rollup ({', '.join(KEY + VALUES)}) {_summed(_select(values, 'posts'))}"))
    for statement in _sqlite_triggers() if sqlite else _pg_statements():
        conn.execute(sa.text(statement))


def downgrade() -> None:
    conn = op.get_bind()
    for trigger in ("insert", "delete", "update"):
        if conn.dialect.name == "sqlite":
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS tr_posts_rollup_{trigger}"))
        else:
            conn.execute(sa.text(f"DROP TRIGGER IF EXISTS tr_posts_rollup_{trigger} ON posts"))
            conn.execute(sa.text(f"DROP FUNCTION IF EXISTS posts_rollup_{trigger}()"))
    op.drop_table("post_rollup_delta")
    op.drop_table("post_rollup")
