"""A throw-away PostgreSQL schema for a benchmark run, and a fill that bypasses the store (the benches
import it from their own folder)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa


@contextmanager
def pg_schema(url: str) -> Iterator[str]:
    """A new schema on the server at `url`, as a store URL whose search_path is that schema; dropped after."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{url}?options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def insert_rows(engine: sa.Engine, table: sa.Table, rows: Iterable[dict[str, Any]], chunk: int = 20000) -> None:
    """Rows straight into a table, `chunk` per transaction (a benchmark's fill, bypassing the store)."""
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == chunk:
            with engine.begin() as conn:
                conn.execute(table.insert(), batch)
            batch = []
    if batch:
        with engine.begin() as conn:
            conn.execute(table.insert(), batch)
