"""Exact substring search over posts, indexed, on SQLite and PostgreSQL.

Chinese words are one or two characters, so word segmentation and trigram
indexes both fail the office's first queries (招生, 预算). Here a post's
normalised text (title, body, department, attachment names, the text of its
kept attachments) is indexed twice
(the scheme README.md's search semantics describe, with the single characters split off):

- a *positional stream*: for each run of letters/digits/Han characters, its
  overlapping character pairs in order, and between two runs a *boundary*
  token joining the last character of one to the first of the next —
  `招生章程，公告` → `招生 生章 章程 程x公 公告`; `3.5万` → `3x5 5万`;
- the post's *characters*, each once and without positions (`招 生 章 程 公 告`),
  plus the title's characters marked as such (for title-first ranking).

A query of one character looks up the characters; any longer one is the
phrase of its stream (`招生` → `招生`; `A-1` → `ax1`). Positions are what
phrases need and what an index pays most for, so the characters — a third
of the tokens — carry none: on text that repeats itself as official Chinese
does, the index is ~1.9× the text where characters with positions made it
~2.4× (bench/search.py). Fields never form one phrase (a break token or a
position gap lies between them).

The result is the set a `LIKE '%q%'` scan over each normalised field
returns, with one documented difference: any run of punctuation or spaces
matches any other (a boundary token stands for all of them), so 招生，公告
also finds 招生。公告, and `3.5` finds `3,5`.

Each database has a `SearchBackend`: SQLite keeps the stream in a
contentless FTS5 table with positions and the characters in a second one
with rowids only; PostgreSQL keeps both in one `tsvector` (characters as
lexemes without positions) with a GIN index. Tokens are written as literal
lexemes, so neither depends on a text-search parser or a database locale.
"""

from __future__ import annotations

import hashlib
import json
import operator
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from storage.records import SearchMark
from storage.tables import copy_rows

BOUNDARY = "x"  # between the two characters of a boundary token (the only three-character tokens)
FIELD_BREAK = "zq9sepq"  # between two fields of the stream: no query produces it
_RUN = re.compile(r"[^\W_]+")


# NFKC's own images of full-width ASCII (，→ , Ａ→A) and the ideographic space: Chinese text
# is full of these, and CPython's unicodedata.normalize() is slow (~0.3 ms a post) on any text that is
# not already normalised. Mapped first, most text passes the quick check untouched.
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")


def _half_width(m: re.Match[str]) -> str:
    return " " if m[0] == "\u3000" else chr(ord(m[0]) - 0xFEE0)


def fold(text: str) -> str:
    """The one normalisation of index and query: NFKC (full-width → half-width), case-folded."""
    text = _FULL_WIDTH.sub(_half_width, text)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return text.casefold()


# The same notice on two channels (the procurement centre and 中国政府采购网; the 研究生院 and the
# official account) differs by the school's name, a column prefix (权威发布｜, 【图说】), a batch
# note (（第一批）) or a trailing 发布: what is left is the notice.
_PREFIX = re.compile(r"^(?:【[^】]{1,10}】|[^｜|]{1,8}[｜|]|关于)+")
_ORG = re.compile(r"^(?:(?![与和及在的])[\u4e00-\u9fff]){2,12}?(?:大学|学院)(?=.)")  # the school's name
_TAIL = re.compile(r"(?:[（(][^）)]{1,10}[)）]|发布|公开|的通知|的公告)+$")
_NOISE = re.compile(r"[\s\W_]+")
TWIN_DAYS = 14  # a notice's copies are published within two weeks of each other
TWIN_MIN = 8  # characters: shorter titles (通知公告, 学校要闻) say too little to tie two posts


def notice_core(title: str) -> str:
    """What a title says without the wrapping channels put round the same notice.

    >>> notice_core("权威发布｜2025年硕士研究生拟录取名单公示")
    '2025年硕士研究生拟录取名单公示'
    >>> notice_core("东湖科技大学2025年硕士研究生拟录取名单公示（第一批）")
    '2025年硕士研究生拟录取名单公示'
    """
    core = fold(title)
    core = _PREFIX.sub("", core)
    core = _ORG.sub("", core)
    core = _TAIL.sub("", core)
    return _NOISE.sub("", core)


def notice_key(title: str) -> str | None:
    """The key posts of one notice share (`posts.notice_key`, indexed): a digest of its core;
    None for a title too short to tie two posts."""
    core = notice_core(title)
    return hashlib.sha1(core.encode()).hexdigest()[:16] if len(core) >= TWIN_MIN else None


def runs(text: str) -> list[str]:
    return _RUN.findall(fold(text))


def _stream(parts: Sequence[str], tokens: list[str]) -> None:
    """The pairs of each run and a boundary token between runs (see the module docstring)."""
    prev = ""
    for run in parts:
        if prev:
            tokens.append(prev[-1] + BOUNDARY + run[0])
        tokens.extend(map(operator.add, run, run[1:]))
        prev = run


def stream_tokens(fields: Iterable[str | None], chars: set[str]) -> list[str]:
    """The positional stream of `fields`, a break between fields; adds their characters to `chars`."""
    tokens: list[str] = []
    for text in fields:
        parts = runs(text) if text else []
        if not parts:
            continue
        if tokens:
            tokens.append(FIELD_BREAK)
        _stream(parts, tokens)
        chars.update(*parts)
    return tokens


@dataclass(slots=True)
class PostTokens:
    title: list[str]  # the title's stream
    rest: list[str]  # the stream of body, department, attachment names and the attachments' text
    title_chars: list[str]  # sorted: a contentless index deletes with exactly what it was given
    chars: list[str]  # every character of the post, sorted


def post_tokens(row: Mapping[str, Any]) -> PostTokens:
    """A post row (title, body, department, attachments, attachment_text) → what it is indexed under."""
    title_chars: set[str] = set()
    title = stream_tokens([row["title"]], title_chars)
    chars = set(title_chars)
    fields = post_fields("", row.get("body"), row.get("department"), row.get("attachments"))[1:]
    rest = stream_tokens([*fields, row.get("attachment_text")], chars)
    return PostTokens(title, rest, sorted(title_chars), sorted(chars))


def post_fields(title: str, body: str | None, department: str | None,
                attachments: Sequence[dict[str, str]] | None) -> list[str | None]:
    return [title, body, department, *(a.get("name", "") for a in attachments or ())]


def is_char(phrase: Sequence[str]) -> bool:
    """A one-character term: looked up among the characters, not in the stream."""
    return len(phrase) == 1 and len(phrase[0]) == 1


def term_tokens(term: str) -> list[str] | None:
    """A query term → the phrase of tokens that finds it (None: nothing searchable in it)."""
    parts = runs(term)
    if not parts:
        return None
    if len(parts) == 1 and len(parts[0]) == 1:
        return parts  # one character: its token, wherever it stands
    tokens: list[str] = []
    _stream(parts, tokens)
    return tokens


# -- query language --------------------------------------------------------------------

FILTER_KEYS = ("channel", "group", "item", "category", "type", "from", "to")
_LEXEME = re.compile(r'"([^"]*)"?|(\S+)')


@dataclass(slots=True)
class ParsedQuery:
    """`招生 "拟录取 名单" -研究生 预算 OR 决算 channel:portal-news from:2024-09-01`"""

    groups: list[list[list[str]]] = field(default_factory=list)  # AND of (OR of phrases)
    exclude: list[list[str]] = field(default_factory=list)
    filters: dict[str, list[str]] = field(default_factory=dict)
    empty_terms: int = 0  # terms with nothing searchable (punctuation, emoji only)
    terms: list[str] = field(default_factory=list)  # normalised positive terms, for highlighting


def parse_query(q: str, *, max_len: int = 2000) -> ParsedQuery:
    """Any input is safe: quotes, FTS operators, SQL and emoji are only ever text."""
    parsed = ParsedQuery()
    pending_or = False
    for m in _LEXEME.finditer(q[:max_len]):
        quoted, word = m.group(1), m.group(2)
        if word is not None and word == "OR":
            pending_or = bool(parsed.groups)
            continue
        negate = False
        text = quoted if quoted is not None else word or ""
        if quoted is None and text.startswith("-") and len(text) > 1:
            negate, text = True, text[1:]
        if quoted is None and ":" in text:
            key, _, value = text.partition(":")
            if key.lower() in FILTER_KEYS and value:
                parsed.filters.setdefault(key.lower(), []).append(value)
                pending_or = False
                continue
        tokens = term_tokens(text)
        if tokens is None:
            parsed.empty_terms += 1
            continue
        if negate:
            parsed.exclude.append(tokens)
            pending_or = False
            continue
        parsed.terms.append(fold(text).strip())
        if pending_or:
            parsed.groups[-1].append(tokens)
        else:
            parsed.groups.append([tokens])
        pending_or = False
    return parsed


# -- backends ----------------------------------------------------------------------------------

FTS_TABLE = "post_fts"  # SQLite: the positional stream (t = title, r = the rest)
CHARS_TABLE = "post_chars"  # SQLite: the characters, rowids only
PG_TABLE = "post_search"  # PostgreSQL: one tsvector per post
_TITLE_MARK = {"sqlite": "t", "postgresql": "_"}  # a title character's token: mark + character
_PG_MAX_POSITION = 16383  # tsvector positions stop there


def is_search_table(name: str | None) -> bool:
    """Tables the search index owns (FTS5 adds shadow tables post_fts_*, post_chars_*)."""
    return bool(name) and (name == PG_TABLE or str(name).startswith((FTS_TABLE, CHARS_TABLE)))


@dataclass(slots=True)
class SearchFilters:
    channels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None  # the whole day is included
    after_id: int | None = None  # only posts stored after this one (what a kept search has not counted)
    upto_id: int | None = None  # only posts up to this one (a page read at a kept facet cube's mark)

    @property
    def any(self) -> bool:
        return any((self.channels, self.groups, self.items, self.categories, self.types, self.date_from,
                    self.date_to, self.after_id is not None, self.upto_id is not None))


@dataclass(slots=True)
class SearchResult:
    total: int
    rows: list[dict[str, Any]]
    facets: dict[str, list[tuple[object, int]]] = field(default_factory=dict)
    plan: str = ""  # how the store found them (SQLite: `count:… page:…`), for benches and tests
    facet_rows: list[FacetRow] = field(default_factory=list)  # what the facets were folded from
    mark: SearchMark | None = None  # where the store stood for this answer (`Posts.search`)


Statement = tuple[str, list[dict[str, Any]]]


class SearchBackend:
    """What one database needs to keep the index and to answer a query.
    `backend_for(dialect)` picks the implementation; the store calls nothing else."""

    dialect: str
    ddl: tuple[str, ...]

    def index(self, rows: Sequence[Mapping[Any, Any]]) -> list[Statement]:
        """executemany statements that (re)index `rows` (id, title, body, department, attachments)."""
        raise NotImplementedError

    def tokens(self, rows: Sequence[Mapping[Any, Any]]) -> Iterable[Any]:
        """What each of `rows` is indexed under, in order (no id needed), made as it is read."""
        return map(post_tokens, rows)

    def index_new(self, conn: sa.Connection, ids: Sequence[int], tokens: Iterable[Any]) -> None:
        """Index posts the index has never held (new ids, with their `tokens`), the fastest way
        the database has."""
        raise NotImplementedError

    def unindex(self, rows: Sequence[Mapping[Any, Any]]) -> list[Statement]:
        """Statements that take `rows` — with the fields they were indexed with — out of the index."""
        raise NotImplementedError

    def clear(self) -> list[str]:
        raise NotImplementedError

    def rebuild_statements(self) -> tuple[list[str], list[str]]:
        """SQL to run before and after indexing every post again (`xxgk reindex`)."""
        return [], []

    def settings(self, facets: bool) -> dict[str, str]:
        """The settings a search's snapshot begins with (PostgreSQL's `SET LOCAL`): the store sets
        them in the statement that reads its mark, one round trip for both, before `search`."""
        return {}

    def tidy(self, written: int, total: int) -> list[str]:
        """Upkeep after a sync wrote `written` posts into a store of `total`."""
        return []

    def after_rebuild(self) -> list[str]:
        """Statements to run outside any transaction once a rebuild has committed."""
        return []

    def search(self, conn: sa.Connection, posts: sa.Table, channels: sa.Table, parsed: ParsedQuery,
               filters: SearchFilters, *, limit: int, offset: int, order: str, facets: bool,
               list_below: int = 0, known: tuple[int, int] | None = None) -> SearchResult:
        """`known`: the words' matches and the total under these filters, counted at this moment
        already (a kept facet cube's): only the page is read, by the way those counts make cheapest."""
        raise NotImplementedError


def _filter_conditions(posts: sa.Table, channels: sa.Table, filters: SearchFilters,
                       unindexed: bool = False) -> list[sa.ColumnElement[bool]]:
    """The filters as conditions on posts. `unindexed` (SQLite, posts after an id): the other
    conditions as `+posts.col`, so the planner walks the few posts past the id by rowid instead
    of a channel's whole index (a channel's new posts since a kept search: 8k entries read)."""
    def bare(name: str) -> sa.ColumnElement[Any]:  # `+posts.col`: a condition no index serves
        return sa.literal_column(f"+{posts.name}.{name}", posts.c[name].type)

    def col(name: str) -> sa.ColumnElement[Any]:
        return bare(name) if unindexed else posts.c[name]

    conds: list[sa.ColumnElement[bool]] = []
    if filters.channels:
        conds.append(col("channel_id").in_(filters.channels))
    if filters.groups:
        conds.append(col("channel_id").in_(sa.select(channels.c.id).where(channels.c.group_name.in_(filters.groups))))
    if filters.items:
        conds.append(col("item").in_(filters.items))
    if filters.categories:
        conds.append(col("category").in_(filters.categories))
    if filters.types:
        conds.append(col("type").in_(filters.types))
    if filters.date_from:
        conds.append(col("published_at") >= datetime.combine(filters.date_from, time()))
    if filters.date_to:
        conds.append(col("published_at") < datetime.combine(filters.date_to + timedelta(days=1), time()))
    if filters.after_id is not None:
        conds.append(posts.c.id > filters.after_id)
    if filters.upto_id is not None:  # leaves nearly every post: never the way in (SQLite walked all 100k by id)
        conds.append(bare("id") <= filters.upto_id)
    return conds


_RESULT_COLUMNS = ("id", "channel_id", "title", "url", "published_at", "item", "category", "type", "department",
                   "notice_key")


def _count(conn: sa.Connection, posts: sa.Table, where: sa.ColumnElement[bool]) -> int:
    return int(conn.execute(sa.select(sa.func.count()).select_from(posts).where(where)).scalar_one())


def _page(conn: sa.Connection, posts: sa.Table, where: sa.ColumnElement[bool], title_hit: sa.ColumnElement[bool] | None,
          limit: int, offset: int) -> list[dict[str, Any]]:
    order_by: list[sa.ColumnElement[object]] = []
    if title_hit is not None:
        order_by.append(sa.case((title_hit, 1), else_=0).desc())
    order_by += [posts.c.published_at.desc().nulls_last(), posts.c.id.desc()]
    q = sa.select(*(posts.c[c] for c in _RESULT_COLUMNS)).where(where).order_by(*order_by).limit(limit).offset(offset)
    return [dict(r._mapping) for r in conn.execute(q)]


# One group of a query's matches: month (`YYYY-MM`), channel, 清单 category, item, type, posts.
FacetRow = tuple[str | None, str, int | None, int | None, str | None, int]
FACET_NAMES = ("channel", "category", "item", "type", "year", "month")


def _facet_rows(conn: sa.Connection, posts: sa.Table, where: sa.ColumnElement[bool]) -> list[FacetRow]:
    """The matching posts counted by month, channel, 清单 category and item, and type — one pass
    over the matches (one GROUP BY of all five), which `fold_facets` turns into the facets.

    SQLite groups in the order of ix_posts_month (migration 0003; the month as that exact
    `substr`), so it streams that covering index and keeps the matches, without reading a row or
    sorting (a search with its facets, 77k matches of 100k posts: 153 → 54 ms). PostgreSQL
    hash-aggregates; `date_trunc` is its cheap month."""
    if conn.dialect.name == "sqlite":
        month: sa.ColumnElement[Any] = sa.func.substr(posts.c.published_at, sa.literal_column("1"),
                                                      sa.literal_column("7"))
    else:
        month = sa.func.date_trunc("month", posts.c.published_at)
    cols = (month, posts.c.channel_id, posts.c.category, posts.c.item, posts.c.type)
    q = sa.select(*cols, sa.func.count()).where(where).group_by(*cols)
    return [(when if when is None or isinstance(when, str) else f"{when.year:04d}-{when.month:02d}",
             channel, category, item, kind, n) for when, channel, category, item, kind, n in conn.execute(q)]


def _grouped(conn: sa.Connection, posts: sa.Table, where: sa.ColumnElement[bool]
             ) -> tuple[list[FacetRow], dict[str, list[tuple[object, int]]], int]:
    """The matches grouped for their facets, the facets, and the total (their channels' sum)."""
    grouped = _facet_rows(conn, posts, where)
    counted = fold_facets(grouped)
    return grouped, counted, sum(n for _, n in counted.get("channel", []))


def fold_facets(rows: Iterable[FacetRow]) -> dict[str, list[tuple[object, int]]]:
    """Facet counts (by channel, category, item, type, year and month, most posts first) of
    grouped matches."""
    counts: dict[str, dict[object, int]] = {k: {} for k in FACET_NAMES}
    by_channel, by_category, by_item, by_type, by_month = (counts[k] for k in FACET_NAMES if k != "year")
    for ym, channel, category, item, kind, n in rows:
        by_channel[channel] = by_channel.get(channel, 0) + n
        by_category[category] = by_category.get(category, 0) + n
        by_item[item] = by_item.get(item, 0) + n
        by_type[kind] = by_type.get(kind, 0) + n
        by_month[ym] = by_month.get(ym, 0) + n
    by_year = counts["year"]
    for month, n in by_month.items():
        year = str(month)[:4] if month else None
        by_year[year] = by_year.get(year, 0) + n
    return {name: sorted(found.items(), key=lambda x: (-x[1], str(x[0]))) for name, found in counts.items()}


@dataclass(frozen=True, slots=True)
class FacetCube:
    """A query's matches grouped by month, channel, category, item and type (`FacetRow`s), with
    each channel's group as the store had them: the facets of that query under any narrowing by
    channel, group, 清单 item or category, type or whole months, counted without the store.

    A person narrowing a common word's results (by channel, then by item, then by academic year)
    otherwise waits for the store to group most of its posts again at every click."""

    rows: list[FacetRow]
    groups: Mapping[str, str | None]
    mark: SearchMark | None = None  # where the store stood when they were grouped
    # Each group's place in `rows`, once a cube has been merged into (rows and places are copied,
    # never changed in place: a kept cube is read by other requests).
    places: dict[tuple[Any, ...], int] | None = field(default=None, compare=False, repr=False)

    def merged(self, newer: FacetCube) -> FacetCube:
        """This cube with `newer`'s rows (the same query's matches among posts stored since) added
        in, at `newer`'s mark, with the channels' groups as `newer` read them. Copies, then adds
        the few new groups (a common word's 4.8k groups: 3 ms rebuilt; 0.9 ms copied the first
        time, when the groups' places are made, 0.13 ms after)."""
        rows, places = self.rows, self.places
        if newer.rows:
            rows = list(rows)
            places = dict(places) if places is not None else {row[:5]: i for i, row in enumerate(rows)}
            for row in newer.rows:
                i = places.get(row[:5])
                if i is None:
                    places[row[:5]] = len(rows)
                    rows.append(row)
                else:
                    rows[i] = (*row[:5], rows[i][5] + row[5])
        return FacetCube(rows, newer.groups, newer.mark, places)

    @staticmethod
    def answers(filters: SearchFilters) -> bool:
        """Whether a cube can count under these filters: not when a date cuts a month (from not a
        month's first day, to not its last), nor posts after an id: only the store can count those."""
        return (filters.after_id is None and filters.upto_id is None
                and (not filters.date_from or filters.date_from.day == 1)
                and (not filters.date_to or (filters.date_to + timedelta(days=1)).day == 1))

    def facets(self, filters: SearchFilters) -> dict[str, list[tuple[object, int]]] | None:
        """The facets of the matches these filters leave; None when it cannot (`answers`)."""
        if not self.answers(filters):
            return None
        folded = fold_facets(self._left(filters))
        return folded if folded["channel"] else {}  # as a search that matched nothing

    def count(self, filters: SearchFilters) -> int | None:
        """How many of the matches these filters leave (a narrowed search's total); None when it
        cannot (`answers`)."""
        return sum(row[5] for row in self._left(filters)) if self.answers(filters) else None

    def newest_months(self, filters: SearchFilters, rows: int) -> date | None:
        """The first day of the oldest of the newest months that together hold `rows` of the
        dated matches these filters leave — a newest-first search's first `rows` posts all lie
        from that day on — or None when fewer are dated (or the cube cannot count: `answers`)."""
        if not self.answers(filters):
            return None
        months: dict[str, int] = {}
        for row in self._left(filters):
            if row[0] is not None:
                months[row[0]] = months.get(row[0], 0) + row[5]
        held = 0
        for month in sorted(months, reverse=True):
            held += months[month]
            if held >= rows:
                return date(int(month[:4]), int(month[5:7]), 1)
        return None

    def _left(self, filters: SearchFilters) -> list[FacetRow]:
        """The rows these filters leave (months whole: `answers`). One narrowing at a time, each a
        plain comprehension, a channel first (one closure testing every narrowing per row took a
        channel's count over 17.8k groups 8 ms; this, 0.45 ms)."""
        channels = set(filters.channels) if filters.channels else None
        if filters.groups:
            named = set(filters.groups)
            in_groups = {c for c, g in self.groups.items() if g in named}
            channels = in_groups if channels is None else channels & in_groups
        tests: list[tuple[int, set[Any]]] = [(i, set(v)) for i, v in ((3, filters.items), (2, filters.categories),
                                                                     (4, filters.types)) if v]
        if channels is not None:  # (an empty set too: groups with no channel leave nothing)
            tests.insert(0, (1, channels))
        rows = self.rows
        for i, values in tests:
            rows = [row for row in rows if row[i] in values]
        if filters.date_from:
            lo = f"{filters.date_from:%Y-%m}"
            rows = [row for row in rows if row[0] is not None and row[0] >= lo]
        if filters.date_to:
            hi = f"{filters.date_to:%Y-%m}"
            rows = [row for row in rows if row[0] is not None and row[0] <= hi]
        return rows


_CUBE_FORMAT = 1  # what `cube_bytes` writes; a stored cube of another format is not read


def cube_bytes(cube: FacetCube) -> bytes:
    """A cube's rows and channels' groups as the store keeps them (`Posts.keep_cube`): compressed
    JSON (a common word's 4.8k groups: 33 KB, read back in 6–13 ms)."""
    data = {"format": _CUBE_FORMAT, "rows": cube.rows, "groups": cube.groups}
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def cube_from_bytes(data: bytes, mark: SearchMark) -> FacetCube | None:
    """A cube `cube_bytes` wrote, at `mark`; None when it was written in another format."""
    read = json.loads(zlib.decompress(data))
    if read.get("format") != _CUBE_FORMAT:
        return None
    return FacetCube([tuple(row) for row in read["rows"]], read["groups"], mark)


def _ids(sql: str, expr: str) -> sa.TextualSelect:
    return sa.text(sql).bindparams(sa.bindparam("e", expr, unique=True)).columns(sa.column("id", sa.Integer))


# SQLite ------------------------------------------------------------------------------------------

# What each step of a query plan costs, in µs (measured at 100k and 1M posts, bench/search.py):
C_PROBE = 20.0  # one MATCH … AND rowid = ? seek (2–4× more before the index is merged)
C_LIST = 0.17  # one id put in a list (a match from the index, or a post the filters leave)
C_SCAN = 0.1  # one post read from an index on posts and looked up in a list of matches
C_LOOKUP = 0.13  # one match streamed from the index and looked up in a list of posts
C_FETCH = 1.5  # one post fetched by id (rows carry their body)


def _fts_ids(table: str, expr: str) -> sa.TextualSelect:
    """The ids of the posts one FTS5 table matches."""
    return _ids(f"SELECT rowid AS id FROM {table} WHERE {table} MATCH :e", expr)


def _last_id(conn: sa.Connection, posts: sa.Table) -> int:
    return int(conn.execute(sa.select(sa.func.max(posts.c.id))).scalar() or 0)


def _match_ways(table: str, expr: str, bound: str) -> dict[str, sa.ColumnElement[bool]]:
    """A post matching one table's MATCH `expr`, as a condition for each way of `_strategy`'s."""
    def clause(sql: str) -> sa.ColumnElement[bool]:
        return sa.and_(sa.true(), sa.text(sql).bindparams(sa.bindparam("e", expr, unique=True)))

    hits = f"(SELECT rowid FROM {table} WHERE {table} MATCH :e{bound})"
    return {"probe": clause(f"EXISTS (SELECT 1 FROM {table} WHERE {table} MATCH :e AND {table}.rowid = posts.id)"),
            "member": clause(f"+posts.id IN {hits}"),
            "listed": clause(f"posts.id IN {hits}")}


def _streamed(conn: sa.Connection, posts: sa.Table, plain: list[sa.ColumnElement[bool]], table: str, expr: str,
              bound: str) -> int:
    """The matches among the posts the filters leave: those posts listed, the index's matches
    streamed past them."""
    kept = sa.literal_column(f"+{table}.rowid").in_(sa.select(posts.c.id).where(*plain))
    q = sa.select(sa.func.count()).select_from(sa.table(table)).where(
        sa.text(f"{table} MATCH :e{bound}").bindparams(sa.bindparam("e", expr, unique=True)), kept)
    return int(conn.execute(q).scalar_one())


def _fts_count(conn: sa.Connection, table: str, expr: str, bound: str = "") -> int:
    """The posts one FTS5 table matches (`bound`: a condition on its rowid, as `_strategy` makes)."""
    q = f"SELECT count(*) FROM {table} WHERE {table} MATCH :e{bound}"
    return int(conn.execute(sa.text(q), {"e": expr}).scalar_one())


def _fts_phrase(phrase: Sequence[str]) -> str:
    return '"' + " ".join(phrase) + '"'  # tokens are alphanumeric; quoted all the same


class SqliteSearch(SearchBackend):
    dialect = "sqlite"
    ddl = (  # contentless: the tokens are not stored twice
        (f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(t, r, content='', "
         "tokenize='unicode61 remove_diacritics 0', detail=full, columnsize=0)"),
        (f"CREATE VIRTUAL TABLE IF NOT EXISTS {CHARS_TABLE} USING fts5(c, content='', "
         "tokenize='unicode61 remove_diacritics 0', detail=none, columnsize=0)"),
    )

    def _params(self, rows: Sequence[Mapping[Any, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        return self._token_params([row["id"] for row in rows], self.tokens(rows))

    @staticmethod
    def _token_params(ids: Sequence[int], tokens: Iterable[PostTokens]) -> tuple[list[dict[str, Any]],
                                                                                 list[dict[str, Any]]]:
        stream, chars = [], []
        for post_id, tok in zip(ids, tokens, strict=True):
            stream.append({"id": post_id, "t": " ".join(tok.title), "r": " ".join(tok.rest)})
            chars.append({"id": post_id, "c": " ".join(tok.chars) + " " + " ".join("t" + c for c in tok.title_chars)})
        return stream, chars

    def index(self, rows: Sequence[Mapping[Any, Any]]) -> list[Statement]:
        return self._inserts(*self._params(rows))

    def index_new(self, conn: sa.Connection, ids: Sequence[int], tokens: Iterable[Any]) -> None:
        execute(conn, self._inserts(*self._token_params(ids, tokens)))

    @staticmethod
    def _inserts(stream: list[dict[str, Any]], chars: list[dict[str, Any]]) -> list[Statement]:
        return [(f"INSERT INTO {FTS_TABLE}(rowid, t, r) VALUES (:id, :t, :r)", stream),
                (f"INSERT INTO {CHARS_TABLE}(rowid, c) VALUES (:id, :c)", chars)]

    def unindex(self, rows: Sequence[Mapping[Any, Any]]) -> list[Statement]:
        # A contentless FTS5 table on SQLite 3.40 deletes only with the exact tokens it
        # was given, re-derived here from the old fields.
        stream, chars = self._params(rows)
        return [(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, t, r) VALUES ('delete', :id, :t, :r)", stream),
                (f"INSERT INTO {CHARS_TABLE}({CHARS_TABLE}, rowid, c) VALUES ('delete', :id, :c)", chars)]

    def clear(self) -> list[str]:
        return [f"INSERT INTO {t}({t}) VALUES ('delete-all')" for t in (FTS_TABLE, CHARS_TABLE)]

    def rebuild_statements(self) -> tuple[list[str], list[str]]:
        return [], self.optimize()

    @staticmethod
    def optimize() -> list[str]:
        """Merge each table's segments into one: a rowid seek then costs one b-tree
        descent (10–30 µs) instead of one per segment (0.1–0.4 ms at 100k posts)."""
        return [f"INSERT INTO {t}({t}) VALUES ('optimize')" for t in (FTS_TABLE, CHARS_TABLE)]

    def tidy(self, written: int, total: int) -> list[str]:
        """After a sync: FTS5's automerge keeps the segments of small syncs in check
        (10 syncs of 100 posts into 1M left first pages unchanged), but a backfill
        leaves many (probes 0.4 ms instead of 0.02 at 100k): merge all when a sync
        wrote a tenth of the store or more."""
        return self.optimize() if written * 10 >= total else []

    @staticmethod
    def _table(phrase: Sequence[str]) -> str:
        return CHARS_TABLE if is_char(phrase) else FTS_TABLE

    @staticmethod
    def _expr(groups: Sequence[Sequence[Sequence[str]]], title_only: bool = False) -> str:
        """AND of ORs of phrases of one table, in FTS5 syntax."""
        ands = []
        for group in groups:
            phrases = [_fts_phrase(["t" + p[0]] if title_only and is_char(p) else p) for p in group]
            ands.append(f"({' OR '.join(phrases)})" if len(phrases) > 1 else phrases[0])
        expr = " AND ".join(ands)
        if title_only and not is_char(groups[0][0]):
            return f"t : ({expr})"
        return expr

    def _plan(self, parsed: ParsedQuery, post_id: sa.ColumnElement[int]
              ) -> tuple[tuple[str, str] | None, list[sa.ColumnElement[bool]], list[tuple[str, str]]]:
        """The query as (one table's MATCH expression when one table answers all of it — the
        fast path —, else conditions on posts.id) and the title-only matches for ranking."""
        by_table: dict[str, list[list[list[str]]]] = {}
        mixed: list[list[list[str]]] = []
        for group in parsed.groups:
            tables = {self._table(p) for p in group}
            if len(tables) == 1:
                by_table.setdefault(tables.pop(), []).append(group)
            else:
                mixed.append(group)
        excluded: dict[str, list[list[str]]] = {}
        for phrase in parsed.exclude:
            excluded.setdefault(self._table(phrase), []).append(phrase)
        title: list[tuple[str, str]] = []
        for table, groups in by_table.items():
            title.append((table, self._expr(groups, title_only=True)))
        if len(by_table) == 1 and not mixed and set(excluded) <= set(by_table):
            table, groups = next(iter(by_table.items()))
            expr = self._expr(groups)
            if excluded:
                expr = f"({expr}) NOT ({' OR '.join(_fts_phrase(p) for p in excluded[table])})"
            return (table, expr), [], title
        conds: list[sa.ColumnElement[bool]] = []
        for table, groups in by_table.items():
            conds.append(post_id.in_(_fts_ids(table, self._expr(groups))))
        for group in mixed:
            conds.append(post_id.in_(sa.union(*(_fts_ids(self._table(p), _fts_phrase(p)) for p in group))))
        for table, phrases in excluded.items():
            conds.append(post_id.not_in(_fts_ids(table, " OR ".join(map(_fts_phrase, phrases)))))
        return None, conds, title

    def search(self, conn: sa.Connection, posts: sa.Table, channels: sa.Table, parsed: ParsedQuery,
               filters: SearchFilters, *, limit: int, offset: int, order: str, facets: bool,
               list_below: int = 0, known: tuple[int, int] | None = None) -> SearchResult:
        plain = _filter_conditions(posts, channels, filters, unindexed=filters.after_id is not None)
        fast, match_conds, title = self._plan(parsed, posts.c.id)
        if fast is None:  # terms in both tables (rare): conditions on posts.id
            where = sa.and_(sa.true(), *match_conds, *plain)
            total = known[1] if known else _count(conn, posts, where)
            page_where, plan = where, "both tables"
        else:
            table, expr = fast
            # Filters beside the ids: a bound at a cube's mark leaves nearly all, and the posts after
            # a kept search's are counted their own way.
            narrowed = replace(filters, upto_id=None, after_id=None).any
            total, where, page_where, plan = self._strategy(conn, posts, plain, narrowed, table, expr,
                                                            limit + offset, order, filters.after_id, known)
        title_hit = None
        if order == "relevance" and title:
            title_hit = sa.and_(*(posts.c.id.in_(_fts_ids(t, e)) for t, e in title))
        rows = _page(conn, posts, page_where, title_hit, limit, offset) if limit and total else []
        result = SearchResult(total, rows, plan=plan)
        if facets and total:
            result.facet_rows, result.facets, _ = _grouped(conn, posts, where)
        return result

    @staticmethod
    def _strategy(conn: sa.Connection, posts: sa.Table, plain: list[sa.ColumnElement[bool]], filtered: bool,
                  table: str, expr: str, wanted: int, order: str, after: int | None = None,
                  known: tuple[int, int] | None = None
                  ) -> tuple[int, sa.ColumnElement[bool], sa.ColumnElement[bool], str]:
        """The total, and the cheapest way to the first page, of one table's MATCH.

        The index counts its matches without listing them. A page of the newest is
        then found one of three ways, whichever the counts make cheapest:
        - *probe*: walk posts newest first and ask the index about each (MATCH +
          rowid = seeks) — common words, where a page is a few dozen posts away;
        - *member*: list the matches once, walk posts newest first by an index on
          posts and keep those in the list (the unary + keeps SQLite from
          fetching every match by id) — words of middling frequency;
        - *listed*: fetch each match by id and sort them — rare words."""
        # Only posts after a kept search's (`after`): the index seeks past the others' entries
        # (a common word's 78k matches counted, or a few thousand read, to find the ten new).
        bound = "" if after is None else f" AND {table}.rowid > {int(after)}"
        ways = _match_ways(table, expr, bound)
        if known is not None:  # counted already (`SearchBackend.search`)
            (matches, total), count_way = known, "cube"
            posts_n = _count(conn, posts, sa.and_(sa.true(), *plain)) if filtered else _last_id(conn, posts)
        elif after is not None:
            # The posts after a kept search's id: the index's matches past it are the total, or, under
            # other filters, those among the new posts the filters leave (2 statements, not 4). Their
            # page and facets go by the rowid range, sorted: walking posts newest first passes every
            # post when fewer than a page are new (3 new posts: 12 → 0.5 ms; a cube's: 12 → 1 ms).
            matches = _fts_count(conn, table, expr, bound)
            total, count_way = (_streamed(conn, posts, plain, table, expr, bound), "stream") if filtered and matches \
                else (matches, "index")
            listed = sa.and_(ways["listed"], *plain)
            return total, listed, listed, f"count:{count_way} page:listed"
        elif filtered:
            # Counting the matches among the posts the filters leave: probe each of those
            # posts, or list one side and look the other side's ids up in it.
            posts_n = _count(conn, posts, sa.and_(sa.true(), *plain))
            matches = _fts_count(conn, table, expr, bound)
            counting = {"probe": posts_n * C_PROBE, "member": matches * C_LIST + posts_n * C_SCAN,
                        "stream": posts_n * C_LIST + matches * C_LOOKUP}  # stream: posts_n < ~0.6 matches
            way = count_way = min(counting, key=counting.__getitem__)
            if way == "stream":
                total = _streamed(conn, posts, plain, table, expr, bound)
            else:
                total = _count(conn, posts, sa.and_(ways[way], *plain))
        else:
            posts_n = _last_id(conn, posts)
            matches = _fts_count(conn, table, expr)
            total, count_way = matches, "index"
        walk = min(posts_n, wanted * posts_n / max(total, 1))  # posts passed before a page is found
        cost = {"probe": walk * C_PROBE, "member": matches * C_LIST + walk * C_SCAN, "listed": matches * C_FETCH}
        way = "listed" if order == "relevance" else min(cost, key=cost.__getitem__)
        # Facets: stream every post's index entry past the list of matches (`member`), or fetch
        # the matches by id when they are few (a search with its facets, 3k of 100k: 28 → 19 ms).
        facet_way = "listed" if matches * C_FETCH < matches * C_LIST + posts_n * C_SCAN else "member"
        return total, sa.and_(ways[facet_way], *plain), sa.and_(ways[way], *plain), f"count:{count_way} page:{way}"


# PostgreSQL -----------------------------------------------------------------------------------


_MAX_POS = 16383  # PostgreSQL's last position: later ones are stored as this
_POS = [str(i) for i in range(_MAX_POS + 1)]  # positions as text, made once: the literal is
_POS_A = [f"{i}A" for i in range(_MAX_POS + 1)]  # written for every post a sync stores


def tsvector_literal(tok: PostTokens) -> str:
    """`'招生':2A '生章':3A … '招' '_招' …` — cast with ::tsvector; no parser, no locale involved.
    Stream tokens carry positions (the title's with weight A, for title-first ranking); a
    field break is not stored, only the gap it leaves. Characters are lexemes without
    positions (a phrase never matches those), title characters also as `_招` (`_` is in
    no token). PostgreSQL keeps 256 positions per lexeme and none past
    16383: a phrase past those in a very long post may be missed (SQLite has no such limit)."""
    positions: dict[str, list[str]] = {}
    _positions(positions, tok.title, 2, _POS_A)
    _positions(positions, tok.rest, len(tok.title) + 3, _POS)  # a gap: title and rest never form one phrase
    positions.pop(FIELD_BREAK, None)  # only the gap it leaves is stored
    parts = [f"'{t}':{','.join(ps[:256])}" for t, ps in positions.items()]
    parts.extend([f"'{c}'" for c in tok.chars])
    parts.extend([f"'_{c}'" for c in tok.title_chars])
    return " ".join(parts)


def _positions(positions: dict[str, list[str]], stream: list[str], start: int, names: list[str]) -> None:
    """Add each token's positions in `stream` (from `start`) to `positions`, as text from `names`;
    past the last position, as PostgreSQL does, all at the last."""
    get = positions.get
    fits = max(0, _MAX_POS + 1 - start)
    for pos, t in enumerate(stream[:fits] if len(stream) > fits else stream, start):
        ps = get(t)
        if ps is None:
            positions[t] = [names[pos]]
        else:
            ps.append(names[pos])
    for t in stream[fits:]:
        ps = positions.setdefault(t, [])
        if ps[-1:] != [names[_MAX_POS]]:
            ps.append(names[_MAX_POS])


def _pg_phrase(phrase: Sequence[str], title_only: bool = False) -> str:
    """Stream tokens joined by <-> (weight A: in the title); a character as its lexeme."""
    if is_char(phrase):
        return f"'_{phrase[0]}'" if title_only else f"'{phrase[0]}'"
    return " <-> ".join(f"'{tok}'{':A' if title_only else ''}" for tok in phrase)


def tsquery_expression(groups: Sequence[Sequence[Sequence[str]]], title_only: bool = False) -> str:
    return " & ".join("(" + " | ".join(f"({_pg_phrase(p, title_only)})" for p in group) + ")" for group in groups)


PG_FEW = 5000  # estimated matches up to which PostgreSQL lists a word's posts instead of counting them
# PostgreSQL, µs a row (EXPLAIN ANALYZE on bench/web.py's 100k posts, tsvectors out of line):
# among filtered posts a query is matched through GIN, its matches joined to the posts the
# filters leave, or post by post, each post's tsvector read by its id — whichever costs less.
C_PG_EACH = 8.5  # one post's tsvector read by its id (from TOAST) and matched
C_PG_RECHECK = 4.1  # one GIN candidate's tsvector read and its phrase checked
C_PG_VISIT = 0.6  # one GIN match's narrow row visited (a word or character needs no recheck)
# Matches per post below which grouping fetches each match by id (2 µs) rather than reading
# every post the filters leave (0.9 µs each).
C_PG_JOIN = 0.45


def _estimated_rows(conn: sa.Connection, stmt: sa.Select[Any] | sa.TextClause) -> float:
    """The planner's estimate of the rows `stmt` returns (EXPLAIN: nothing is run)."""
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


class PostgresSearch(SearchBackend):
    dialect = "postgresql"
    gin = f"CREATE INDEX IF NOT EXISTS ix_{PG_TABLE}_tsv ON {PG_TABLE} USING gin (tsv)"
    ddl = (
        (f"CREATE TABLE IF NOT EXISTS {PG_TABLE} (post_id integer PRIMARY KEY REFERENCES posts(id) "
         "ON DELETE CASCADE, tsv tsvector NOT NULL)"),
        # A post's tsvector (about 7 KB; it does not compress) out of line, in TOAST: a row
        # over 2 KB keeps the post's id and a pointer. Counting a word through GIN visits
        # each match's page, all-visible or not (PostgreSQL 15.20), and narrow rows share
        # one: one character's 75k matches of 100k posts read 58,000 pages in line (92 ms
        # median) and 500 out of line (3.7 ms). Only a phrase's recheck reads the tsvectors,
        # about 1.3× slower from TOAST (migration 0015; the plans: `search` below).
        f"ALTER TABLE {PG_TABLE} SET (toast_tuple_target = 128)",
        gin,
    )

    def index(self, rows: Sequence[Mapping[Any, Any]]) -> list[Statement]:
        params = [{"id": row["id"], "tsv": tsv} for row, tsv in zip(rows, self.tokens(rows), strict=True)]
        upsert = (f"INSERT INTO {PG_TABLE}(post_id, tsv) VALUES (:id, CAST(:tsv AS tsvector)) "
                  "ON CONFLICT (post_id) DO UPDATE SET tsv = EXCLUDED.tsv")
        return [(upsert, params)]

    def tokens(self, rows: Sequence[Mapping[Any, Any]]) -> Iterable[Any]:
        # Made as COPY sends them: the server indexes one part while the next is tokenised
        # (a thread tokenising beside the rows' own COPY was slower: both want the GIL).
        return (tsvector_literal(post_tokens(row)) for row in rows)

    def index_new(self, conn: sa.Connection, ids: Sequence[int], tokens: Iterable[Any]) -> None:
        copy_rows(conn, PG_TABLE, ("post_id", "tsv"), zip(ids, tokens, strict=True))

    def unindex(self, rows: Sequence[Mapping[Any, Any]]) -> list[Statement]:
        return [(f"DELETE FROM {PG_TABLE} WHERE post_id = :id", [{"id": row["id"]} for row in rows])]

    def clear(self) -> list[str]:
        return [f"TRUNCATE {PG_TABLE}"]

    def after_rebuild(self) -> list[str]:
        # The planner's statistics at once, not when autovacuum gets there.
        return [f"VACUUM ANALYZE {PG_TABLE}"]

    def rebuild_statements(self) -> tuple[list[str], list[str]]:
        # GIN built once from the whole table is several times faster than row by row.
        return ([f"DROP INDEX IF EXISTS ix_{PG_TABLE}_tsv", "SET LOCAL maintenance_work_mem = '256MB'"],
                [self.gin, f"ANALYZE {PG_TABLE}"])

    # Three ways to ask whether a post matches the tsquery `:e`, each leading to plans of its own.
    ways = {
        # a semi-join the planner may run either way (the page's walk, a title hit)
        "exists": f"EXISTS (SELECT 1 FROM {PG_TABLE} s WHERE s.post_id = posts.id AND s.tsv @@ CAST(:e AS tsquery))",
        # the post's own tsvector, read by its id: no GIN, post by post (a scalar subquery the
        # planner cannot turn into a join over every match)
        "each": f"(SELECT s.tsv FROM {PG_TABLE} s WHERE s.post_id = posts.id) @@ CAST(:e AS tsquery)",
        # among the matches GIN lists (a subquery planned on its own: the planner cannot then test
        # every tsvector through the primary key instead)
        "listed": f"posts.id IN (SELECT post_id FROM {PG_TABLE} WHERE tsv @@ CAST(:e AS tsquery) OFFSET 0)",
    }

    def _matching(self, way: str, expr: str) -> sa.ColumnElement[bool]:
        return sa.and_(sa.true(), sa.text(self.ways[way]).bindparams(sa.bindparam("e", expr, unique=True)))

    @staticmethod
    def _expr(parsed: ParsedQuery) -> str:
        expr = tsquery_expression(parsed.groups) if parsed.groups else ""
        if parsed.exclude:
            excluded = tsquery_expression([parsed.exclude])
            expr = f"({expr}) & !({excluded})" if expr else f"!({excluded})"
        return expr

    def settings(self, facets: bool) -> dict[str, str]:
        # No sequential scans: counting a common word through GIN reads only the narrow rows, a scan
        # would fetch every tsvector to test it. No JIT either: a plan a disabled way is left to (12
        # channels read by a sequential scan, after this) is costed at 10^10, and PostgreSQL then spent
        # 11–66 ms compiling it. Grouping for the facets hashes its groups: in the default 4 MB a
        # common word's 78k matches were sorted on disk (100k posts: 298 → 197 ms).
        return {"enable_seqscan": "off", "jit": "off", **({"work_mem": "32MB"} if facets else {})}

    def search(self, conn: sa.Connection, posts: sa.Table, channels: sa.Table, parsed: ParsedQuery,
               filters: SearchFilters, *, limit: int, offset: int, order: str, facets: bool,
               list_below: int = 0, known: tuple[int, int] | None = None) -> SearchResult:
        """The total, the facets and the page of one query, each the cheapest way by the
        planner's estimates, in a snapshot begun with `settings(facets)`. PostgreSQL's own planner
        does not count reading a tsvector from TOAST, and given the choice tests every post's through
        the primary key (a channel's page of a common word: 291 ms, walking the channel newest first 4 ms)."""
        plain = _filter_conditions(posts, channels, filters)
        expr = self._expr(parsed)
        if not expr:
            where = sa.and_(sa.true(), *plain)
            grouped, counted, total = _grouped(conn, posts, where) if facets else ([], {}, _count(conn, posts, where))
            rows = _page(conn, posts, where, None, limit, offset) if limit and total else []
            return SearchResult(total, rows, facets=counted if total else {}, plan="count:plain", facet_rows=grouped)
        match = f"SELECT post_id FROM {PG_TABLE} WHERE tsv @@ CAST(:e AS tsquery)"
        per_match = C_PG_RECHECK if "<->" in expr else C_PG_VISIT  # a phrase rechecks its candidates
        matches, left, each = self._estimates(conn, posts, plain, match, expr, per_match, filters, known)
        where = sa.and_(self._matching("each" if each else "listed", expr), *plain)
        grouped, counted = [], {}
        if not facets and known is None and (few := self._few(conn, posts, where, filters, order, limit, offset)):
            return few
        if facets:
            if not each and matches < C_PG_JOIN * left:  # few matches: fetched by id, not every post read
                self._nested_loops(conn)
            (grouped, counted, total), count_way = _grouped(conn, posts, where), "count:facets"
        elif known is not None:
            total, count_way = known[1], "count:cube"
        elif not plain and matches <= list_below and order == "newest" and limit:
            # A word the statistics call rare (or any phrase): list its posts once — that is the
            # total — and sort those, rather than read and recheck its rows twice.
            ids = [r[0] for r in conn.execute(sa.text(match), {"e": expr})]
            listed = sa.and_(sa.true(), sa.text("posts.id = ANY(:ids)").bindparams(ids=ids))  # one array
            return SearchResult(len(ids), _page(conn, posts, listed, None, limit, offset) if ids else [],
                                plan="count:listed page:listed")
        elif plain:
            total, count_way = _count(conn, posts, where), "count:each" if each else "count:join"
        else:
            total = int(conn.execute(sa.text(f"SELECT count(*) FROM ({match}) m"), {"e": expr}).scalar_one())
            count_way = "count:index"
        if not limit:  # the total or the facets alone (a kept cube): no page, so no way to choose for one
            return SearchResult(total, [], facets=counted if total else {}, plan=f"{count_way} page:none",
                                facet_rows=grouped)
        title_hit = self._matching("exists", tsquery_expression(parsed.groups, title_only=True)) \
            if order == "relevance" and parsed.groups else None
        # The page: walk the posts newest first, testing each until it is full (common words: a
        # few dozen posts), or sort GIN's matches (rare ones; relevance sorts every match).
        walk = min(left, (offset + limit) * left / max(total, 1))
        # The posts after an id (a kept search's new ones): found by id and sorted, never by a walk
        # of every post newest first, which passes them all when fewer than a page are new.
        if title_hit is not None or filters.after_id is not None or matches * per_match < walk * C_PG_EACH:
            page, page_way = where, "page:listed"
        else:
            self._nested_loops(conn)
            page, page_way = sa.and_(self._matching("exists", expr), *plain), "page:walk"
        rows = _page(conn, posts, page, title_hit, limit, offset) if total else []
        return SearchResult(total, rows, facets=counted if total else {}, plan=f"{count_way} {page_way}",
                            facet_rows=grouped)

    @staticmethod
    def _few(conn: sa.Connection, posts: sa.Table, where: sa.ColumnElement[bool], filters: SearchFilters,
             order: str, limit: int, offset: int) -> SearchResult | None:
        """The posts after a kept search's id, newest first from the first: most often fewer than a
        page, and the page read one row longer is then their count too (one statement instead of
        two); a full page is kept and the posts counted. None for any other search."""
        if filters.after_id is None or order != "newest" or not limit or offset:
            return None
        rows = _page(conn, posts, where, None, limit + 1, 0)
        if len(rows) <= limit:
            return SearchResult(len(rows), rows, plan="count:page page:listed")
        return SearchResult(_count(conn, posts, where), rows[:limit], plan="count:each page:listed")

    @staticmethod
    def _estimates(conn: sa.Connection, posts: sa.Table, plain: list[sa.ColumnElement[bool]], match: str,
                   expr: str, per_match: float, filters: SearchFilters, known: tuple[int, int] | None
                   ) -> tuple[float, float, bool]:
        """The matches and the posts the filters leave, as the planner estimates them, and whether
        to test each of those posts rather than join GIN's matches to them."""
        if filters.after_id is not None:  # the few posts after a kept search's id: each of them tested
            return 0.0, 0.0, True
        matches = float(known[0]) if known else _estimated_rows(conn, sa.text(match).bindparams(e=expr))
        left = _estimated_rows(conn, sa.select(sa.literal(1)).select_from(posts).where(*plain))
        return matches, left, bool(plain) and left * C_PG_EACH < matches * per_match

    @staticmethod
    def _nested_loops(conn: sa.Connection) -> None:
        """Joins from here on look each row up by id: no hash or merge join reading every tsvector."""
        _settings(conn, enable_hashjoin="off", enable_mergejoin="off")


def _settings(conn: sa.Connection, **settings: str) -> None:
    """PostgreSQL settings for the rest of the transaction (`SET LOCAL`), in one round trip."""
    calls = ", ".join(f"set_config('{name}', :{name}, true)" for name in settings)
    conn.execute(sa.text(f"SELECT {calls}"), settings)


BACKENDS: dict[str, SearchBackend] = {"sqlite": SqliteSearch(), "postgresql": PostgresSearch()}


def backend_for(dialect: str) -> SearchBackend:
    return BACKENDS[dialect]


def execute(conn: sa.Connection, statements: Sequence[Statement]) -> None:
    for statement, params in statements:
        if params:
            conn.execute(sa.text(statement), params)


def rebuild_index(conn: sa.Connection, posts: sa.TableClause, *, batch: int = 2000) -> int:
    """Index every post again, in batches, inside the caller's transaction (`xxgk reindex`,
    migration 0005). Returns the number of posts indexed."""
    backend = backend_for(conn.dialect.name)
    before, after = backend.rebuild_statements()
    for statement in [*backend.clear(), *before]:
        conn.execute(sa.text(statement))
    cols = (posts.c.id, posts.c.title, posts.c.body, posts.c.department, posts.c.attachments,
            posts.c.attachment_text)
    n = last = 0
    while rows := conn.execute(sa.select(*cols).where(posts.c.id > last).order_by(posts.c.id)
                               .limit(batch)).mappings().all():
        backend.index_new(conn, [row["id"] for row in rows], backend.tokens(rows))
        n += len(rows)
        last = rows[-1]["id"]
    for statement in after:
        conn.execute(sa.text(statement))
    return n


def run_search(conn: sa.Connection, posts: sa.Table, channels: sa.Table, parsed: ParsedQuery,
               filters: SearchFilters, *, limit: int = 20, offset: int = 0, order: str = "newest",
               facets: bool = False, list_below: int = PG_FEW, known: tuple[int, int] | None = None) -> SearchResult:
    """`list_below` (PostgreSQL): a word estimated to match at most this many posts has them
    listed once instead of counted through GIN (0 = always count). `known`: `SearchBackend.search`.
    `conn`'s transaction has begun with the backend's `settings(facets)`."""
    if not parsed.groups and parsed.empty_terms and not parsed.exclude:
        return SearchResult(0, [])  # only punctuation or emoji: nothing can contain "it"
    return backend_for(conn.dialect.name).search(conn, posts, channels, parsed, filters, limit=limit, offset=offset,
                                                 order=order, facets=facets, list_below=list_below, known=known)


def snippet(text: str | None, parsed_terms: Sequence[str], width: int = 36) -> str:
    """A piece of `text` around the first hit, the hit in 【】."""
    if not text:
        return ""
    norm = fold(text)
    src = text if len(norm) == len(text) else norm
    hits = [(norm.find(t), t) for t in parsed_terms if t and norm.find(t) >= 0]
    if not hits:
        return " ".join(src[: width * 2].split())
    pos, term = min(hits)
    start = max(0, pos - width // 2)
    piece = src[start:pos] + "【" + src[pos : pos + len(term)] + "】" + src[pos + len(term) : pos + len(term) + width]
    return ("…" if start else "") + " ".join(piece.split()) + "…"
