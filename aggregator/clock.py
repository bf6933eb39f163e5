"""Shanghai wall time: the one clock of connectors, pipeline, storage and services.

A leaf: it imports nothing of ours, so any layer may use it. Every datetime
column of the store holds naive Asia/Shanghai wall time.

China has kept UTC+8 without daylight saving since 1991, so local wall time is
unambiguous, and a month or an academic year (1 Sept – 31 Aug, local) is a
plain range on an index — which is how the office counts.
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local_now() -> datetime:
    """Now, as the store keeps it (naive Shanghai time, whole seconds dropped below ms)."""
    return datetime.now(SHANGHAI).replace(tzinfo=None, microsecond=0)


def from_timestamp(seconds: float) -> datetime:
    """A Unix time (a file's mtime, WeChat's `ct`) as the store keeps it, whatever the machine's zone.

    >>> from_timestamp(0)
    datetime.datetime(1970, 1, 1, 8, 0)
    """
    return datetime.fromtimestamp(seconds, SHANGHAI).replace(tzinfo=None)


def to_store(value: datetime | date | None) -> datetime | None:
    """An aware datetime is converted; a naive one is taken as Shanghai time;
    a bare date is midnight of that day."""
    if value is None:
        return None
    if not isinstance(value, datetime):
        return datetime.combine(value, time())
    if value.tzinfo is not None:
        value = value.astimezone(SHANGHAI).replace(tzinfo=None)
    return value


def from_store(value: datetime | None) -> datetime | None:
    """A stored time as an aware datetime in Asia/Shanghai."""
    return None if value is None else value.replace(tzinfo=SHANGHAI)


def iso_local(value: datetime | None) -> str | None:
    """`2023-05-12T10:20:00+08:00`, the contract's `published_at` form."""
    aware = from_store(value)
    return None if aware is None else aware.isoformat(timespec="seconds")
