"""Search as the CLI, the web page and the Atom feed ask for it: one query string
plus filters, to the contract's JSON shape."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from aggregator.clock import iso_local
from aggregator.services.recent import CUBE_ROWS, KEPT_ROWS, KeptCubes, KeptSnippets, KeptTwins, RecentSearches
from storage.records import PostRef, SearchMark
from storage.search import (
    PG_FEW,
    TWIN_DAYS,
    FacetCube,
    ParsedQuery,
    SearchFilters,
    SearchResult,
    fold,
    notice_key,
    parse_query,
    snippet,
)
from storage.store import Store


class SearchError(ValueError):
    """A filter the office typed wrong (the message says which and how)."""


def _date(value: str, key: str) -> date:
    try:
        return date.fromisoformat(value.strip().replace("/", "-"))
    except ValueError:
        raise SearchError(f"{key}：{value!r} 不是日期（应写作 2024-09-01）") from None


def _ints(values: Sequence[str | int], key: str, high: int) -> list[int]:
    out = []
    for v in values:
        if not str(v).isdigit() or not 1 <= int(v) <= high:
            raise SearchError(f"{key}：{v!r} 应为 1–{high} 的数字")
        out.append(int(v))
    return out


def search_dates(year: str | None, month: str | None, date_from: str | None,
                 date_to: str | None) -> tuple[str | None, str | None]:
    """The date range a search asks for, as `from`/`to` days (inclusive): explicit days win; else an
    academic year (`2024-2025`: 2024-09-01 to 2025-08-31); else a month (`2025-03`)."""
    from aggregator.services.stats import StatsError, academic_year

    if date_from or date_to:
        return date_from or None, date_to or None
    if year:
        try:
            period = academic_year(year)
        except StatsError as exc:
            raise SearchError(f"year：{exc}") from None
        assert period.start is not None and period.end is not None
        return period.start.date().isoformat(), (period.end.date() - timedelta(days=1)).isoformat()
    if month:
        m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", month)
        if not m or not 1 <= int(m.group(2)) <= 12:
            raise SearchError(f"month：{month!r} 不是月份（应写作 2025-03，月份为 1–12）")
        y, mo = int(m.group(1)), int(m.group(2))
        last = date(y + mo // 12, mo % 12 + 1, 1) - timedelta(days=1)
        return date(y, mo, 1).isoformat(), last.isoformat()
    return None, None


@dataclass(slots=True)
class Search:
    query: str
    result: SearchResult
    terms: list[str]

    def to_json(self, also: dict[int, list[PostRef]] | None = None) -> dict[str, Any]:
        """The contract's shape; with `also` (`twins`), each result names the same notice on other
        channels (`"also": [{id, channel, title, url, published_at}]`). Every post stays a result."""
        def twin(c: PostRef) -> dict[str, Any]:
            return {"id": c.id, "channel": c.channel_id, "title": c.title, "url": c.url,
                    "published_at": iso_local(c.published_at)}

        return {
            "total": self.result.total,
            "results": [
                {
                    "id": r["id"],
                    "channel": r["channel_id"],
                    "title": r["title"],
                    "url": r["url"],
                    "published_at": iso_local(r["published_at"]),
                    "item": r["item"],
                    "category": r["category"],
                    **({"also": [twin(c) for c in also.get(r["id"], [])]} if also is not None else {}),
                }
                for r in self.result.rows
            ],
        }

    def title_parts(self, title: str) -> list[tuple[str, bool]]:
        """The title in pieces with the query's terms marked (True), for the result list.

        >>> Search("预算", SearchResult(0, []), ["预算"]).title_parts("2024年部门预算与预算说明")
        [('2024年部门', False), ('预算', True), ('与', False), ('预算', True), ('说明', False)]
        """
        folded = fold(title)
        if len(folded) != len(title):  # a normalisation that changes the length: no safe positions
            return [(title, False)]
        hit = [False] * len(title)
        for term in (t for t in self.terms if t):
            start = folded.find(term)
            while start >= 0:
                hit[start : start + len(term)] = [True] * len(term)
                start = folded.find(term, start + len(term))
        parts: list[tuple[str, bool]] = []
        for ch, on in zip(title, hit, strict=True):
            if parts and parts[-1][1] == on:
                parts[-1] = (parts[-1][0] + ch, on)
            else:
                parts.append((ch, on))
        return parts

    def snippets(self, store: Store, kept: KeptSnippets | None = None) -> dict[int, str]:
        """A piece of each result's body around its first hit, for people; a post found
        by the text of an attachment shows that attachment's name and the piece of it. With
        `kept` (the web pages'), a post's piece made at the same count of the store's changes
        (`SearchMark.changes`: any edit of what a search shows moves it) is not made again, and
        only the other posts' texts are read."""
        mark, terms = self.result.mark, tuple(self.terms)
        keys = {r["id"]: (r["id"], terms, mark.changes) for r in self.result.rows} \
            if kept is not None and mark is not None else {}
        out = {i: piece for i, key in keys.items() if kept is not None and (piece := kept.get(key)) is not None}
        texts = store.posts.texts([r["id"] for r in self.result.rows if r["id"] not in out])
        for r in self.result.rows:
            if r["id"] not in out:
                out[r["id"]] = self._snippet(r, *texts.get(r["id"], ("", "")))
                if kept is not None and r["id"] in keys:
                    kept.put(keys[r["id"]], out[r["id"]])
        return out

    def _snippet(self, r: dict[str, Any], body: str, attached: str) -> str:
        title_hit = any(t in r["title"].casefold() for t in self.terms)
        if not title_hit and attached and not _has(body, self.terms) and _has(attached, self.terms):
            return attachment_snippet(attached, self.terms)
        department = r.get("department") or ""
        if not title_hit and not _has(body, self.terms) and _has(department, self.terms):
            return f"发布部门：{snippet(department, self.terms)}"
        return "" if title_hit and not body else snippet(body, self.terms)


def twins(store: Store, rows: Sequence[dict[str, Any]], kept: KeptTwins | None = None,
          mark: SearchMark | None = None) -> dict[int, list[PostRef]]:
    """For each result, the same notice published on other channels within `TWIN_DAYS` (newest
    first): shown as 「另见」 under it. Counts are untouched: each copy is still its channel's post.
    One indexed lookup of the page's notice keys (`storage.search.notice_key`). With `kept` and
    the store's `mark` the rows were read at, a page's copies found at that mark are used again:
    any edit of a post moves the mark's count of changes, and a new post its last id."""
    if kept is None or mark is None:
        return _twins(store, rows)
    key = (tuple((r["id"], r["channel_id"], r["published_at"], r.get("notice_key") or r["title"]) for r in rows), mark)
    return kept.made(key, lambda: _twins(store, rows))


def _twins(store: Store, rows: Sequence[dict[str, Any]]) -> dict[int, list[PostRef]]:
    keys = {r["id"]: r["notice_key"] if "notice_key" in r else notice_key(r["title"])
            for r in rows if r.get("published_at") is not None}
    dates = [r["published_at"] for r in rows if r["id"] in keys]
    if not dates:
        return {}
    window = timedelta(days=TWIN_DAYS)
    # A key only one channel's results have: that channel's posts of it are nobody's copies here.
    channels: dict[str, set[str]] = {}
    for r in rows:
        if key := keys.get(r["id"]):
            channels.setdefault(key, set()).add(r["channel_id"])
    alone = {k: next(iter(cs)) for k, cs in channels.items() if len(cs) == 1}
    by_key = store.posts.same_notice(set(channels), min(dates) - window, max(dates) + window, not_on=alone)
    out: dict[int, list[PostRef]] = {}
    for r in rows:
        key, when = keys.get(r["id"]), r.get("published_at")
        if not key or when is None:
            continue
        near = [c for c in by_key.get(key, []) if c.channel_id != r["channel_id"] and c.published_at is not None
                and abs(c.published_at - when) <= timedelta(days=TWIN_DAYS)]
        if near:
            out[r["id"]] = sorted(near, key=lambda c: c.published_at or when, reverse=True)
    return out


def _asked(q: str, channels: Sequence[str], groups: Sequence[str], items: Sequence[str | int],
           categories: Sequence[str | int], types: Sequence[str], date_from: str | None,
           date_to: str | None) -> tuple[ParsedQuery, SearchFilters]:
    """The query and its filters: those given and those typed in the query (`channel:…`)."""
    parsed = parse_query(q)
    f = parsed.filters
    return parsed, SearchFilters(
        channels=[*channels, *f.get("channel", [])],
        groups=[*groups, *f.get("group", [])],
        items=_ints([*items, *f.get("item", [])], "item", 50),
        categories=_ints([*categories, *f.get("category", [])], "category", 10),
        types=[*types, *f.get("type", [])],
        date_from=_date(date_from or f["from"][-1], "from") if (date_from or f.get("from")) else None,
        date_to=_date(date_to or f["to"][-1], "to") if (date_to or f.get("to")) else None,
    )


FacetCounts = dict[str, list[tuple[object, int]]]


def search_facets(store: Store, q: str, *, channels: Sequence[str] = (), groups: Sequence[str] = (),
                  items: Sequence[str | int] = (), categories: Sequence[str | int] = (),
                  types: Sequence[str] = (), date_from: str | None = None, date_to: str | None = None,
                  cubes: KeptCubes | None = None, keep_rows: int = CUBE_ROWS) -> FacetCounts:
    """A search's facet counts. With `cubes` (the words' `FacetCube`s kept at the store's mark, as
    the web pages keep them), every narrowing of the same words by channel, group, 清单 item or
    category, type or whole months is counted from the words' cube, without the store; dates that
    cut a month are counted by the store, and a cube of over `keep_rows` groups is not kept."""
    parsed, filters = _asked(q, channels, groups, items, categories, types, date_from, date_to)
    if cubes is not None and FacetCube.answers(filters):
        # A cube too large to keep still answers the search that made it.
        if (counted := cubes.cube(store, parsed, keep_rows).facets(filters)) is not None:
            return counted
    return store.posts.search(parsed, filters, limit=0, facets=True).facets


def fold_twins(rows: Sequence[dict[str, Any]], also: dict[int, list[PostRef]]) -> list[dict[str, Any]]:
    """The page's results with a later copy of a notice already shown (under 「另见」) left out."""
    shown: set[int] = set()
    kept = []
    for r in rows:
        if r["id"] in shown:
            continue
        kept.append(r)
        shown.add(r["id"])
        shown.update(c.id for c in also.get(r["id"], []))
    return kept


def _has(text: str, terms: Sequence[str]) -> bool:
    norm = fold(text)
    return any(t and t in norm for t in terms)


_SECTION = re.compile(r"【附件：([^】\n]*)】\n")


def attachment_snippet(text: str, terms: Sequence[str]) -> str:
    r"""`附件《name》：…hit…` from a post's attachment text (sections headed 【附件：name】).

    >>> attachment_snippet("【附件：名单.pdf】\n张三 鲲鹏学院\n【附件：表.docx】\n其他", ["鲲鹏"])
    '附件《名单.pdf》：张三 【鲲鹏】学院…'
    """
    sections = [(m.group(1), m.end(), m.start()) for m in _SECTION.finditer(text)]
    for i, (name, start, _) in enumerate(sections):
        end = sections[i + 1][2] if i + 1 < len(sections) else len(text)
        part = text[start:end]
        if _has(part, terms):
            return f"附件《{name}》：{snippet(part, terms)}"
    return snippet(text, terms)


def search(store: Store, q: str, *, channels: Sequence[str] = (), groups: Sequence[str] = (),
           items: Sequence[str | int] = (), categories: Sequence[str | int] = (), types: Sequence[str] = (),
           date_from: str | None = None, date_to: str | None = None, limit: int = 20, offset: int = 0,
           order: str = "newest", facets: bool = False, list_below: int = PG_FEW,
           recent: RecentSearches | None = None, cubes: KeptCubes | None = None) -> Search:
    """With `recent` (the web pages keep one), a newest-first page within the first
    `KEPT_ROWS` rows comes from a kept search where it is still right, and with `cubes` its total
    from the words' facet cube (`aggregator.services.recent`)."""
    parsed, filters = _asked(q, channels, groups, items, categories, types, date_from, date_to)
    if order not in ("newest", "relevance"):
        raise SearchError(f"order：{order!r} 应为 newest 或 relevance")
    limit, offset = max(0, min(limit, 1000)), max(0, offset)
    if recent is not None and order == "newest" and not facets and 0 < offset + limit <= KEPT_ROWS:
        return Search(q, recent.search(store, parsed, filters, limit=limit, offset=offset, list_below=list_below,
                                       cubes=cubes), parsed.terms)
    return Search(q, store.posts.search(parsed, filters, limit=limit, offset=offset, order=order,
                                  facets=facets, list_below=list_below), parsed.terms)
