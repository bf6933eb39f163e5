"""Accounts' followers, day by day, as their platforms' exports state them (`AccountMetric`); a
repository over the store's engine, handed out as `Store.accounts`. A later export of the same
day replaces the earlier one's figures: the platform corrects its own numbers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from storage.models import AccountMetric

metrics_t: sa.Table = AccountMetric.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class FollowerDay:
    day: date
    followers: int | None
    gained: int | None = None
    lost: int | None = None


@dataclass(frozen=True, slots=True)
class Followers:
    """One account over a period: followers at its start and end (the last stated day before
    each), and the new and lost followers the days within it state."""

    channel_id: str
    at_start: int | None
    at_end: int | None
    gained: int | None
    lost: int | None
    days: int  # days of the period the exports cover
    last_day: date | None  # the latest day stated within the period

    @property
    def net(self) -> int | None:
        if self.at_start is not None and self.at_end is not None:
            return self.at_end - self.at_start
        if self.gained is not None and self.lost is not None:
            return self.gained - self.lost
        return None


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(self, channel_id: str, days: Iterable[FollowerDay]) -> int:
        """Store these days for the channel (replacing what an earlier export said of them)."""
        rows = {d.day: d for d in days}
        if not rows:
            return 0
        with self.engine.begin() as conn:
            for chunk in _chunks(sorted(rows), 500):
                conn.execute(metrics_t.delete().where(metrics_t.c.channel_id == channel_id,
                                                      metrics_t.c.day.in_(chunk)))
            conn.execute(metrics_t.insert(), [
                {"channel_id": channel_id, "day": d.day, "followers": d.followers, "gained": d.gained,
                 "lost": d.lost} for d in rows.values()])
        return len(rows)

    def channels(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(metrics_t.c.channel_id).distinct()).scalars())

    def followers(self, start: datetime | None, end: datetime | None) -> list[Followers]:
        """Each account with stated days, over [start, end)."""
        return [self._over(cid, start, end) for cid in sorted(self.channels())]

    def series(self, channel_id: str, start: datetime | None, end: datetime | None) -> list[FollowerDay]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(metrics_t.c.day, metrics_t.c.followers, metrics_t.c.gained,
                                          metrics_t.c.lost)
                                .where(metrics_t.c.channel_id == channel_id, *_within(start, end))
                                .order_by(metrics_t.c.day)).all()
        return [FollowerDay(*r) for r in rows]

    def _over(self, channel_id: str, start: datetime | None, end: datetime | None) -> Followers:
        c = metrics_t.c
        mine = [c.channel_id == channel_id, c.followers.is_not(None)]
        with self.engine.connect() as conn:
            def last_before(moment: datetime | None) -> int | None:
                if moment is None:
                    return None
                q = sa.select(c.followers).where(*mine, c.day < moment.date()).order_by(c.day.desc()).limit(1)
                return conn.execute(q).scalar()

            at_start = last_before(start)
            if at_start is None and start is not None:  # the export begins on the period's first day
                first = conn.execute(sa.select(c.day, c.followers, c.gained, c.lost)
                                     .where(*mine, c.day >= start.date()).order_by(c.day).limit(1)).first()
                if first is not None and first.day == start.date() and None not in (first.gained, first.lost):
                    at_start = first.followers - first.gained + first.lost
            at_end = last_before(end) if end is not None else conn.execute(
                sa.select(c.followers).where(*mine).order_by(c.day.desc()).limit(1)).scalar()
            gained, lost, days, last = conn.execute(
                sa.select(sa.func.sum(c.gained), sa.func.sum(c.lost), sa.func.count(), sa.func.max(c.day))
                .where(c.channel_id == channel_id, *_within(start, end))).one()
        return Followers(channel_id, at_start, at_end, gained, lost, int(days or 0), last)


def _within(start: datetime | None, end: datetime | None) -> list[sa.ColumnElement[bool]]:
    where = []
    if start is not None:
        where.append(metrics_t.c.day >= start.date())
    if end is not None:
        where.append(metrics_t.c.day < end.date())
    return where


def _chunks(values: list[date], size: int) -> Iterable[list[date]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
