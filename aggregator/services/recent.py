"""Recent searches kept with the store's mark, so asking again counts only the posts written since.

Counting a common word is the cost of a search page: 78k matches of 100k posts take the index
5–18 ms, and 20–50 ms among one channel's posts; a web page asks the same few searches again
and again (paging, the same query from several desks) while a sync keeps adding posts. A kept
search holds its total and its first rows with the `SearchMark` it was counted at. Asked again:
- nothing written since: the kept answer, without a query;
- only new posts since (the mark's `changes` stands): the new posts are searched alone (they
  are the posts above the kept `last_id`), their count added and their rows merged in;
- any other change (a post edited, retagged or deleted, a channel regrouped, the index rebuilt):
  searched again from scratch.
Every answer is the one an uncached search gives (tests/test_kept_search.py checks it on both
databases through edits of every kind). Only newest-first searches are kept: a relevance
rank moves as posts are added.
"""

from __future__ import annotations

import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

from storage.records import PostRef, SearchMark
from storage.search import PG_FEW, FacetCube, ParsedQuery, SearchFilters, SearchResult
from storage.store import Store

KEPT_ROWS = 200  # a search is kept while its pages end within the first this many rows (ten pages)
PAGE_ROWS = 20  # rows kept at least (a first page)
CUBE_ROWS = 20_000  # a query whose matches group into more is counted by the store at every narrowing


@dataclass(frozen=True, slots=True)
class Kept:
    mark: SearchMark
    total: int
    rows: list[dict[str, Any]]  # the first `len(rows)` of the total, newest first
    window: int  # how many rows were asked for (rows may be fewer: the total)


K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """The last `size` values put, the least recently used going first (thread-safe: a web
    process's requests share one)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._kept.get(key)
            if value is not None:
                self._kept.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> list[K]:
        """Keep `value`; the keys it pushed out."""
        with self._lock:
            self._kept[key] = value
            self._kept.move_to_end(key)
            gone = []
            while len(self._kept) > self.size:
                gone.append(self._kept.popitem(last=False)[0])
            return gone

    def made(self, key: K, make: Callable[[], V]) -> V:
        """The value kept under `key`, else `make()`'s, kept (two requests may both make it)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value

    def pop(self, key: K) -> None:
        with self._lock:
            self._kept.pop(key, None)

    def __len__(self) -> int:
        return len(self._kept)


class RecentSearches:
    """The last `size` searches asked, each with the store's mark it was counted at."""

    def __init__(self, size: int = 256) -> None:  # a first page about 25 KB, ten pages 250 KB
        self._kept: Lru[tuple[Any, ...], Kept] = Lru(size)
        self.get, self.put = self._kept.get, self._kept.put

    def search(self, store: Store, parsed: ParsedQuery, filters: SearchFilters, *, limit: int, offset: int,
               list_below: int = PG_FEW, cubes: KeptCubes | None = None) -> SearchResult:
        """A newest-first search's page and total, from what is kept where it is still right.
        With `cubes` (the web page's, which groups the same words for its facets anyway), a total
        the words' cube can count is taken from it and only the page is read. Its `plan` says
        how: `kept`, `kept+new:<the store's plan>`, `cube:<the store's plan>` or the store's plan."""
        key = (words_key(parsed), _filters_key(filters))
        kept = self.get(key)
        if kept is not None and kept.window >= offset + limit:
            now = store.posts.search_mark()
            if now == kept.mark:
                return SearchResult(kept.total, kept.rows[offset : offset + limit], plan="kept", mark=now)
            if now.changes == kept.mark.changes:
                since = replace(filters, after_id=kept.mark.last_id)
                new = store.posts.search(parsed, since, limit=kept.window, list_below=list_below)
                # Read at one moment (new.mark) with no change since the kept count: the posts up to
                # the kept id are as they were counted, and the new ones are all above it.
                if new.mark is not None and new.mark.changes == kept.mark.changes:
                    rows = newest_first([*kept.rows, *new.rows])[: kept.window]
                    self.put(key, Kept(new.mark, kept.total + new.total, rows, kept.window))
                    return SearchResult(kept.total + new.total, rows[offset : offset + limit],
                                        plan=f"kept+new:{new.plan}", mark=new.mark)
        window = max(offset + limit, PAGE_ROWS)
        if cubes is not None and FacetCube.answers(filters):
            counted = _counted_by_cube(store, parsed, filters, window, list_below, cubes)
            if counted is not None:
                made, plan = counted
                self.put(key, made)
                return SearchResult(made.total, made.rows[offset : offset + limit], plan=plan, mark=made.mark)
        found = store.posts.search(parsed, filters, limit=window, list_below=list_below)
        if found.mark is not None:
            self.put(key, Kept(found.mark, found.total, found.rows, window))
        return SearchResult(found.total, found.rows[offset : offset + limit], plan=found.plan, mark=found.mark)


class KeptCubes:
    """The last `size` queries' facet cubes (`FacetCube`), each at its mark, kept as searches are:
    asked again, the posts stored since are grouped alone and added in; after any other change
    the cube is grouped afresh. One cube is made at a time per query (the requests narrowing the
    same words wait for it). A cube of over `keep_rows` groups answers its own request only.

    A cube this process does not have, or cannot bring to now, is looked for in the store
    (`Posts.stored_cube`), where every process keeps the cubes it grouped: with several web
    processes, and after a restart, a query's matches are grouped once, not once a process.
    `made` counts how each cube asked for came: `kept`, `topped` (kept, with the posts since
    added), `stored` (from the store, brought to now) or `grouped` afresh."""

    def __init__(self, size: int = 32) -> None:
        self._kept: Lru[str, FacetCube] = Lru(size)
        self.kept = self._kept.get
        self._making: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()  # over `_making` and `made`
        self.made: Counter[str] = Counter()

    def cube(self, store: Store, parsed: ParsedQuery, keep_rows: int) -> FacetCube:
        key = words_key(parsed)
        with self._lock:
            making = self._making.setdefault(key, threading.Lock())
        with making:
            kept = self.kept(key)
            cube = self._topped_up(store, parsed, kept) if kept is not None else None
            if cube is not None:
                self._count("kept" if cube is kept else "topped")
            else:
                cube = self._stored_or_grouped(store, parsed, key, keep_rows)
            if len(cube.rows) <= keep_rows:
                gone = self._kept.put(key, cube)
            else:  # answers this request only
                self._kept.pop(key)
                gone = [key]
            with self._lock:
                for old in gone:
                    self._making.pop(old, None)
            return cube

    def _stored_or_grouped(self, store: Store, parsed: ParsedQuery, key: str, keep_rows: int) -> FacetCube:
        """The cube the store keeps for these words brought to now, or the matches grouped afresh;
        either way the store then keeps it at its new mark for the other processes."""
        stored = store.posts.stored_cube(key)
        cube = self._topped_up(store, parsed, stored) if stored is not None else None
        how = "stored"
        if cube is None:
            cube, how = store.posts.facet_cube(parsed), "grouped"
        self._count(how)
        if cube is not stored and len(cube.rows) <= keep_rows:
            store.posts.keep_cube(key, cube)
        return cube

    def _count(self, how: str) -> None:
        with self._lock:
            self.made[how] += 1

    @staticmethod
    def _topped_up(store: Store, parsed: ParsedQuery, kept: FacetCube) -> FacetCube | None:
        """The kept cube brought to now, or None when a change since means grouping afresh."""
        now = store.posts.search_mark()
        if kept.mark is None or now.changes != kept.mark.changes:
            return None
        if now == kept.mark:
            return kept
        new = store.posts.facet_cube(parsed, after_id=kept.mark.last_id)
        return kept.merged(new) if new.mark is not None and new.mark.changes == kept.mark.changes else None


class KeptSnippets(Lru[tuple[int, tuple[str, ...], int], str]):
    """Result pieces (`Search.snippets`) by post, query terms and the store's count of changes
    at which they were made: a page asked again shows the same posts' pieces without reading
    their texts (a search page's third read) or folding them again."""

    def __init__(self, size: int = 4096) -> None:  # twenty pages of 200 searches; a piece about 80 characters
        super().__init__(size)


class KeptTwins(Lru[tuple[Any, ...], dict[int, list[PostRef]]]):
    """A page's 「另见」 (`twins`) by its rows and the store's mark they were read at."""

    def __init__(self, size: int = 1024) -> None:  # a page's copies: most often none, a few refs at most
        super().__init__(size)


def _counted_by_cube(store: Store, parsed: ParsedQuery, filters: SearchFilters, window: int, list_below: int,
                     cubes: KeptCubes) -> tuple[Kept, str] | None:
    """The search at its words' cube's mark: the total counted from the cube, the page read from
    the posts up to the cube's last id (None when a change since means counting afresh). A
    channel's page of a common word then costs a walk of that channel's newest posts, not a
    count of its 8k posts against 78k matches (20–50 ms)."""
    cube = cubes.cube(store, parsed, CUBE_ROWS)
    total, matches = cube.count(filters), cube.count(SearchFilters())
    if cube.mark is None or total is None or matches is None:
        return None
    # The page lies in the newest months that hold it, as the cube counts them: only those posts
    # are read (a rare phrase in one channel: its 2.9k matches rechecked, 30–50 ms, otherwise).
    start = cube.newest_months(filters, window)
    among = filters if start is None or (filters.date_from and filters.date_from >= start) \
        else replace(filters, date_from=start)
    found = store.posts.search(parsed, replace(among, upto_id=cube.mark.last_id), limit=window,
                               list_below=list_below, known=(matches, cube.count(among) or 0))
    if found.mark is None or found.mark.changes != cube.mark.changes:
        return None
    return Kept(cube.mark, total, found.rows, window), f"cube:{found.plan}"


def words_key(parsed: ParsedQuery) -> str:
    """What a query asks for, as a key (its filters aside)."""
    return repr((parsed.groups, parsed.exclude, parsed.empty_terms))


def _filters_key(f: SearchFilters) -> tuple[Any, ...]:
    """Every field of the filters (lists as tuples), whatever fields they come to have."""
    return tuple(tuple(v) if isinstance(v, list) else v for v in (getattr(f, x.name) for x in fields(f)))


_EARLIEST = datetime.min


def newest_first(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in the store's order of a newest-first search: publication time descending with the
    undated last, then id descending.

    >>> [r["id"] for r in newest_first([{"id": 1, "published_at": None},
    ...     {"id": 2, "published_at": datetime(2024, 1, 1)}, {"id": 3, "published_at": datetime(2024, 1, 1)}])]
    [3, 2, 1]
    """
    return sorted(rows, key=lambda r: (r["published_at"] is not None, r["published_at"] or _EARLIEST, r["id"]),
                  reverse=True)
