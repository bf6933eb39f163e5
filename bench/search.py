"""Search speed and index size, beside a LIKE scan and an FTS5 trigram index on the same data.

    pip install -e '.[bench]'      # jieba, for its word list only
    python bench/search.py [--posts 100000] [--pg URL | --no-pg] [--runs 15] [--no-trigram]
    python bench/search.py --posts 1000000 --keep /tmp/s1m.db --no-pg    # 1M takes ~1 h
    python bench/search.py --reuse /tmp/s1m.db --no-pg                   # its queries again
    python bench/search.py --posts 1000000 --no-sqlite --gin-after --no-like   # PostgreSQL at 1M
    python bench/search.py --posts N --json    # {"sqlite":{"first_page_p95_ms","count_p95_ms","index_ratio"},
                                               #  "postgresql":{…}}: each the worst query class; tables to stderr

Generates realistic posts — titles 12–30 characters, bodies 300–800 — from
the words of jieba's dictionary at their corpus frequencies (349k words), the
office's own vocabulary (招生, 预算, …), rare terms (巡视整改, 呈贡校区) and
project codes. Each post has a topic: a few phrases it keeps coming back to,
as real notices do. The mix is calibrated on real official text: a
600-character stretch of the 清单's item texts or of a description of real sites repeats its
character pairs so that distinct/total ≈ 0.60; independent words give 0.95,
and index size follows that figure (the bench prints the generated text's).

The posts are loaded through the store (so our index is maintained as in
production), then it prints for SQLite — ours, LIKE, FTS5 trigram — and for
PostgreSQL — ours, LIKE —: index build time and size against the text, and
p50/p95 ms per query class for the count and for the first page of 20 newest.
"""

from __future__ import annotations

import argparse
import importlib.resources
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from aggregator.services.search import search  # noqa: E402
from storage.search import PostgresSearch, backend_for  # noqa: E402
from storage.search import runs as text_runs  # noqa: E402
from storage.store import ChannelRecord, PostRecord, Store  # noqa: E402

DOMAIN = ["招生", "章程", "预算", "决算", "复试", "研究生", "拟录取", "名单", "学院", "学校", "采购", "中标", "公告",
          "通知", "关于", "工作", "会议", "校园", "图书馆", "教务处", "奖学金", "公示", "项目", "实验室", "设备",
          "党委", "书记", "校长", "教师", "学生", "科研", "成果", "建设", "发展", "管理", "服务", "安全", "教育"]
RARE = ["巡视整改", "呈贡校区", "同等学力", "勤工助学", "学术不端"]
CODES = ["DNLG2023-CG123", "DHKJ-2025-CG017", "HBZC2025-00412"]
TOPIC_SHARE = 0.5  # of a body's words that come from its topic (0.60 distinct pairs; see above)
CLASSES = {
    "1-char": ["学", "招", "预", "巡", "馆", "研", "校", "的"],
    "2-char common": ["招生", "学院", "工作", "通知", "公告", "学校"],
    "2-char rare": ["呈贡", "巡视", "同等", "不端", "勤工"],
    "4-char": ["巡视整改", "呈贡校区", "招生章程", "中标公告", "学术不端"],
    "2 words AND": ["招生 预算", "学院 采购", "巡视 整改", "复试 名单"],
    "filtered": ["招生", "预算", "学院", "公告"],
}


def vocabulary() -> tuple[list[str], list[int]]:
    """jieba's dictionary: Chinese words and cumulative corpus frequencies."""
    try:
        path = importlib.resources.files("jieba") / "dict.txt"
    except ModuleNotFoundError:
        sys.exit("bench/search.py needs jieba's word list: pip install -e '.[bench]'")
    han = re.compile(r"^[\u4e00-\u9fff]+$")
    words, cum, total = [], [], 0
    with path.open(encoding="utf-8") as f:
        for line in f:
            word, freq, _ = line.split(" ", 2)
            if han.match(word):
                total += int(freq)
                words.append(word)
                cum.append(total)
    return words, cum


def generate(n: int, seed: int = 1) -> Iterator[tuple[str, PostRecord]]:
    rnd = random.Random(seed)
    words, cum = vocabulary()
    start = datetime(2022, 9, 1)

    def text(k: int, topic: list[str], share: float) -> str:
        out, length = [], 0
        while length < k:
            m = rnd.randint(4, 14)
            fill = iter(rnd.choices(words, cum_weights=cum, k=m))
            sentence = []
            for _ in range(m):
                r = rnd.random()
                sentence.append(rnd.choice(topic) if r < share else rnd.choice(RARE) if r < share + 0.001
                                else rnd.choice(CODES) if r < share + 0.0012 else next(fill))
            s = "".join(sentence) + rnd.choice("，，，。、；")
            out.append(s)
            length += len(s)
        return "".join(out)[:k]

    for i in range(n):
        topic = ["".join(rnd.choices(words, cum_weights=cum, k=rnd.randint(1, 3))) for _ in range(14)]
        topic += rnd.sample(DOMAIN, 4)
        yield f"ch{i % 10}", PostRecord(
            key=f"k{i}", title=text(rnd.randint(12, 30), topic, 0.7),
            body=text(rnd.randint(300, 800), topic, TOPIC_SHARE), content_hash=str(i),
            published_at=start + timedelta(minutes=i * 1_576_800 // n),  # three years, evenly
            department=rnd.choice(["党政办公室", "研究生院", "教务处"]))


def distinct_pairs(text: str) -> float:
    pairs = [r[i:i + 2] for r in text_runs(text) for i in range(len(r) - 1)]
    return len(set(pairs)) / max(1, len(pairs))


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p * (len(values) - 1))))]


def timed(fn, runs: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples), pct(samples, 0.95)


@dataclass
class Loaded:
    store: Store
    seconds: float
    text_bytes: int = 0
    distinct: float = 0.0


def load(url: str, posts: Iterator[tuple[str, PostRecord]], *, drop_gin: bool = False) -> Loaded:
    store = Store.open(url)
    if drop_gin:  # PostgreSQL: built once after the load (`--gin-after`)
        with store.engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_post_search_tsv"))
    store.channels.register([ChannelRecord(f"ch{i}", f"渠道{i}", "html", f"分组{i % 3}", None, True) for i in range(10)])
    t = time.perf_counter()
    out = Loaded(store, 0.0)
    ratios = []
    batch: dict[str, list[PostRecord]] = {}
    for channel, rec in posts:
        out.text_bytes += len(rec.title.encode()) + len((rec.body or "").encode())
        if len(ratios) < 2000:
            ratios.append(distinct_pairs((rec.body or "")[:600]))
        batch.setdefault(channel, []).append(rec)
        if len(batch[channel]) >= 2000:
            store.posts.write(channel, batch.pop(channel))
    for channel, recs in batch.items():
        store.posts.write(channel, recs)
    out.seconds = time.perf_counter() - t
    out.distinct = statistics.mean(ratios)
    return out


SUMMARY: dict[str, dict[str, float]] = {}  # what --json prints: per store, the worst query class


def worst(classes: dict[str, tuple[float, ...]]) -> dict[str, float]:
    """The worst query class's p95 of the count and of the first page, from (count p50, count p95,
    page p50, page p95) per class: what each bench's --json reports."""
    return {"count_p95_ms": round(max(v[1] for v in classes.values()), 1),
            "first_page_p95_ms": round(max(v[3] for v in classes.values()), 1)}


def summarise(store_name: str, ours: dict[str, tuple[float, float, float, float]], **extra: float) -> None:
    figures = SUMMARY.setdefault(store_name, {})
    figures.update(worst(ours))
    figures.update({k: round(v, 2) for k, v in extra.items()})


def bench_ours(store: Store, runs: int) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for name, queries in CLASSES.items():
        kw = {"channels": ["ch3"], "date_from": "2023-09-01", "date_to": "2024-08-31"} if name == "filtered" else {}
        qi = iter(range(10**9))
        count = timed(lambda: search(store, queries[next(qi) % len(queries)], limit=0, **kw), runs)
        page = timed(lambda: search(store, queries[next(qi) % len(queries)], limit=20, **kw), runs)
        out[name] = (*count, *page)
    return out


def bench_like(conn: sa.Connection, runs: int, dialect: str) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for name, queries in CLASSES.items():
        def where(q: str) -> tuple[str, dict[str, str]]:
            parts = q.split()
            sql = " AND ".join(f"(title LIKE :p{i} OR body LIKE :p{i})" for i in range(len(parts)))
            params = {f"p{i}": f"%{w}%" for i, w in enumerate(parts)}
            if name == "filtered":
                sql += " AND channel_id = 'ch3' AND published_at >= '2023-09-01' AND published_at < '2024-09-01'"
            return sql, params
        qi = iter(range(10**9))

        def count() -> None:
            sql, params = where(queries[next(qi) % len(queries)])
            conn.execute(sa.text(f"SELECT count(*) FROM posts WHERE {sql}"), params).scalar()

        def page() -> None:
            sql, params = where(queries[next(qi) % len(queries)])
            conn.execute(sa.text(f"SELECT id FROM posts WHERE {sql} ORDER BY published_at DESC LIMIT 20"), params).all()
        out[name] = (*timed(count, max(3, runs // 5)), *timed(page, max(3, runs // 5)))
    return out


def bench_trigram(conn: sa.Connection, runs: int) -> dict[str, tuple[float, float, float, float]]:
    out = {}
    for name, queries in CLASSES.items():
        def match(q: str) -> str:
            return " AND ".join(f'"{w}"' for w in q.split())
        qi = iter(range(10**9))
        extra = (" AND p.channel_id = 'ch3' AND p.published_at >= '2023-09-01' AND p.published_at < '2024-09-01'"
                 if name == "filtered" else "")

        def count() -> None:
            q = queries[next(qi) % len(queries)]
            conn.execute(sa.text("SELECT count(*) FROM tri JOIN posts p ON p.id = tri.rowid WHERE tri MATCH :m" + extra),
                         {"m": match(q)}).scalar()

        def page() -> None:
            q = queries[next(qi) % len(queries)]
            conn.execute(sa.text("SELECT p.id FROM tri JOIN posts p ON p.id = tri.rowid WHERE tri MATCH :m" + extra
                                 + " ORDER BY p.published_at DESC LIMIT 20"), {"m": match(q)}).all()
        if name in ("1-char", "2-char common", "2-char rare", "2 words AND", "filtered"):
            out[name] = (float("nan"),) * 4  # trigram cannot match fewer than 3 characters
        else:
            out[name] = (*timed(count, runs), *timed(page, runs))
    return out


def table(title: str, columns: dict[str, dict[str, tuple[float, float, float, float]]]) -> None:
    print(f"\n{title} — p50/p95 ms, count | first page of 20 newest")
    names = list(columns)
    print(f"{'query class':<16}" + "".join(f"{n:>34}" for n in names))
    for cls in CLASSES:
        cells = []
        for n in names:
            c50, c95, p50, p95 = columns[n][cls]
            cells.append("n/a (needs ≥3 chars)" if c50 != c50 else f"{c50:7.1f}/{c95:<7.1f}| {p50:7.1f}/{p95:<7.1f}")
        print(f"{cls:<16}" + "".join(f"{c:>34}" for c in cells))


def used_bytes(conn: sa.Connection) -> int:
    """Bytes of the database file in use (pages minus free pages), after a WAL checkpoint."""
    conn.execute(sa.text("PRAGMA wal_checkpoint(TRUNCATE)"))
    pages = conn.execute(sa.text("PRAGMA page_count")).scalar_one()
    free = conn.execute(sa.text("PRAGMA freelist_count")).scalar_one()
    return (pages - free) * conn.execute(sa.text("PRAGMA page_size")).scalar_one()


def index_tables(conn: sa.Connection) -> str:
    """Each index table's share, from SQLite's dbstat."""
    rows = conn.execute(sa.text("SELECT name, sum(pgsize) FROM dbstat WHERE name LIKE 'post_fts%' "
                                "OR name LIKE 'post_chars%' GROUP BY name ORDER BY 2 DESC")).all()
    return ", ".join(f"{name} {size / 1e6:,.0f} MB" for name, size in rows if size > 1e6)


def clear_index(store: Store) -> None:
    with store.engine.begin() as conn:
        for statement in backend_for(conn.dialect.name).clear():
            conn.execute(sa.text(statement))


def run_sqlite(args: argparse.Namespace) -> None:
    if args.reuse:
        print(f"search benchmark: queries on the store kept at {args.reuse}")
        measure_sqlite(Store.open(f"sqlite:///{args.reuse}"), args, build_trigram=False)
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or f"{tmp}/s.db"
        for stale in (path, f"{path}-wal", f"{path}-shm"):
            if os.path.exists(stale):
                os.remove(stale)
        loaded = load(f"sqlite:///{path}", generate(args.posts))
        store, text_bytes = loaded.store, loaded.text_bytes
        print(f"search benchmark: {args.posts:,} posts, {text_bytes / 1e6:,.0f} MB of title+body text; "
              f"distinct/total character pairs per 600 characters {loaded.distinct:.2f} (real official text 0.60)")
        with store.engine.connect() as conn:
            with_index = used_bytes(conn)
            tables = index_tables(conn)
        clear_index(store)
        with store.engine.connect() as conn:
            without = used_bytes(conn)
        t = time.perf_counter()
        store.posts.reindex()
        build_s = time.perf_counter() - t
        with store.engine.connect() as conn:
            rebuilt = used_bytes(conn)
        print(f"SQLite: loading through the store (posts + our index) {loaded.seconds:.0f} s "
              f"({args.posts / loaded.seconds:,.0f} posts/s); index rebuild {build_s:.0f} s "
              f"({args.posts / build_s:,.0f} posts/s); index size as synced {(with_index - without) / 1e6:,.0f} MB "
              f"= {(with_index - without) / text_bytes:.2f}× text, rebuilt {(rebuilt - without) / 1e6:,.0f} MB "
              f"= {(rebuilt - without) / text_bytes:.2f}× text ({tables})", flush=True)
        SUMMARY.setdefault("sqlite", {})["index_ratio"] = round((with_index - without) / text_bytes, 2)
        measure_sqlite(store, args, build_trigram=not args.no_trigram, text_bytes=text_bytes, rebuilt=rebuilt)


def measure_sqlite(store: Store, args: argparse.Namespace, *, build_trigram: bool, text_bytes: int = 0,
                   rebuilt: int = 0) -> None:
    """Queries on a loaded store: ours, LIKE, and FTS5 trigram (built here, or kept from a run)."""
    columns = {"ours (pairs+chars)": bench_ours(store, args.runs)}
    summarise("sqlite", columns["ours (pairs+chars)"])
    with store.engine.connect() as conn:
        columns["LIKE scan"] = bench_like(conn, args.runs, "sqlite")
        has_tri = conn.execute(sa.text("SELECT count(*) FROM sqlite_master WHERE name = 'tri'")).scalar_one()
    if build_trigram and not has_tri:
        with store.engine.begin() as conn:
            t = time.perf_counter()
            conn.execute(sa.text("CREATE VIRTUAL TABLE tri USING fts5(title, body, tokenize='trigram')"))
            conn.execute(sa.text("INSERT INTO tri(rowid, title, body) SELECT id, title, body FROM posts"))
            tri_s = time.perf_counter() - t
        with store.engine.connect() as conn:
            tri_size = used_bytes(conn) - rebuilt
        print(f"FTS5 trigram (title+body): build {tri_s:.0f} s, {tri_size / 1e6:,.0f} MB "
              f"= {tri_size / text_bytes:.2f}× text")
        has_tri = 1
    if has_tri and not args.no_trigram:
        with store.engine.connect() as conn:
            columns["FTS5 trigram"] = bench_trigram(conn, args.runs)
    posts_n = store.posts.count()
    store.close()
    table(f"SQLite {posts_n:,} posts", columns)
    ours, like = columns["ours (pairs+chars)"], columns["LIKE scan"]
    print("\nours vs LIKE (p50): the count; a page with its total, as a results page needs it (ours: one call;"
          " LIKE: its count + its page); LIKE's page alone, which stops at the 20th hit")
    for cls in CLASSES:
        c50, _, p50, _ = ours[cls]
        print(f"  {cls:<16} count {like[cls][0] / c50:>7,.0f}×   page with total {(like[cls][0] + like[cls][2]) / p50:>7,.0f}×"
              f"   page alone {like[cls][2] / p50:>6,.2f}×")


def run_postgres(args: argparse.Namespace) -> None:
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        loaded = load(f"{args.pg}?options=-csearch_path%3D{schema}", generate(args.posts), drop_gin=args.gin_after)
        store, text_bytes = loaded.store, loaded.text_bytes
        if args.gin_after:
            t = time.perf_counter()
            with store.engine.begin() as conn:
                conn.execute(sa.text("SET LOCAL maintenance_work_mem = '1GB'"))
                conn.execute(sa.text(PostgresSearch.gin))
            gin_s = time.perf_counter() - t
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))  # settled, as autovacuum leaves a store
            synced = conn.execute(sa.text("SELECT pg_total_relation_size('post_search')")).scalar_one()
        loading = (f"\nPostgreSQL: loading through the store {loaded.seconds:.0f} s ({args.posts / loaded.seconds:,.0f} "
                   f"posts/s{', its GIN dropped' if args.gin_after else ''}); ")
        if args.gin_after:
            print(f"{loading}GIN built after it {gin_s:.0f} s; index (table + GIN) {synced / 1e6:,.0f} MB = "
                  f"{synced / text_bytes:.2f}× text", flush=True)
        else:
            t = time.perf_counter()
            store.posts.reindex()
            build_s = time.perf_counter() - t
            with store.engine.begin() as conn:
                conn.execute(sa.text("ANALYZE"))
                rebuilt = conn.execute(sa.text("SELECT pg_total_relation_size('post_search')")).scalar_one()
            print(f"{loading}index rebuild {build_s:.0f} s ({args.posts / build_s:,.0f} posts/s); index (table + GIN) "
                  f"as synced {synced / 1e6:,.0f} MB = {synced / text_bytes:.2f}× text, rebuilt {rebuilt / 1e6:,.0f} "
                  f"MB = {rebuilt / text_bytes:.2f}× text", flush=True)
        ours = bench_ours(store, args.runs)
        summarise("postgresql", ours, index_ratio=synced / text_bytes)
        columns = {"ours (tsvector+GIN)": ours}
        if not args.no_like:
            with store.engine.connect() as conn:
                columns["LIKE scan"] = bench_like(conn, args.runs, "postgresql")
        store.close()
        table(f"PostgreSQL {args.posts:,} posts", columns)
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--no-trigram", action="store_true", help="skip the FTS5 trigram comparison (slow at 1M)")
    ap.add_argument("--no-like", action="store_true", help="PostgreSQL: skip the LIKE comparison (minutes at 1M)")
    ap.add_argument("--gin-after", action="store_true",
                    help="PostgreSQL: load with the search GIN dropped and build it once after (as `xxgk reindex` "
                         "leaves it) instead of the rebuild; GIN upkeep post by post makes a 1M load take hours")
    ap.add_argument("--keep", metavar="PATH", help="load the SQLite store at PATH and leave it there")
    ap.add_argument("--reuse", metavar="PATH", help="only the queries, on an SQLite store --keep left")
    ap.add_argument("--json", action="store_true", help="print one JSON object (the tables go to stderr)")
    args = ap.parse_args()
    import contextlib
    import json

    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        if not args.no_sqlite:
            run_sqlite(args)
        if not args.no_pg:
            run_postgres(args)
    if args.json:
        print(json.dumps(SUMMARY))


if __name__ == "__main__":
    main()
