"""The statistics queries, written next to the indexes they are planned on.

- `ix_posts_stats (published_at, channel_id, category, item, type, reads)`:
  every count over a period is index-only.
- `ix_posts_month` (SQLite only, migration 0003): the same columns behind
  `substr(published_at, 1, 7)`, so GROUP BY month, channel streams in index
  order without a sort (3× faster at 300k posts). `month_expr` must stay that
  exact expression; `tests/test_stats.py` checks the plan uses the index.
- `ix_posts_item_published (item, published_at)`: coverage finds each item's
  newest post in a period with one seek.
- `post_rollup` (+ `post_rollup_delta` on PostgreSQL; migration 0013): the
  posts counted by month, channel, category, item and type with their reads
  and stated amounts, kept by triggers. A period's whole months are read
  there (a few thousand rows at 5M posts); only its partial months, if any,
  from the posts by the queries below.

PostgreSQL hash-aggregates and needs no month index; it groups on
`date_trunc('month', …)`, ~3× cheaper per row than `to_char`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage.models import MONTH_INDEX
from storage.store import Store
from storage.tables import channels_t, posts_t, rollup_delta_t, rollup_t

__all__ = ["DIMENSIONS", "MONTH_INDEX", "amounts_posts", "channel_groups", "count_by", "count_posts", "count_query",
           "item_counts", "month_expr", "month_text", "newest_of_item", "split_months", "video_totals"]
DIMENSIONS = ("month", "channel", "group", "category", "item", "type")


def month_expr(dialect: str) -> sa.ColumnElement[Any]:
    if dialect == "sqlite":
        # Stored as 'YYYY-MM-DD HH:MM:SS'. Literal 1 and 7, not bound parameters, so the
        # expression is the one ix_posts_month is built on.
        return sa.func.substr(posts_t.c.published_at, sa.literal_column("1"), sa.literal_column("7"))
    return sa.func.date_trunc("month", posts_t.c.published_at)


def month_text(value: Any) -> str | None:
    """'2023-05' from SQLite's text or PostgreSQL's date_trunc timestamp."""
    if value is None or isinstance(value, str):
        return value
    return f"{value.year:04d}-{value.month:02d}"


def _period(start: datetime | None, end: datetime | None) -> list[sa.ColumnElement[bool]]:
    conds = []
    if start is not None:
        conds.append(posts_t.c.published_at >= start)
    if end is not None:
        conds.append(posts_t.c.published_at < end)
    return conds


def count_by(store: Store, dims: Sequence[str], start: datetime | None, end: datetime | None, *,
             channels: Sequence[str] | None = None,
             months: Sequence[str] = ()) -> dict[tuple[Any, ...], tuple[int, int]]:
    """(count, reads) of the posts published in [start, end), grouped by `dims` (DIMENSIONS).
    The period's whole months are read from the rollup, its partial months from the posts."""
    def plain(s: datetime | None, e: datetime | None) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        return count_posts(store, dims, s, e, channels=channels, months=_months(s, e) if months else ())
    found = _by_period(store, dims, start, end, channels, ("posts", "reads"), plain)
    return {k: (int(v[0]), int(v[1])) for k, v in found.items() if v[0]}


def count_posts(store: Store, dims: Sequence[str], start: datetime | None, end: datetime | None, *,
                channels: Sequence[str] | None = None,
                months: Sequence[str] = ()) -> dict[tuple[Any, ...], tuple[int, int]]:
    """`count_by` from the posts themselves; `months` — the period's months, first to last — lets
    SQLite walk ix_posts_month."""
    base = _base_dims(store.dialect, dims, months)
    if base != list(dims):
        return _folded(store, dims, base, start, end, channels=channels, months=months)
    q = count_query(store.dialect, dims, start, end, channels=channels, months=months)
    with store.engine.connect() as conn:
        return {tuple(month_text(r[d]) if d == "month" else r[d] for d in dims): (int(r.count), int(r.reads))
                for r in conn.execute(q).mappings()}


# -- the rollup (migration 0013) ------------------------------------------------------------------

_ROLLUP_COLUMN = {"month": "month", "channel": "channel_id", "category": "category", "item": "item",
                  "type": "type"}
_STORED_EMPTY = {"month": "", "category": 0, "item": 0, "type": ""}  # how the rollup writes None


@dataclass(frozen=True, slots=True)
class MonthSplit:
    """A period as its whole months (`first`…`last`, 'YYYY-MM'; None = open) and the partial
    stretches at its ends; `undated` when the period is all time (posts without a date count)."""

    whole: bool
    first: str | None
    last: str | None
    undated: bool
    edges: tuple[tuple[datetime | None, datetime | None], ...]


def _month_start(when: datetime) -> datetime:
    return datetime(when.year, when.month, 1)


def _next_month(when: datetime) -> datetime:
    return datetime(when.year + when.month // 12, when.month % 12 + 1, 1)


def split_months(start: datetime | None, end: datetime | None) -> MonthSplit:
    """[start, end) → the whole months in it and the partial stretches before and after them.

    >>> whole_year = split_months(datetime(2024, 9, 1), datetime(2025, 9, 1))
    >>> whole_year.first, whole_year.last, whole_year.edges
    ('2024-09', '2025-08', ())
    >>> split_months(datetime(2024, 9, 15), datetime(2024, 11, 3, 12)).edges
    ((datetime.datetime(2024, 9, 15, 0, 0), datetime.datetime(2024, 10, 1, 0, 0)), \
(datetime.datetime(2024, 11, 1, 0, 0), datetime.datetime(2024, 11, 3, 12, 0)))
    """
    first = start if start is None or start == _month_start(start) else _next_month(start)
    after = end if end is None else _month_start(end)  # the first month not wholly inside
    if start is not None and end is not None and first is not None and after is not None and first >= after:
        return MonthSplit(False, None, None, False, ((start, end),) if start < end else ())
    edges: list[tuple[datetime | None, datetime | None]] = []
    if start is not None and first != start:
        edges.append((start, first))
    if end is not None and after != end:
        edges.append((after, end))
    last = None if after is None else (after - timedelta(days=1)).strftime("%Y-%m")
    return MonthSplit(True, None if first is None else first.strftime("%Y-%m"), last, start is None and end is None,
                      tuple(edges))


def _months(start: datetime | None, end: datetime | None) -> list[str]:
    """The months [start, end) touches, first to last (none for an open period)."""
    if start is None or end is None:
        return []
    out, at = [], _month_start(start)
    while at < end:
        out.append(at.strftime("%Y-%m"))
        at = _next_month(at)
    return out


Plain = Callable[[datetime | None, datetime | None], Mapping[tuple[Any, ...], tuple[Any, ...]]]


def _by_period(store: Store, dims: Sequence[str], start: datetime | None, end: datetime | None,
               channels: Sequence[str] | None, values: Sequence[str], plain: Plain, *,
               typed: bool = False) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Sums of `values` by `dims` over [start, end): whole months from the rollup, the partial
    ones by `plain` (a query over the posts), added up key by key."""
    split = split_months(start, end)
    parts = [plain(s, e) for s, e in split.edges]
    if split.whole:
        parts.append(_rollup(store, dims, split, channels, values, typed=typed))
    out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    for part in parts:
        for key, sums in part.items():
            _add(out, key, sums)
    return out


def _add(out: dict[tuple[Any, ...], Any], key: tuple[Any, ...], sums: tuple[Any, ...]) -> None:
    """Add `sums` to `out[key]`, element by element."""
    was = out.get(key)
    out[key] = sums if was is None else tuple(a + b for a, b in zip(was, sums, strict=True))


def _rollup(store: Store, dims: Sequence[str], split: MonthSplit, channels: Sequence[str] | None,
            values: Sequence[str], *, typed: bool) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """Sums of `values` by `dims` over `split`'s whole months, from the rollup and the deltas not
    yet folded into it (PostgreSQL) — one statement, so one snapshot of both."""
    base = list(dict.fromkeys("channel" if d == "group" else d for d in dims))
    cols = [_ROLLUP_COLUMN[d] for d in base]

    def part(table: sa.Table) -> sa.Select[Any]:
        q = sa.select(*(table.c[c] for c in dict.fromkeys((*cols, "posts", *values))))
        if split.first is not None:
            q = q.where(table.c.month >= split.first)
        q = q.where(table.c.month <= split.last) if split.last is not None else q
        if not split.undated:
            q = q.where(table.c.month != "")
        if channels:
            q = q.where(table.c.channel_id.in_(list(channels)))
        return q.where(table.c.type != "") if typed else q

    both = sa.union_all(part(rollup_t), part(rollup_delta_t)).subquery()
    q = sa.select(*(both.c[c] for c in cols), *(sa.func.sum(both.c[v]) for v in values))
    if cols:
        q = q.group_by(*(both.c[c] for c in cols))
    q = q.having(sa.func.sum(both.c.posts) != 0)  # a key whose posts all moved away
    groups = channel_groups(store) if "group" in dims else {}
    out: dict[tuple[Any, ...], tuple[Any, ...]] = {}
    with store.engine.connect() as conn:
        for row in conn.execute(q):
            stored = dict(zip(base, row[: len(cols)], strict=True))
            key = {d: None if v == _STORED_EMPTY.get(d, object()) else v for d, v in stored.items()}
            if groups:
                key["group"] = groups.get(str(key["channel"]))
            _add(out, tuple(key[d] for d in dims), tuple(row[len(cols):]))
    return out


# ix_posts_month's order (SQLite): grouping by all of these streams the index without a sort.
_MONTH_ORDER = ("month", "channel", "category", "item", "type")


def _base_dims(dialect: str, dims: Sequence[str], months: Sequence[str]) -> list[str]:
    """What to group by in SQL for `dims`; the rest is folded in Python (`_folded`), exactly.
    - `group`: by channel — the channels are few, and a join of every post to its channel for the
      group's name is what cost 1.7 s at 1M posts.
    - On SQLite, a period given by its months, for the item or two dimensions or more: by the
      shortest run of ix_posts_month's columns that holds them. SQLite sorts to group unless the
      index gives the order; a few thousand rows then sum quickly (1M posts, p50: group × category
      870 → 97 ms, channel × item 1,102 → 140 ms, item 777 → 149 ms; bench/stats.py)."""
    wanted = list(dict.fromkeys(d if d != "group" else "channel" for d in dims))
    many = "item" in wanted or "group" in dims or len(wanted) > 1  # one small column sorts fast enough (type: 80 ms)
    if dialect == "sqlite" and months and many and set(wanted) <= set(_MONTH_ORDER):
        # The shortest run of the index's columns that holds every wanted one.
        prefix = list(_MONTH_ORDER[: max(_MONTH_ORDER.index(d) for d in wanted) + 1]) if wanted else []
        if set(prefix) != set(dims):
            return prefix
        return list(dims)
    return wanted


def _folded(store: Store, dims: Sequence[str], base: Sequence[str], start: datetime | None, end: datetime | None,
            *, channels: Sequence[str] | None, months: Sequence[str]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """`count_by(dims)` from the finer `count_by(base)`: each row added to its coarser key."""
    groups = channel_groups(store) if "group" in dims else {}
    out: dict[tuple[Any, ...], tuple[int, int]] = {}
    fine = count_posts(store, base, start, end, channels=channels, months=months)
    for key, sums in fine.items():
        row = dict(zip(base, key, strict=True))
        if groups:
            row["group"] = groups.get(row["channel"])
        _add(out, tuple(row[d] for d in dims), sums)
    return out


def count_query(dialect: str, dims: Sequence[str], start: datetime | None, end: datetime | None, *,
                channels: Sequence[str] | None = None, months: Sequence[str] = ()) -> sa.Select[Any]:
    """The statement `count_by` runs (a test reads its plan)."""
    exprs = _dimensions(dialect)
    cols = [exprs[d].label(d) for d in dims]
    q = sa.select(*cols, sa.func.count().label("count"),
                  sa.func.coalesce(sa.func.sum(posts_t.c.reads), 0).label("reads")).select_from(posts_t)
    if "group" in dims:
        q = q.join(channels_t, channels_t.c.id == posts_t.c.channel_id)
    q = q.where(*_period(start, end))
    if channels:
        q = q.where(posts_t.c.channel_id.in_(list(channels)))
    if "month" in dims and months and dialect == "sqlite":
        # Redundant with the date range, but lets SQLite walk ix_posts_month in group order.
        q = q.where(exprs["month"].between(months[0], months[-1]))
    if cols:
        # Month first: the order ix_posts_month keeps, so SQLite groups without sorting.
        q = q.group_by(*sorted((exprs[d] for d in dims), key=lambda e: e is not exprs["month"]))
    return q


def _dimensions(dialect: str) -> dict[str, sa.ColumnElement[Any]]:
    return {"month": month_expr(dialect), "channel": posts_t.c.channel_id, "group": channels_t.c.group_name,
            "category": posts_t.c.category, "item": posts_t.c.item, "type": posts_t.c.type}


def amounts_by(store: Store, dims: Sequence[str], start: datetime | None, end: datetime | None, *,
               channels: Sequence[str] | None = None) -> dict[tuple[Any, ...], tuple[float, int, float, int]]:
    """The procurement amounts the announcements published in [start, end) state, in 元, grouped by
    `dims`: (预算金额 sum, announcements stating one, 中标/成交金额 sum, announcements stating one).
    Only posts with an announcement type count (a procurement channel's); a post states an amount
    when its page did (`extra.budget`, `extra.award`, parsed by the procurement connector).
    Whole months from the rollup, partial ones from the posts."""
    def plain(s: datetime | None, e: datetime | None) -> dict[tuple[Any, ...], tuple[Any, ...]]:
        return amounts_posts(store, dims, s, e, channels=channels)
    found = _by_period(store, dims, start, end, channels, ("budget", "budget_n", "award", "award_n"), plain,
                       typed=True)
    return {k: (round(float(v[0]), 2), int(v[1]), round(float(v[2]), 2), int(v[3])) for k, v in found.items()}


def amounts_posts(store: Store, dims: Sequence[str], start: datetime | None, end: datetime | None, *,
                  channels: Sequence[str] | None = None) -> dict[tuple[Any, ...], tuple[float, int, float, int]]:
    """`amounts_by` from the posts themselves."""
    exprs = _dimensions(store.dialect)
    budget, award = _amount(store.dialect, "budget"), _amount(store.dialect, "award")
    q = sa.select(*(exprs[d].label(d) for d in dims),
                  sa.func.coalesce(sa.func.sum(budget), 0).label("budget"), sa.func.count(budget).label("budget_n"),
                  sa.func.coalesce(sa.func.sum(award), 0).label("award"), sa.func.count(award).label("award_n"),
                  ).select_from(posts_t)
    if "group" in dims:
        q = q.join(channels_t, channels_t.c.id == posts_t.c.channel_id)
    q = q.where(*_period(start, end), posts_t.c.type.is_not(None))
    if channels:
        q = q.where(posts_t.c.channel_id.in_(list(channels)))
    if dims:
        q = q.group_by(*(exprs[d] for d in dims))
    with store.engine.connect() as conn:
        return {tuple(month_text(r[d]) if d == "month" else r[d] for d in dims):
                (round(float(r.budget), 2), int(r.budget_n), round(float(r.award), 2), int(r.award_n))
                for r in conn.execute(q).mappings()}


def _amount(dialect: str, name: str) -> sa.ColumnElement[Any]:
    """`extra[name]` where it is a number (NULL otherwise: text such as 「详见公告」 states no amount),
    as the rollup's triggers read it."""
    if dialect == "sqlite":
        return sa.case((sa.func.json_type(posts_t.c.extra, f"$.{name}").in_(["integer", "real"]),
                        sa.func.json_extract(posts_t.c.extra, f"$.{name}")))
    return sa.case((sa.func.jsonb_typeof(posts_t.c.extra[name]) == "number", posts_t.c.extra[name].as_float()))


def channel_groups(store: Store) -> dict[str, str]:
    """Every registered channel id → its group name."""
    with store.engine.connect() as conn:
        return {r.id: r.group_name for r in conn.execute(sa.select(channels_t.c.id, channels_t.c.group_name))}


def item_counts(
    store: Store, items: Sequence[int], start: datetime | None, end: datetime | None
) -> dict[int, tuple[int, datetime | None]]:
    """Each 清单 item with posts in [start, end): (count, newest published_at) — the counts from
    `count_by`, each newest date one seek on ix_posts_item_published."""
    counts = count_by(store, ["item"], start, end)
    found: dict[int, tuple[int, Any]] = {}
    with store.engine.connect() as conn:
        for number in items:
            n = counts.get((number,), (0, 0))[0]
            if n:
                newest = conn.execute(sa.select(posts_t.c.published_at).where(
                    posts_t.c.item == number, posts_t.c.published_at.is_not(None), *_period(start, end))
                    .order_by(posts_t.c.published_at.desc()).limit(1)).scalar()
                found[number] = (n, newest)
    # SQLite may return a datetime column read this way as text
    return {k: (n, datetime.fromisoformat(v) if isinstance(v, str) else v) for k, (n, v) in found.items()}


def newest_of_item(
    store: Store, item: int, start: datetime | None, end: datetime | None, limit: int
) -> list[dict[str, Any]]:
    """The item's newest posts in [start, end): title, url, published_at."""
    with store.engine.connect() as conn:
        rows = (
            conn.execute(
                sa.select(posts_t.c.title, posts_t.c.url, posts_t.c.published_at)
                .where(posts_t.c.item == item, *_period(start, end))
                .order_by(posts_t.c.published_at.desc().nulls_last())
                .limit(limit)
            )
            .mappings()
            .all()
        )
    return [dict(r) for r in rows]


def video_totals(store: Store, channels: Sequence[str], start: datetime | None, end: datetime | None
                 ) -> dict[str, tuple[int, int, int]]:
    """(videos, views, likes) per channel over [start, end): the posts a 视频号 export made
    (`extra.media == "video"`; their `reads` are the views). Read in Python from the few
    channels given: the JSON field is written differently by the two databases."""
    q = (sa.select(posts_t.c.channel_id, posts_t.c.reads, posts_t.c.likes, posts_t.c.extra)
         .where(posts_t.c.channel_id.in_(list(channels)), *_period(start, end)))
    out: dict[str, tuple[int, int, int]] = {}
    with store.engine.connect() as conn:
        for channel, reads, likes, extra in conn.execute(q):
            if isinstance(extra, dict) and extra.get("media") == "video":
                n, views, liked = out.get(channel, (0, 0, 0))
                out[channel] = (n + 1, views + (reads or 0), liked + (likes or 0))
    return out
