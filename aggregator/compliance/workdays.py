"""China's working days, from `chinesecalendar` (the State Council's holiday and 调休 schedule
as data): weekends and public holidays off, the weekend days worked in exchange on.

A date in a year the library has no schedule for raises `NoCalendar` — never a weekday count,
which would be wrong around every holiday. The library publishes a new release once the State
Council announces the next year's schedule (usually in November): `pip install -U chinesecalendar`
(or a new release of this package pinning it) extends the years known.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar


class NoCalendar(Exception):
    """A date outside the years the holiday schedule covers."""

    def __init__(self, day: date) -> None:
        self.day = day
        super().__init__(f"{day.year} 年的节假日安排不在日历库中（chinesecalendar 只有已公布的年份），无法计算工作日")


@lru_cache(maxsize=8192)  # the library checks its year range on every call (min/max over its tables)
def is_workday(day: date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        raise NoCalendar(day) from None


def between(start: date, end: date) -> int:
    """Working days from `start` to `end`, both included (0 when `end` is before `start`).

    >>> between(date(2023, 9, 28), date(2023, 10, 8))  # 中秋/国庆 2023: 9-28, and the 调休 10-7 and 10-8
    3
    """
    n = 0
    day = start
    while day <= end:
        n += is_workday(day)
        day += timedelta(days=1)
    return n


def add(start: date, n: int) -> date:
    """The n-th working day after `start` (`start` itself not counted).

    >>> add(date(2023, 9, 27), 2)  # Wednesday before the holiday: Thursday, then the 调休 Saturday
    datetime.date(2023, 10, 7)
    """
    day = start
    while n > 0:
        day += timedelta(days=1)
        n -= is_workday(day)
    return day


def after(start: date, n: int, unit: str) -> date:
    """The last day that is still within `n` working (`workdays`) or calendar (`days`) days of `start`."""
    return add(start, n) if unit == "workdays" else start + timedelta(days=n)


def elapsed(start: date, end: date, unit: str) -> int:
    """Working (or calendar) days after `start` up to and including `end`."""
    if end <= start:
        return 0
    return between(start + timedelta(days=1), end) if unit == "workdays" else (end - start).days
