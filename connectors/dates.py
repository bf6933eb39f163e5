"""Publication dates as Chinese university and government sites write them.

`parse_date` reads one string; `MonthDay` is what a list page gives when it
omits the year (`[05-12]`), resolved later from the detail page or from list
order and the crawl date (`resolve_month_day`). Naive results are Asia/Shanghai.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from aggregator.clock import SHANGHAI

_PREFIX = re.compile(r"^\s*(发布时间|发布日期|发表时间|更新时间|时间|日期|发布于|Published)\s*[:：]?\s*", re.I)
_SEP = r"\s*[-/.年月]\s*"
_FULL = re.compile(
    rf"(?P<y>(?:19|20)\d\d){_SEP}(?P<m>\d{{1,2}}){_SEP}(?P<d>\d{{1,2}})\s*日?"
    r"(?:\s*(?:T|\s)?\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_MD_THEN_Y = re.compile(r"(?P<m>\d{1,2})\s*[-/]\s*(?P<d>\d{1,2})\s+(?P<y>(?:19|20)\d\d)")  # "05/12 2023"
_DAY_THEN_YM = re.compile(r"(?P<d>\d{1,2})\s+(?P<y>(?:19|20)\d\d)[.\-/](?P<m>\d{1,2})")  # "12 2023.05"
_MONTH_DAY = re.compile(r"^[\[【(（]?\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?\s*[\]】)）]?$")
_RELATIVE = re.compile(r"(?P<n>\d+)\s*(?P<u>分钟|小时|天)前")
_UNIX = re.compile(r"^\d{10}$")
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_ENGLISH = re.compile(r"(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<d>\d{1,2}),?\s+(?P<y>(?:19|20)\d\d)")


@dataclass(frozen=True, slots=True)
class MonthDay:
    """A list date without a year, e.g. `[05-12]`."""

    month: int
    day: int


def _clean(text: str) -> str:
    text = text.replace("\u00a0", " ").replace("\u3000", " ").replace("&nbsp;", " ")
    return _PREFIX.sub("", text.strip())


def _build(y: int, m: int, d: int, hh: str | None = None, mm: str | None = None,
           ss: str | None = None) -> datetime | date | None:
    try:
        if hh is not None and mm is not None:
            return datetime(y, m, d, int(hh), int(mm), int(ss or 0))
        return date(y, m, d)
    except ValueError:
        return None


def parse_date(text: str | None, now: datetime | None = None) -> datetime | date | MonthDay | None:
    """Read a date the way these sites write it.

    >>> parse_date("发布时间：2023-05-12 10:20")
    datetime.datetime(2023, 5, 12, 10, 20)
    >>> parse_date("2023/05/12\\xa0")
    datetime.date(2023, 5, 12)
    >>> parse_date("[05-12]")
    MonthDay(month=5, day=12)
    """
    if not text:
        return None
    s = _clean(text)
    if not s:
        return None
    if _UNIX.match(s):
        return datetime.fromtimestamp(int(s), SHANGHAI).replace(tzinfo=None)
    m = _FULL.search(s)
    if m:
        return _build(int(m["y"]), int(m["m"]), int(m["d"]), m["H"], m["M"], m["S"])
    m = _MD_THEN_Y.search(s) or _DAY_THEN_YM.search(s)
    if m:
        return _build(int(m["y"]), int(m["m"]), int(m["d"]))
    m = _ENGLISH.search(s)
    if m and m["mon"].lower()[:3] in _MONTHS:
        return _build(int(m["y"]), _MONTHS[m["mon"].lower()[:3]], int(m["d"]))
    m = _MONTH_DAY.match(s)
    if m and 1 <= int(m["m"]) <= 12 and 1 <= int(m["d"]) <= 31:
        return MonthDay(int(m["m"]), int(m["d"]))
    m = _RELATIVE.search(s)
    if m:
        now = now or datetime.now(SHANGHAI).replace(tzinfo=None)
        unit = {"分钟": "minutes", "小时": "hours", "天": "days"}[m["u"]]
        return (now - timedelta(**{unit: int(m["n"])})).replace(second=0, microsecond=0)
    return None


def resolve_month_day(md: MonthDay, newer: date | None, today: date) -> date | None:
    """The year of a `[MM-DD]` list date: lists run newest first, so an entry is
    the latest such day not after the entry above it (or after today)."""
    ceiling = newer or today
    for year in (ceiling.year, ceiling.year - 1):
        try:
            candidate = date(year, md.month, md.day)
        except ValueError:
            continue
        if candidate <= ceiling:
            return candidate
    return None
