"""Engines for the two stores we support, and schema migrations.

SQLite (the default) runs in WAL mode with a busy timeout so the web pages can
read while a sync writes; PostgreSQL is reached through psycopg 3. Opening a
store upgrades its schema in place with Alembic — a store is never dropped.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

MIGRATIONS = Path(__file__).with_name("migrations")
SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreError(Exception):
    """The store cannot be opened or upgraded; the message says which and why."""


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    # WAL + NORMAL is durable across process crashes (only an OS crash can
    # lose the last commits), and several times faster for bulk upserts.
    cur.execute("PRAGMA synchronous=NORMAL")
    # 64 MB of page cache instead of 2 MB: the search index's segment merges
    # re-read their pages, and a backfill writes thousands of them.
    cur.execute("PRAGMA cache_size=-65536")
    cur.close()


# Connections a process keeps open. A web process serves a dozen requests at once, each taking
# a connection for a moment several times: with SQLAlchemy's default of 5 kept, the others were
# opened and closed per request (a new PostgreSQL backend each; on SQLite the pragmas run again
# and the connection's page cache is lost).
POOL: dict[str, Any] = {"pool_size": 12, "max_overflow": 12}


def make_engine(url: str) -> Engine:
    """An engine for `sqlite:///path.db` (the folder is created) or `postgresql+psycopg://…`."""
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        kwargs: dict[str, Any] = {}
        if not path or path == ":memory:":
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        else:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs = {"connect_args": {"check_same_thread": False}, **POOL}
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql"):
        engine = sa.create_engine(url, **POOL)
        sa.event.listen(engine, "checkout", _ping_if_idle)
        sa.event.listen(engine, "checkin", _note_use)
        return engine
    raise StoreError(f"store URL {url!r}: expected sqlite:///… or postgresql+psycopg://…")


# A pooled PostgreSQL connection unused this long is pinged before it is handed out (a server
# restarted, a firewall's idle timeout): a busy web process's connections are reused within
# milliseconds, and pinging each checkout (SQLAlchemy's pool_pre_ping) was 6 round trips of a
# search page's 20.
IDLE_PING_S = 2.0


def _note_use(dbapi_conn: Any, record: Any) -> None:
    record.info["used"] = time.monotonic()


def _ping_if_idle(dbapi_conn: Any, record: Any, proxy: Any) -> None:
    used = record.info.get("used")
    if used is None or time.monotonic() - used < IDLE_PING_S:
        return
    try:
        with dbapi_conn.cursor() as cur:
            cur.execute("SELECT 1")
        dbapi_conn.rollback()
    except Exception as exc:  # psycopg's OperationalError and kin: the pool opens a new connection
        raise sa.exc.DisconnectionError(f"a pooled connection is gone: {exc}") from exc


def _alembic_config(connection: sa.Connection) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


# Revisions that change what the search index holds: a store upgraded across one is
# indexed again by the running version's tokenizer, in the migration's transaction.
REINDEX_AFTER = frozenset({"0005"})


def _transactional_ddl(url: sa.engine.URL) -> Engine:
    """A SQLite engine whose transactions hold DDL too: pysqlite (before Python 3.12) commits
    CREATE/ALTER as it goes, so a process killed mid-migration left tables without the revision
    that made them, and the store would not open again. With the driver's own transaction
    handling off and an explicit BEGIN, an upgrade is all or nothing."""
    engine = sa.create_engine(url, connect_args={"check_same_thread": False}, poolclass=sa.pool.NullPool)

    def no_autocommit(dbapi_conn: Any, record: Any) -> None:
        _sqlite_pragmas(dbapi_conn, record)
        dbapi_conn.isolation_level = None

    sa.event.listen(engine, "connect", no_autocommit)
    sa.event.listen(engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision; a no-op when it already is. On SQLite the whole
    upgrade is one transaction (a killed process leaves the store as it was)."""
    start, head = current_revision(engine), head_revision()
    if start == head:
        return
    if engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        ddl_engine = _transactional_ddl(engine.url)
        try:
            _upgrade(ddl_engine, start, head)
        finally:
            ddl_engine.dispose()
        return
    _upgrade(engine, start, head)


def _upgrade(engine: Engine, start: str | None, head: str) -> None:
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "head")
        if start is not None and any(start < rev <= head for rev in REINDEX_AFTER):
            from storage.search import rebuild_index

            posts = sa.table("posts", sa.column("id"), sa.column("title"), sa.column("body"),
                             sa.column("department"), sa.column("attachments", sa.JSON()),
                             sa.column("attachment_text"))
            rebuild_index(conn, posts)
