"""PostgreSQL search designs side by side, on the same generated posts as bench/search.py.

    python bench/pg_designs.py [--posts 100000] [--pg URL] [--bigram-table-posts 10000] [--json]

Exact substring search (the semantics storage/search.py documents) each way below, each in a table
of its own with the post's id, channel and date beside what it indexes:

- `tsvector in row` — character pairs with positions, characters without, one GIN, the
  tsvector kept in the row (STORAGE MAIN: the project's design until migration 0015);
  `tsvector` — the same out of line (TOAST), the project's design since: this bench's
  queries stand alone, the store's join posts, and storage/search.py chooses those plans itself
  (here the page is the faster of sorting GIN's matches and walking the posts newest first);
- `rum` — the same tsvector in a RUM index (`postgresql-15-rum`) with the publication date
  attached (`rum_tsvector_addon_ops`), so the newest matches come out of the index in order; the
  date takes the place of the positions, so a phrase is still rechecked from the tsvector;
- `rum positions` — the same tsvector out of line in a RUM index that keeps each pair's
  positions (`rum_tsvector_ops`): a phrase is checked in the index, with no tsvector read;
- `trgm+grams` — the normalised text (punctuation runs as one space) under a pg_trgm GIN for
  three characters and more (exact: LIKE rechecks the text), and the post's characters and
  character pairs as one text[] under a GIN for one and two characters;
- `doc+pairs` — only the normalised text kept (nothing derived from it stored), under a GIN on
  an expression, `grams(doc)`: its characters and character pairs, made by an SQL function. A
  word of one or two characters is exact in the GIN; a longer one is checked with LIKE on the
  text, a fifth of a tsvector's bytes. Its page is whichever is faster of sorting the GIN's
  matches and walking the posts newest first testing each text with LIKE;
- `bigram table` — one row per (pair or character, post) under a b-tree: built on a smaller
  sample (`--bigram-table-posts`), its size per text byte is the figure that decides.

Prints each design's index size against the text and p50/p95 ms per query class for the
count and for the first page (20 newest); `--json` prints {design: {"count_p95_ms",
"first_page_p95_ms", "index_ratio"}} with the worst query class (the table goes to stderr).
Needs `pg_trgm` and `rum` installable on the server (.ci/run installs postgresql-15-rum).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import operator
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import sqlalchemy as sa  # noqa: E402
from scratch import pg_schema  # noqa: E402
from search import CLASSES, generate, pct, worst  # noqa: E402  (bench/search.py: the same posts and queries)

from storage.search import post_tokens, runs, term_tokens, tsquery_expression, tsvector_literal  # noqa: E402

FILTER = "channel_id = 'ch3' AND published_at >= '2023-09-01' AND published_at < '2024-09-01'"


def doc_of(fields: Iterable[str | None]) -> tuple[str, list[str]]:
    """The normalised text (a field per line, punctuation runs as one space) and its characters
    and character pairs."""
    lines, grams = [], set()
    for text in fields:
        parts = runs(text) if text else []
        if not parts:
            continue
        lines.append(" ".join(parts))
        for run in parts:
            grams.update(run)
            grams.update(map(operator.add, run, run[1:]))
    return "\n".join(lines), sorted(grams)


# A text's characters and character pairs, in the database: `doc+pairs` stores nothing else. Its
# runs (split at spaces and line breaks), each matched two characters at a time from its first
# character and from its second: C code throughout, 0.16 ms a generated post (a window function
# over its characters, the same pairs: 0.74 ms).
GRAMS = r"""CREATE FUNCTION grams(doc text) RETURNS text[] LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$
  SELECT string_to_array(regexp_replace(doc, '[ \n]', '', 'g'), NULL) || ARRAY(
    SELECT m[1] FROM regexp_split_to_table(doc, '[ \n]') r, LATERAL (
      SELECT regexp_matches(r, '..', 'g') UNION ALL SELECT regexp_matches(substr(r, 2), '..', 'g')) x(m)) $$"""


def array_literal(values: list[str]) -> str:
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def load(engine: sa.Engine, n: int, bigram_n: int) -> int:
    """Every design's table filled by COPY from the same posts; returns the text's bytes."""
    text_bytes = 0
    with engine.begin() as conn:
        for ddl in ("CREATE TABLE d_tsv (post_id int PRIMARY KEY, channel_id text, published_at timestamp, "
                    "tsv tsvector)",
                    "ALTER TABLE d_tsv ALTER COLUMN tsv SET STORAGE MAIN",
                    "ALTER TABLE d_tsv SET (toast_tuple_target = 8160)",
                    "CREATE TABLE d_tsx (post_id int PRIMARY KEY, channel_id text, published_at timestamp, "
                    "tsv tsvector)",
                    "CREATE TABLE d_rpos (post_id int PRIMARY KEY, channel_id text, published_at timestamp, "
                    "tsv tsvector)",
                    "ALTER TABLE d_rpos SET (toast_tuple_target = 128)",
                    "CREATE TABLE d_rum (post_id int PRIMARY KEY, channel_id text, published_at timestamp, "
                    "tsv tsvector)",
                    "CREATE TABLE d_trgm (post_id int PRIMARY KEY, channel_id text, published_at timestamp, "
                    "doc text, grams text[])",
                    "CREATE TABLE d_doc (post_id int PRIMARY KEY, channel_id text, published_at timestamp, doc text)",
                    GRAMS,
                    "CREATE TABLE d_pairs (gram text, post_id int, PRIMARY KEY (gram, post_id))"):
            conn.execute(sa.text(ddl))
        tsv_rows, trgm_rows, pair_rows = [], [], []
        for i, (channel, rec) in enumerate(generate(n), 1):
            text_bytes += len(rec.title.encode()) + len(rec.body.encode())
            row = {"title": rec.title, "body": rec.body, "department": rec.department, "attachments": []}
            tsv_rows.append((i, channel, rec.published_at, tsvector_literal(post_tokens(row))))
            doc, grams = doc_of([rec.title, rec.body, rec.department])
            trgm_rows.append((i, channel, rec.published_at, doc, array_literal(grams)))
            if i <= bigram_n:
                pair_rows.extend((g, i) for g in grams)
        raw: Any = conn.connection.driver_connection
        for table, rows in (("d_tsv", tsv_rows), ("d_trgm", trgm_rows), ("d_pairs", pair_rows)):
            with raw.cursor() as cur, cur.copy(f"COPY {table} FROM STDIN") as copy:  # one COPY at a time
                for r in rows:
                    copy.write_row(r)
        conn.execute(sa.text("INSERT INTO d_rum SELECT * FROM d_tsv"))
        conn.execute(sa.text("INSERT INTO d_tsx SELECT * FROM d_tsv"))
        conn.execute(sa.text("INSERT INTO d_rpos SELECT * FROM d_tsv"))
        conn.execute(sa.text("INSERT INTO d_doc SELECT post_id, channel_id, published_at, doc FROM d_trgm"))
        conn.execute(sa.text("SET maintenance_work_mem = '512MB'"))
        for ddl in ("CREATE INDEX ON d_tsv USING gin (tsv)",
                    "CREATE INDEX ON d_tsv (published_at DESC, post_id DESC)",
                    "CREATE INDEX ON d_tsx USING gin (tsv)",
                    "CREATE INDEX ON d_tsx (published_at DESC, post_id DESC)",
                    "CREATE INDEX ON d_rpos USING rum (tsv rum_tsvector_ops)",
                    "CREATE INDEX ON d_rpos (published_at DESC, post_id DESC)",
                    "CREATE INDEX ON d_rum USING rum (tsv rum_tsvector_addon_ops, published_at) "
                    "WITH (attach = 'published_at', to = 'tsv')",
                    "CREATE INDEX ON d_trgm USING gin (doc gin_trgm_ops)",
                    "CREATE INDEX ON d_trgm USING gin (grams)",
                    "CREATE INDEX ON d_trgm (published_at DESC, post_id DESC)",
                    "CREATE INDEX d_doc_grams ON d_doc USING gin (grams(doc))",
                    "CREATE INDEX ON d_doc (published_at DESC, post_id DESC)"):
            t = time.perf_counter()
            conn.execute(sa.text(ddl))
            print(f"  {ddl[:60]}… {time.perf_counter() - t:.0f} s", flush=True)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text("VACUUM ANALYZE"))
    return text_bytes


def size(conn: sa.Connection, table: str, heap_columns: str | None = None) -> int:
    """The table's indexes, plus what the indexed column itself adds to the heap (`heap_columns`)."""
    indexes = conn.execute(sa.text(f"SELECT pg_indexes_size('{table}')")).scalar_one()
    pk = conn.execute(sa.text(f"SELECT pg_relation_size('{table}_pkey')")).scalar_one()
    extra = 0
    if heap_columns:
        extra = conn.execute(sa.text(f"SELECT sum({heap_columns}) FROM {table}")).scalar_one()
    return int(indexes - pk + extra)


# A design: (query, filtered) → (a SELECT with {what} and {tail} to fill, its parameters), or ("", {}).
Design = Callable[[str, bool], tuple[str, dict[str, Any]]]


def tsv_where(q: str) -> tuple[str, dict[str, Any]]:
    groups = [[term_tokens(w)] for w in q.split()]
    return "tsv @@ CAST(:e AS tsquery)", {"e": tsquery_expression(groups)}  # type: ignore[arg-type]


def words(q: str) -> list[tuple[list[str], bool]]:
    """Each word's runs, and whether it is one or two characters (exact in a GIN of characters and pairs)."""
    return [(parts, len(parts) == 1 and len(parts[0]) <= 2) for parts in map(runs, q.split())]


def like(parts: list[str]) -> str:
    return "%" + " ".join(parts) + "%"  # as in the normalised text; runs hold no % or _


def trgm_where(q: str) -> tuple[str, dict[str, Any]]:
    conds, params, grams = [], {}, []
    for i, (parts, short) in enumerate(words(q)):
        if short:
            grams.append(parts[0])  # one or two characters: the array says exactly
        else:
            conds.append(f"doc LIKE :p{i}")
            params[f"p{i}"] = like(parts)
    if grams:
        conds.insert(0, "grams @> CAST(:g AS text[])")
        params["g"] = array_literal(grams)
    return " AND ".join(conds), params


def doc_where(q: str, walk: bool = False) -> tuple[str, dict[str, Any]]:
    """`doc+pairs`: the GIN's characters and pairs of every word, and LIKE for a word longer than
    two characters (the GIN says nothing of their order); `walk`: LIKE alone, for every word (a
    post tested by its text, without the GIN's expression made again)."""
    grams: set[str] = set()
    conds, params = [], {}
    for i, (parts, short) in enumerate(words(q)):
        for run in parts:
            grams.update(run if len(run) == 1 else map(operator.add, run, run[1:]))
        if walk or not short:
            conds.append(f"doc LIKE :p{i}")
            params[f"p{i}"] = like(parts)
    if not walk:
        conds.insert(0, "grams(doc) @> CAST(:g AS text[])")
        params["g"] = array_literal(sorted(grams))
    return " AND ".join(conds), params


def queries(table: str, where: Callable[[str], tuple[str, dict[str, Any]]], order: str
            ) -> Design:
    def make(q: str, filtered: bool) -> tuple[str, dict[str, Any]]:
        cond, params = where(q)
        if not cond:
            return "", {}
        if filtered:
            cond += f" AND {FILTER}"
        return f"SELECT {{what}} FROM {table} WHERE {cond} {{tail}}", params | {"order": order}
    return make


DESIGNS: dict[str, Design] = {
    "tsvector": queries("d_tsx", tsv_where, "ORDER BY published_at DESC, post_id DESC"),
    "tsvector in row": queries("d_tsv", tsv_where, "ORDER BY published_at DESC, post_id DESC"),
    "rum": queries("d_rum", tsv_where, "ORDER BY published_at <=> '2100-01-01' LIMIT 20"),
    "rum positions": queries("d_rpos", tsv_where, "ORDER BY published_at DESC, post_id DESC"),
    "trgm+grams": queries("d_trgm", trgm_where, "ORDER BY published_at DESC, post_id DESC"),
    "doc+pairs": queries("d_doc", doc_where, "ORDER BY published_at DESC, post_id DESC"),
}
# A design's other way to its page, the faster of the two taken, as storage/search.py chooses between
# sorting the matches and walking the posts newest first: the walk's query and its settings.
WALKS: dict[str, tuple[Design, dict[str, str]]] = {
    "tsvector": (DESIGNS["tsvector"], {"enable_bitmapscan": "off"}),  # each post's tsvector tested in turn
    "doc+pairs": (queries("d_doc", lambda q: doc_where(q, walk=True), "ORDER BY published_at DESC, post_id DESC"),
                  {}),
}


def timed(engine: sa.Engine, sql: str, params: dict[str, Any], runs_n: int,
          settings: dict[str, str] | None = None) -> tuple[float, float]:
    samples = []
    with engine.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))  # as storage/search.py's searches do
        for name, value in (settings or {}).items():
            conn.execute(sa.text(f"SET {name} = {value}"))
        for _ in range(runs_n):
            t = time.perf_counter()
            conn.execute(sa.text(sql), params).all()
            samples.append((time.perf_counter() - t) * 1000)
    return pct(samples, 0.5), pct(samples, 0.95)


def measure(engine: sa.Engine, runs_n: int) -> dict[str, dict[str, tuple[float, float, float, float]]]:
    out: dict[str, dict[str, tuple[float, float, float, float]]] = {}
    for name, make in DESIGNS.items():
        out[name] = {}
        for cls, qs in CLASSES.items():
            counts, pages = [], []
            for q in qs:
                sql, params = make(q, cls == "filtered")
                order = params.pop("order")
                count = sql.format(what="count(*)", tail="")
                page = sql.format(what="post_id", tail=order if "LIMIT" in order else f"{order} LIMIT 20")
                counts.append(timed(engine, count, params, runs_n))
                pages.append(timed(engine, page, params, runs_n))
                if name in WALKS:
                    walk_way, settings = WALKS[name]
                    sql, params = walk_way(q, cls == "filtered")
                    walk = sql.format(what="post_id", tail=f"{params.pop('order')} LIMIT 20")
                    pages[-1] = min(pages[-1], timed(engine, walk, params, runs_n, settings))
            out[name][cls] = (max(c[0] for c in counts), max(c[1] for c in counts),
                              max(p[0] for p in pages), max(p[1] for p in pages))
        print(f"  {name} measured", flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--bigram-table-posts", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    summary: dict[str, dict[str, float]] = {}
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        admin = sa.create_engine(args.pg)
        with admin.begin() as conn:
            for ext in ("pg_trgm", "rum"):
                try:
                    conn.execute(sa.text(f"CREATE EXTENSION IF NOT EXISTS {ext}"))
                except sa.exc.DBAPIError as exc:
                    sys.exit(f"bench/pg_designs.py needs the {ext} extension on the server "
                             f"(Debian: apt-get install postgresql-15-{ext.replace('pg_', '')}): {exc.orig}")
        with pg_schema(args.pg) as url:
            engine = sa.create_engine(url + "%2Cpublic")  # the extensions live in public
            t = time.perf_counter()
            text_bytes = load(engine, args.posts, args.bigram_table_posts)
            print(f"{args.posts:,} posts, {text_bytes / 1e6:,.0f} MB of title+body text, loaded and indexed "
                  f"in {time.perf_counter() - t:.0f} s", flush=True)
            with engine.connect() as conn:
                sizes = {"tsvector": size(conn, "d_tsx", "pg_column_size(tsv)"),
                         "tsvector in row": size(conn, "d_tsv", "pg_column_size(tsv)"),
                         "rum": size(conn, "d_rum", "pg_column_size(tsv)"),
                         "rum positions": size(conn, "d_rpos", "pg_column_size(tsv)"),
                         "trgm+grams": size(conn, "d_trgm", "pg_column_size(doc) + pg_column_size(grams)"),
                         "doc+pairs": size(conn, "d_doc", "pg_column_size(doc)")}
                pairs_gin = conn.execute(sa.text("SELECT pg_relation_size('d_doc_grams')")).scalar_one()
                pairs_bytes = size(conn, "d_pairs") + conn.execute(sa.text(
                    "SELECT pg_relation_size('d_pairs')")).scalar_one()
                sample_text = text_bytes * min(args.bigram_table_posts, args.posts) / args.posts
            figures = measure(engine, args.runs)
            engine.dispose()
        print(f"\nPostgreSQL designs, {args.posts:,} posts — p50/p95 ms, count | first page of 20 newest")
        print(f"{'query class':<16}" + "".join(f"{n:>34}" for n in figures))
        for cls in CLASSES:
            print(f"{cls:<16}" + "".join(
                f"{figures[n][cls][0]:7.1f}/{figures[n][cls][1]:<7.1f}| {figures[n][cls][2]:7.1f}/"
                f"{figures[n][cls][3]:<7.1f}".rjust(34) for n in figures))
        print("index size (what the design adds: indexes, and the indexed column in the table) against the text: "
              + ", ".join(f"{n} {sizes[n] / text_bytes:.2f}×" for n in sizes)
              + f", bigram table {pairs_bytes / sample_text:.2f}× (b-tree and rows, on "
                f"{min(args.bigram_table_posts, args.posts):,} posts); a GIN of characters and pairs alone "
                f"(doc+pairs's) {pairs_gin / text_bytes:.2f}×")
        for n in figures:
            summary[n] = {**worst(figures[n]), "index_ratio": round(sizes[n] / text_bytes, 2)}
        summary["bigram table"] = {"index_ratio": round(pairs_bytes / sample_text, 2)}
        summary["pairs GIN alone"] = {"index_ratio": round(pairs_gin / text_bytes, 2)}
    if args.json:
        print(json.dumps(summary))


if __name__ == "__main__":
    main()
