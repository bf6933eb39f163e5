"""Exact substring search over posts, indexed, on SQLite and PostgreSQL.

Chinese words are one or two characters, so word segmentation and trigram
indexes both fail the office's first queries (招生, 预算). Here every post's
normalised text (title, body, department, attachment names) becomes tokens:
for each run of letters/digits/Han characters, its overlapping character
pairs in order, a sentinel after the run, and at the end each distinct
character once (SEARCH_NOTES.md, measured at 1M posts):

    招生章程，公告  →  招生 生章 章程 ‹s› 公告 ‹s› 公 告 招 生 章 程

A query of k ≥ 2 characters is the phrase of its k−1 pairs; one character is
its own token. The result is the set a `LIKE '%q%'` scan over the normalised
fields returns, with one documented difference: any run of punctuation or
spaces matches any other (the sentinel stands for all of them), so 招生，公告
also finds 招生。公告.

SQLite keeps the tokens in a contentless FTS5 table (rowid = post id);
PostgreSQL in a `tsvector` with positions and a GIN index. Tokens are
written as literal lexemes, so neither depends on a text-search parser or a
database locale.
"""

from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

SENTINEL = "zq9sepq"  # a token no text produces: real tokens are one or two characters
_RUN = re.compile(r"[^\W_]+")
_PG_MAX_POSITION = 16383  # tsvector positions stop there


def normalize(text: str) -> str:
    """The one normalisation of index and query: NFKC (full-width → half-width), case-folded."""
    return unicodedata.normalize("NFKC", text).casefold()


def runs(text: str) -> list[str]:
    return _RUN.findall(normalize(text))


def _run_tokens(run: str) -> list[str]:
    return [run] if len(run) == 1 else list(map(operator.add, run, run[1:]))


def document_tokens(fields: Iterable[str | None]) -> list[str]:
    """The tokens a post is indexed under (see the module docstring)."""
    tokens: list[str] = []
    chars: set[str] = set()
    for text in fields:
        if not text:
            continue
        for run in runs(text):
            tokens.extend(_run_tokens(run))
            tokens.append(SENTINEL)
            chars.update(run)
    tokens.extend(chars)
    return tokens


def post_fields(title: str, body: str | None, department: str | None,
                attachments: Sequence[dict[str, str]] | None) -> list[str | None]:
    return [title, body, department, *(a.get("name", "") for a in attachments or ())]


def term_tokens(term: str) -> list[str] | None:
    """A query term → the phrase of tokens that finds it (None: nothing searchable in it)."""
    parts = runs(term)
    if not parts:
        return None
    if len(parts) == 1 and len(parts[0]) == 1:
        return parts  # one character: its token, wherever it stands
    tokens: list[str] = []
    for i, run in enumerate(parts):
        if i:
            tokens.append(SENTINEL)
        tokens.extend(_run_tokens(run))
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

    @property
    def has_terms(self) -> bool:
        return bool(self.groups)


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
        parsed.terms.append(normalize(text).strip())
        if pending_or:
            parsed.groups[-1].append(tokens)
        else:
            parsed.groups.append([tokens])
        pending_or = False
    return parsed


# -- backend expressions -----------------------------------------------------------------


def fts5_expression(groups: Sequence[Sequence[Sequence[str]]], column: str | None = None) -> str:
    """AND of ORs of phrases, in FTS5 syntax (tokens are alphanumeric, quoted anyway);
    `column` restricts every phrase to one column (`t` = title)."""
    ands = []
    for group in groups:
        phrases = ['"' + " ".join(phrase) + '"' for phrase in group]
        ands.append(f"({' OR '.join(phrases)})" if len(phrases) > 1 else phrases[0])
    expr = " AND ".join(ands)
    return f"{column} : ({expr})" if column else expr


def _pg_phrase(phrase: Sequence[str], weight: str = "") -> str:
    """Tokens joined by <-> ; a sentinel widens the next step to <2> (PostgreSQL stores
    no sentinel lexeme, only the gap it leaves in the positions)."""
    out, gap = "", 1
    for tok in phrase:
        if tok == SENTINEL:
            gap += 1
            continue
        lexeme = f"'{tok}'{':' + weight if weight else ''}"
        out = lexeme if not out else f"{out} <{gap}> {lexeme}" if gap > 1 else f"{out} <-> {lexeme}"
        gap = 1
    return out


def tsquery_expression(groups: Sequence[Sequence[Sequence[str]]], weight: str = "") -> str:
    ands = []
    for group in groups:
        ors = [f"({_pg_phrase(p, weight)})" for p in group]
        ands.append(f"({' | '.join(ors)})")
    return " & ".join(ands)


def tsvector_literal(title_tokens: Sequence[str], rest_tokens: Sequence[str]) -> str:
    """`'招生':1A '生章':2A …` — cast with ::tsvector; no parser, no locale involved.
    Title tokens carry weight A (for title-first ranking), the rest D. The
    sentinel is not stored, only its position, so phrases cannot span runs.
    PostgreSQL keeps 256 positions per lexeme and none past 16383: a phrase
    past those in a very long post may be missed (SQLite has no such limit)."""
    positions: dict[str, list[str]] = {}
    pos = 0
    for tokens, weight in ((title_tokens, "A"), (rest_tokens, "")):
        pos += 1  # title and the rest never form one phrase
        for tok in tokens:
            pos += 1
            if tok == SENTINEL:
                continue
            slots = positions.setdefault(tok, [])
            if len(slots) < 256:
                slots.append(f"{min(pos, _PG_MAX_POSITION)}{weight}")
    return " ".join(f"'{tok}':{','.join(dict.fromkeys(p))}" for tok, p in positions.items())


# -- index maintenance (used by the store and by migration 0002) ---------------------------

FTS_TABLE = "post_fts"
PG_TABLE = "post_search"
SEARCH_DDL = {
    "sqlite": [
        # Contentless: the tokens are not stored twice. Columns: t = title, r = the rest.
        "CREATE VIRTUAL TABLE IF NOT EXISTS post_fts USING fts5(t, r, content='', "
        "tokenize='unicode61 remove_diacritics 0', detail=full, columnsize=0)",
    ],
    "postgresql": [
        "CREATE TABLE IF NOT EXISTS post_search (post_id integer PRIMARY KEY REFERENCES posts(id) ON DELETE CASCADE, "
        "tsv tsvector NOT NULL)",
        "CREATE INDEX IF NOT EXISTS ix_post_search_tsv ON post_search USING gin (tsv)",
    ],
}


def is_search_table(name: str | None) -> bool:
    """Tables the search index owns (FTS5 adds shadow tables post_fts_*)."""
    return bool(name) and (name == PG_TABLE or str(name).startswith(FTS_TABLE))


def row_tokens(row: dict) -> tuple[list[str], list[str]]:  # type: ignore[type-arg]
    title = document_tokens([row["title"]])
    rest = document_tokens(post_fields("", row.get("body"), row.get("department"), row.get("attachments"))[1:])
    return title, rest


def index_rows_sql(dialect: str, rows: Sequence[dict]) -> tuple[str, list[dict]]:  # type: ignore[type-arg]
    """One executemany statement that (re)indexes `rows` (id, title, body, department, attachments)."""
    params = []
    for row in rows:
        title, rest = row_tokens(row)
        if dialect == "sqlite":
            params.append({"id": row["id"], "t": " ".join(title), "r": " ".join(rest)})
        else:
            params.append({"id": row["id"], "tsv": tsvector_literal(title, rest)})
    if dialect == "sqlite":
        return "INSERT INTO post_fts(rowid, t, r) VALUES (:id, :t, :r)", params
    return ("INSERT INTO post_search(post_id, tsv) VALUES (:id, CAST(:tsv AS tsvector)) "
            "ON CONFLICT (post_id) DO UPDATE SET tsv = EXCLUDED.tsv"), params


def unindex_rows_sql(dialect: str, rows: Sequence[dict]) -> tuple[str, list[dict]]:  # type: ignore[type-arg]
    """Remove rows from the index. A contentless FTS5 table on SQLite 3.40 deletes
    only with the exact tokens it was given, re-derived here from the old fields."""
    if dialect == "sqlite":
        params = []
        for row in rows:
            title, rest = row_tokens(row)
            params.append({"id": row["id"], "t": " ".join(title), "r": " ".join(rest)})
        return "INSERT INTO post_fts(post_fts, rowid, t, r) VALUES ('delete', :id, :t, :r)", params
    return "DELETE FROM post_search WHERE post_id = :id", [{"id": row["id"]} for row in rows]


# -- running a search ------------------------------------------------------------------------



@dataclass(slots=True)
class SearchFilters:
    channels: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    items: list[int] = field(default_factory=list)
    categories: list[int] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    date_from: date | None = None
    date_to: date | None = None  # the whole day is included


@dataclass(slots=True)
class SearchResult:
    total: int
    rows: list[dict]  # type: ignore[type-arg]
    facets: dict[str, list[tuple[object, int]]] = field(default_factory=dict)


def _match_ids(dialect: str, expr: str) -> sa.TextualSelect:
    if dialect == "sqlite":
        sql = "SELECT rowid AS id FROM post_fts WHERE post_fts MATCH :e"
    else:
        sql = "SELECT post_id AS id FROM post_search WHERE tsv @@ CAST(:e AS tsquery)"
    return sa.text(sql).bindparams(sa.bindparam("e", expr, unique=True)).columns(sa.column("id", sa.Integer))


def _expr(dialect: str, groups: Sequence[Sequence[Sequence[str]]], title_only: bool = False) -> str:
    if dialect == "sqlite":
        return fts5_expression(groups, "t" if title_only else None)
    return tsquery_expression(groups, "A" if title_only else "")


PROBE_ABOVE = 1000  # matches beyond which the first page is found by probing, newest first
PROBE_COST = 50  # one MATCH + rowid seek, in units of one id read from a match list


def _sqlite_full_expression(parsed: ParsedQuery) -> str:
    """The query's terms and exclusions as one FTS5 expression (`A NOT (B OR C)`)."""
    expr = fts5_expression(parsed.groups)
    if parsed.exclude:
        excluded = " OR ".join('"' + " ".join(p) + '"' for p in parsed.exclude)
        expr = f"({expr}) NOT ({excluded})"
    return expr


def run_search(conn: sa.Connection, posts: sa.Table, channels: sa.Table, parsed: ParsedQuery,
               filters: SearchFilters, *, limit: int = 20, offset: int = 0, order: str = "newest",
               facets: bool = False) -> SearchResult:
    dialect = conn.dialect.name
    conds: list[sa.ColumnElement[bool]] = []
    if parsed.groups:
        conds.append(posts.c.id.in_(_match_ids(dialect, _expr(dialect, parsed.groups))))
    elif parsed.empty_terms and not parsed.exclude:
        return SearchResult(0, [])  # only punctuation or emoji: nothing can contain "it"
    for phrase in parsed.exclude:
        conds.append(posts.c.id.not_in(_match_ids(dialect, _expr(dialect, [[phrase]]))))
    if filters.channels:
        conds.append(posts.c.channel_id.in_(filters.channels))
    if filters.groups:
        conds.append(posts.c.channel_id.in_(sa.select(channels.c.id).where(channels.c.group_name.in_(filters.groups))))
    if filters.items:
        conds.append(posts.c.item.in_(filters.items))
    if filters.categories:
        conds.append(posts.c.category.in_(filters.categories))
    if filters.types:
        conds.append(posts.c.type.in_(filters.types))
    if filters.date_from:
        conds.append(posts.c.published_at >= datetime.combine(filters.date_from, time()))
    if filters.date_to:
        conds.append(posts.c.published_at < datetime.combine(filters.date_to + timedelta(days=1), time()))
    where = sa.and_(sa.true(), *conds)
    filtered = any((filters.channels, filters.groups, filters.items, filters.categories, filters.types,
                    filters.date_from, filters.date_to))
    fts_expr = _sqlite_full_expression(parsed) if dialect == "sqlite" and parsed.groups else None
    page_where = where
    if fts_expr is None:
        total = int(conn.execute(sa.select(sa.func.count()).select_from(posts).where(where)).scalar_one())
    else:
        # SQLite: the index alone counts the matches (no list of every matching id is
        # materialised). When they are many — more than the posts the filters leave,
        # or past PROBE_ABOVE — walk those posts (newest first) and ask the index about
        # each one instead (MATCH + rowid = seeks).
        matches = int(conn.execute(sa.text("SELECT count(*) FROM post_fts WHERE post_fts MATCH :e"),
                                   {"e": fts_expr}).scalar_one())
        plain = conds[1 + len(parsed.exclude):]
        probe = sa.text("EXISTS (SELECT 1 FROM post_fts WHERE post_fts MATCH :e AND post_fts.rowid = posts.id)")
        probe_where = sa.and_(sa.true(), *plain, probe.bindparams(sa.bindparam("e", fts_expr, unique=True)))
        if not filtered:
            # Walking newest first takes about limit × posts / matches probes; listing
            # every match costs `matches`. Probe only when that is cheaper (common words).
            posts_n = int(conn.execute(sa.select(sa.func.max(posts.c.id))).scalar() or 0)
            total = matches
            use_probe = matches > PROBE_ABOVE and (limit + offset) * posts_n * PROBE_COST < matches * matches
        else:
            base = int(conn.execute(sa.select(sa.func.count()).select_from(posts)
                                    .where(sa.and_(sa.true(), *plain))).scalar_one())
            # A probe costs ~50× what listing one match does (measured at 20k posts).
            use_probe = base * PROBE_COST < matches
            total = int(conn.execute(sa.select(sa.func.count()).select_from(posts)
                                     .where(probe_where if use_probe else where)).scalar_one())
        if use_probe and order != "relevance":
            page_where = probe_where
    cols = [posts.c[c] for c in ("id", "channel_id", "title", "url", "published_at", "item", "category", "type",
                                 "department")]
    order_by: list[sa.ColumnElement[object]] = []
    if order == "relevance" and parsed.groups:
        title_hit = posts.c.id.in_(_match_ids(dialect, _expr(dialect, parsed.groups, title_only=True)))
        order_by.append(sa.case((title_hit, 1), else_=0).desc())
    order_by += [posts.c.published_at.desc().nulls_last(), posts.c.id.desc()]
    rows = [dict(r._mapping) for r in conn.execute(
        sa.select(*cols).where(page_where).order_by(*order_by).limit(limit).offset(offset))]
    result = SearchResult(total, rows)
    if facets and total:
        month = (sa.func.strftime("%Y-%m", posts.c.published_at) if dialect == "sqlite"
                 else sa.func.to_char(posts.c.published_at, "YYYY-MM"))
        for name, col in (("channel", posts.c.channel_id), ("category", posts.c.category),
                          ("item", posts.c.item), ("type", posts.c.type), ("month", month)):
            q = sa.select(col.label("v"), sa.func.count().label("n")).where(where).group_by(col)
            result.facets[name] = sorted(((r.v, r.n) for r in conn.execute(q)), key=lambda x: (-x[1], str(x[0])))
    return result


def snippet(text: str | None, parsed_terms: Sequence[str], width: int = 36) -> str:
    """A piece of `text` around the first hit, the hit in 【】."""
    if not text:
        return ""
    norm = normalize(text)
    src = text if len(norm) == len(text) else norm
    hits = [(norm.find(t), t) for t in parsed_terms if t and norm.find(t) >= 0]
    if not hits:
        return " ".join(src[: width * 2].split())
    pos, term = min(hits)
    start = max(0, pos - width // 2)
    piece = src[start:pos] + "【" + src[pos : pos + len(term)] + "】" + src[pos + len(term) : pos + len(term) + width]
    return ("…" if start else "") + " ".join(piece.split()) + "…"
