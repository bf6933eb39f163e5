"""Statistics the office signs: counts (and WeChat reads) by month, channel, group,
清单 category and item, and procurement type, over an academic year or any range.

Months and academic years (1 Sept – 31 Aug, written `2022-2023`) are taken
from the local (Asia/Shanghai) publication date, which is what the store
keeps; a range is a plain `published_at` interval on its index.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from aggregator.services.sheets import csv_text
from storage.stats import DIMENSIONS, amounts_by, channel_groups, count_by
from storage.store import Store

HEADERS = {"month": "月份", "channel": "渠道", "group": "分组", "category": "清单类别", "item": "清单事项",
           "type": "公告类型", "count": "帖子数", "reads": "阅读数", "budget": "预算金额合计（元）",
           "award": "中标/成交金额合计（元）"}
# With `type` among the dimensions, each row also sums the amounts its announcements state.
AMOUNTS = ("budget", "budget_posts", "award", "award_posts")
_FILLED = {"month", "channel", "group", "category"}  # dimensions whose empty cells are shown as 0


class StatsError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Period:
    start: datetime | None  # inclusive, local time
    end: datetime | None  # exclusive
    label: str

    def months(self) -> list[str]:
        if self.start is None or self.end is None:
            return []
        out, y, m = [], self.start.year, self.start.month
        last = self.end - timedelta(seconds=1)
        while (y, m) <= (last.year, last.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def academic_year(label: str) -> Period:
    """`2022-2023` → 2022-09-01 00:00 to 2023-09-01 00:00 (local)."""
    m = re.fullmatch(r"\s*(\d{4})\s*[-–—/]\s*(\d{4})\s*", label)
    if not m or int(m.group(2)) != int(m.group(1)) + 1:
        raise StatsError(f"学年应写作 2022-2023（9 月 1 日至次年 8 月 31 日），收到 {label!r}")
    y = int(m.group(1))
    return Period(datetime(y, 9, 1), datetime(y + 1, 9, 1), f"{y}-{y + 1}学年")


def years_with_posts(store: Store, today: date, back: int = 6) -> list[tuple[str, int]]:
    """The last `back` academic years up to the one `today` is in, newest first, each with how many
    posts it has (what a page's year list shows, and which year it opens on)."""
    first = today.year if today.month >= 9 else today.year - 1
    out = []
    for y in range(first, first - back, -1):
        n = count_by(store, [], datetime(y, 9, 1), datetime(y + 1, 9, 1)).get((), (0, 0))[0]
        out.append((f"{y}-{y + 1}", n))
    return out


def year_before(years: list[tuple[str, int]], label: str) -> int | None:
    """How many posts the academic year before `label` (`2024-2025学年`) has, from the year list;
    None when that year has none (no previous year to compare) or is not listed.

    >>> year_before([("2025-2026", 0), ("2024-2025", 84), ("2023-2024", 80)], "2024-2025学年")
    80
    >>> year_before([("2024-2025", 84), ("2023-2024", 0)], "2024-2025学年") is None
    True
    """
    start = label.split("-")[0]
    before = f"{int(start) - 1}-{start}" if start.isdigit() else None
    return next((n for y, n in years if y == before and n), None)


def opening_year(years: list[tuple[str, int]]) -> str:
    """The newest year that has posts (the current one when none has): a page opens on data."""
    return next((y for y, n in years if n), years[0][0])


def date_range(date_from: str | None, date_to: str | None) -> Period:
    def parse(v: str, key: str) -> date:
        try:
            return date.fromisoformat(v.strip().replace("/", "-"))
        except ValueError:
            raise StatsError(f"--{key}：{v!r} 不是日期（应写作 2024-09-01）") from None
    start = datetime.combine(parse(date_from, "from"), time()) if date_from else None
    end = datetime.combine(parse(date_to, "to") + timedelta(days=1), time()) if date_to else None
    if start and end and start >= end:
        raise StatsError("--from 晚于 --to")
    label = f"{date_from or '最早'} 至 {date_to or '最新'}" if (date_from or date_to) else "全部时间"
    return Period(start, end, label)


def period_of(year: str | None, date_from: str | None, date_to: str | None) -> Period:
    if year and (date_from or date_to):
        raise StatsError("--year 与 --from/--to 只能选一种")
    return academic_year(year) if year else date_range(date_from, date_to)


def parse_dims(by: str | None) -> list[str]:
    dims = [d.strip() for d in (by or "channel").split(",") if d.strip()]
    bad = [d for d in dims if d not in DIMENSIONS]
    if bad:
        raise StatsError(f"--by 不认识 {', '.join(bad)}（可用：{', '.join(DIMENSIONS)}）")
    return list(dict.fromkeys(dims))


@dataclass(slots=True)
class Table:
    dims: list[str]
    rows: list[dict[str, Any]]
    period: Period
    channel_names: dict[str, str] = field(default_factory=dict)

    @property
    def amounts(self) -> bool:
        """Rows carry procurement amounts (`type` is a dimension)."""
        return "type" in self.dims

    @property
    def total(self) -> dict[str, Any]:
        total: dict[str, Any] = {"count": sum(r["count"] for r in self.rows),
                                 "reads": sum(r["reads"] for r in self.rows)}
        if self.amounts:
            total |= {k: round(sum(r[k] for r in self.rows), 2) for k in AMOUNTS}
        return total

    def to_json(self) -> dict[str, Any]:
        return {"rows": self.rows, "total": self.total}

    def display(self, row: dict[str, Any], dim: str) -> Any:
        value = row[dim]
        if dim == "channel":
            return self.channel_names.get(value, value)
        if value is None:
            return {"month": "日期不详", "category": "非清单", "item": "非清单", "type": "—"}.get(dim, "—")
        return value

    def human_rows(self) -> tuple[list[str], list[list[Any]]]:
        values = ["count", "reads", *(("budget", "award") if self.amounts else ())]
        header = [HEADERS[d] for d in self.dims] + [HEADERS[v] for v in values]
        body = [[self.display(r, d) for d in self.dims] + [self._value(r, v) for v in values] for r in self.rows]
        total = ["合计"] + [""] * (len(self.dims) - 1) + [self._value(self.total, v) for v in values]
        return header, [*body, total]

    def month_cells(self) -> tuple[dict[Any, dict[str, int]], dict[str, int]]:
        """A table by one dimension and `month` as the web's grid and chart read it: counts by the other
        dimension's value and month, and each month's total (every month of the period, zeros too)."""
        other = next(d for d in self.dims if d != "month")
        cells: dict[Any, dict[str, int]] = {}
        for r in self.rows:
            cells.setdefault(r[other], {})[r["month"]] = r["count"]
        totals = {m: sum(line.get(m, 0) for line in cells.values()) for m in self.period.months()}
        return cells, totals

    def grid(self) -> tuple[list[str], list[list[Any]]] | None:
        """Two dimensions one of which is the month, as the web shows them: a row per value of the
        other, a column per month, totals on both sides (None for any other shape)."""
        if len(self.dims) != 2 or "month" not in self.dims:
            return None
        other = next(d for d in self.dims if d != "month")
        months = sorted({r["month"] for r in self.rows if r["month"]}) + (
            ["日期不详"] if any(r["month"] is None for r in self.rows) else [])
        cells: dict[Any, dict[str, int]] = {}
        for r in self.rows:
            cells.setdefault(r[other], {})[r["month"] or "日期不详"] = r["count"]
        body = [[self.display({other: key}, other), *(line.get(m, 0) for m in months), sum(line.values())]
                for key, line in cells.items()]
        totals = ["合计", *(sum(line.get(m, 0) for line in cells.values()) for m in months),
                  sum(sum(line.values()) for line in cells.values())]
        return [HEADERS[other], *months, "合计"], [*body, totals]

    @staticmethod
    def _value(row: dict[str, Any], key: str) -> Any:
        """A cell: an amount no announcement of the row states is 「—」, not 0 (nothing was stated)."""
        if key in ("budget", "award") and not row.get(f"{key}_posts"):
            return "—"
        return row[key]


def stats(store: Store, dims: Sequence[str], period: Period, *, channels: Sequence[str] | None = None,
          channel_names: dict[str, str] | None = None) -> Table:
    """Counts and reads grouped by `dims`, with zero rows for empty month/channel/group/category cells."""
    found = count_by(store, dims, period.start, period.end, channels=channels, months=period.months())
    registered = channel_groups(store)
    if channels:
        registered = {k: v for k, v in registered.items() if k in channels}
    keys = set(found)
    if dims and set(dims) <= _FILLED:
        keys |= set(_zero_keys(dims, period, registered))
    rows = [dict(zip(dims, k, strict=True)) | {"count": found.get(k, (0, 0))[0], "reads": found.get(k, (0, 0))[1]}
            for k in sorted(keys, key=_sort_key)]
    if not dims:
        rows = [{"count": found.get((), (0, 0))[0], "reads": found.get((), (0, 0))[1]}]
    if "type" in dims:
        sums = amounts_by(store, dims, period.start, period.end, channels=channels)
        for row in rows:
            row.update(zip(AMOUNTS, sums.get(tuple(row[d] for d in dims), (0.0, 0, 0.0, 0)), strict=True))
    return Table(list(dims), rows, period, channel_names or {})


def _zero_keys(dims: Sequence[str], period: Period, registered: dict[str, str]) -> list[tuple[Any, ...]]:
    axes: list[list[Any]] = []
    paired = "channel" in dims and "group" in dims
    for d in dims:
        if d == "month":
            axes.append(period.months())
        elif d == "channel":
            axes.append(sorted(registered))
        elif d == "group":
            axes.append(sorted(set(registered.values())))
        elif d == "category":
            axes.append(list(range(1, 11)))
    keys = list(itertools.product(*axes))
    if paired:
        ci, gi = dims.index("channel"), dims.index("group")
        keys = [k for k in keys if registered.get(k[ci]) == k[gi]]
    return keys


def _sort_key(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((v is None, v if not isinstance(v, int) else f"{v:08d}") for v in key)


# -- formats ----------------------------------------------------------------------------------


def markdown_table(header: Sequence[Any], rows: Sequence[Sequence[Any]], text_columns: int) -> str:
    """A Markdown table; the first `text_columns` columns left-aligned, the rest right-aligned."""
    lines = ["| " + " | ".join(str(h) for h in header) + " |",
             "|" + "|".join("---" if i < text_columns else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def to_csv(table: Table) -> str:
    return csv_text(*table.human_rows())


def to_markdown(table: Table) -> str:
    header, rows = table.human_rows()
    return f"**{table.period.label}**\n\n" + markdown_table(header, rows, len(table.dims))
