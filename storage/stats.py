"""The statistics queries, written next to the indexes they are planned on.

- `ix_posts_stats (published_at, channel_id, category, item, type, reads)`:
  every count over a period is index-only.
- `ix_posts_month` (SQLite only, migration 0003): the same columns behind
  `substr(published_at, 1, 7)`, so GROUP BY month, channel streams in index
  order without a sort (3× faster at 300k posts). `month_expr` must stay that
  exact expression; `tests/test_stats.py` checks the plan uses the index.
- `ix_posts_item_published (item, published_at)`: coverage counts each item
  over a period by range.

PostgreSQL hash-aggregates and needs no month index; it groups on
`date_trunc('month', …)`, ~3× cheaper per row than `to_char`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from storage.models import MONTH_INDEX
from storage.store import Store
from storage.tables import channels_t, posts_t

__all__ = ["DIMENSIONS", "MONTH_INDEX", "channel_groups", "count_by", "count_query", "item_counts", "month_expr",
           "month_text", "newest_of_item", "video_totals"]
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
    """(count, reads) of the posts published in [start, end), grouped by `dims` (DIMENSIONS);
    `months` — the period's months, first to last — lets SQLite walk ix_posts_month."""
    base = _base_dims(store.dialect, dims, months)
    if base != list(dims):
        return _folded(store, dims, base, start, end, channels=channels, months=months)
    q = count_query(store.dialect, dims, start, end, channels=channels, months=months)
    with store.engine.connect() as conn:
        return {tuple(month_text(r[d]) if d == "month" else r[d] for d in dims): (int(r.count), int(r.reads))
                for r in conn.execute(q).mappings()}


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
    fine = count_by(store, base, start, end, channels=channels, months=months)
    for key, (n, reads) in fine.items():
        row = dict(zip(base, key, strict=True))
        if groups:
            row["group"] = groups.get(row["channel"])
        coarse = tuple(row[d] for d in dims)
        was = out.get(coarse, (0, 0))
        out[coarse] = (was[0] + n, was[1] + reads)
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
    when its page did (`extra.budget`, `extra.award`, parsed by the procurement connector)."""
    exprs = _dimensions(store.dialect)
    budget, award = posts_t.c.extra["budget"].as_float(), posts_t.c.extra["award"].as_float()
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


def channel_groups(store: Store) -> dict[str, str]:
    """Every registered channel id → its group name."""
    with store.engine.connect() as conn:
        return {r.id: r.group_name for r in conn.execute(sa.select(channels_t.c.id, channels_t.c.group_name))}


def item_counts(
    store: Store, items: Sequence[int], start: datetime | None, end: datetime | None
) -> dict[int, tuple[int, datetime | None]]:
    """Each 清单 item with posts in [start, end): (count, newest published_at)."""
    conds = _period(start, end)
    found: dict[int, tuple[int, Any]] = {}
    with store.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # One range count per item on ix_posts_item_published: 50 short index walks beat
            # SQLite's sorted grouping of the whole period (1M posts: 286 → 77 ms).
            for number in items:
                row = conn.execute(
                    sa.select(sa.func.count(), sa.func.max(posts_t.c.published_at)).where(
                        posts_t.c.item == number, *conds
                    )
                ).one()
                if row[0]:
                    found[number] = (int(row[0]), row[1])
        else:  # PostgreSQL hash-aggregates one scan faster than 50 queries
            q = (
                sa.select(posts_t.c.item, sa.func.count(), sa.func.max(posts_t.c.published_at))
                .where(posts_t.c.item.is_not(None), *conds)
                .group_by(posts_t.c.item)
            )
            found = {r[0]: (int(r[1]), r[2]) for r in conn.execute(q)}
    # SQLite returns max() of a datetime column as text
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
