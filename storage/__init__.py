"""The store: SQLModel tables, engines (SQLite default, PostgreSQL), migrations."""

from storage.engine import StoreError, make_engine, migrate
from storage.store import (
    ChannelOverview,
    ChannelRecord,
    PostRecord,
    RunCounts,
    Store,
    StoredState,
    WriteResult,
)

__all__ = [
    "ChannelOverview",
    "ChannelRecord",
    "PostRecord",
    "RunCounts",
    "Store",
    "StoreError",
    "StoredState",
    "WriteResult",
    "make_engine",
    "migrate",
]
