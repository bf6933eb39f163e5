"""Search speed and index size, beside a LIKE scan and an FTS5 trigram index on the same data.

    python bench/search.py [--posts 100000] [--pg URL | --no-pg] [--runs 15]

Generates realistic posts (titles 12–30 characters, bodies 300–800, a Zipf-like
mix of common Chinese characters and words, project codes), loads them
through the store (so our index is maintained as in production), then
prints for SQLite — ours, LIKE, FTS5 trigram — and for PostgreSQL — ours,
LIKE (ILIKE-free, case-sensitive) —: index build time and size against the
text, and p50/p95 ms per query class for the count and for the first page of
20 newest.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from aggregator.search import search  # noqa: E402
from storage.store import ChannelRecord, PostRecord, Store  # noqa: E402

WORDS = ["招生", "章程", "预算", "决算", "复试", "研究生", "拟录取", "名单", "学院", "学校", "采购", "中标", "公告",
         "通知", "关于", "工作", "会议", "校园", "图书馆", "教务处", "奖学金", "公示", "项目", "实验室", "设备",
         "党委", "书记", "校长", "教师", "学生", "科研", "成果", "建设", "发展", "管理", "服务", "安全", "教育"]
RARE_WORDS = ["巡视整改", "呈贡校区", "同等学力", "勤工助学", "学术不端"]
CODES = ["DNLG2023-CG123", "DHKJ-2025-CG017", "HBZC2025-00412"]
CLASSES = {
    "1-char": ["学", "招", "预", "巡", "馆", "研", "校", "的"],
    "2-char common": ["招生", "学院", "工作", "通知", "公告", "学校"],
    "2-char rare": ["呈贡", "巡视", "同等", "不端", "勤工"],
    "4-char": ["巡视整改", "呈贡校区", "招生章程", "中标公告", "学术不端"],
    "2 words AND": ["招生 预算", "学院 采购", "巡视 整改", "复试 名单"],
    "filtered": ["招生", "预算", "学院", "公告"],
}


def han_pool() -> list[str]:
    """GB2312 level-1 characters (the 3,755 most common), in GB order."""
    chars = []
    for hi in range(0xB0, 0xD8):
        for lo in range(0xA1, 0xFF):
            try:
                chars.append(bytes([hi, lo]).decode("gb2312"))
            except UnicodeDecodeError:
                pass
    return chars


def generate(n: int, seed: int = 1) -> list[tuple[str, PostRecord]]:
    rnd = random.Random(seed)
    pool = han_pool()
    cum, total = [], 0.0
    for i in range(len(pool)):
        total += 1 / (i + 1) ** 0.9
        cum.append(total)
    rnd.shuffle(pool)
    start = datetime(2022, 9, 1)

    def text(k: int) -> str:
        out: list[str] = []
        while len(out) < k:
            r = rnd.random()
            if r < 0.25:
                out.extend(rnd.choice(WORDS))
            elif r < 0.251:
                out.extend(rnd.choice(RARE_WORDS))
            elif r < 0.2512:
                out.extend(rnd.choice(CODES))
            elif r < 0.30:
                out.append(rnd.choice("，。、；："))
            else:
                out.extend(rnd.choices(pool, cum_weights=cum, k=4))
        return "".join(out[:k])

    posts = []
    for i in range(n):
        channel = f"ch{i % 10}"
        posts.append((channel, PostRecord(
            key=f"k{i}", title=text(rnd.randint(12, 30)), body=text(rnd.randint(300, 800)), content_hash=str(i),
            published_at=start + timedelta(minutes=(i * 1_576_800 // n) * 60 // 60 * 1),
            department=rnd.choice(["党政办公室", "研究生院", "教务处"]))))
    return posts


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


def load(url: str, posts: list[tuple[str, PostRecord]]) -> tuple[Store, float]:
    store = Store.open(url)
    store.register_channels([ChannelRecord(f"ch{i}", f"渠道{i}", "html", f"分组{i % 3}", None, True) for i in range(10)])
    t = time.perf_counter()
    batch: dict[str, list[PostRecord]] = {}
    for channel, rec in posts:
        batch.setdefault(channel, []).append(rec)
        if len(batch[channel]) >= 2000:
            store.write_posts(channel, batch.pop(channel))
    for channel, recs in batch.items():
        store.write_posts(channel, recs)
    return store, time.perf_counter() - t


def sqlite_exec(path: str, sql: str) -> None:
    """Outside any transaction (checkpoint, VACUUM need that)."""
    con = sqlite3.connect(path, isolation_level=None)
    con.execute(sql)
    con.close()


def sqlite_size(path: str) -> int:
    return os.path.getsize(path) + (os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0)


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    t = time.perf_counter()
    posts = generate(args.posts)
    text_bytes = sum(len(r.title.encode()) + len(r.body.encode()) for _, r in posts)
    print(f"search benchmark: {args.posts:,} posts, {text_bytes / 1e6:.0f} MB of title+body text "
          f"(generated in {time.perf_counter() - t:.0f} s)")
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/s.db"
        store, load_s = load(f"sqlite:///{path}", posts)
        store.engine.dispose()
        sqlite_exec(path, "VACUUM")
        with_index = sqlite_size(path)
        t = time.perf_counter()
        store.reindex()
        build_s = time.perf_counter() - t
        with store.engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO post_fts(post_fts) VALUES ('delete-all')"))
        store.engine.dispose()
        sqlite_exec(path, "VACUUM")
        without = sqlite_size(path)
        store.reindex()
        ours = bench_ours(store, args.runs)
        with store.engine.connect() as conn:
            like = bench_like(conn, args.runs, "sqlite")
        with store.engine.begin() as conn:
            t = time.perf_counter()
            conn.execute(sa.text("CREATE VIRTUAL TABLE tri USING fts5(title, body, tokenize='trigram')"))
            conn.execute(sa.text("INSERT INTO tri(rowid, title, body) SELECT id, title, body FROM posts"))
            tri_s = time.perf_counter() - t
        store.engine.dispose()
        sqlite_exec(path, "VACUUM")
        tri_size = sqlite_size(path) - with_index
        with store.engine.connect() as conn:
            tri = bench_trigram(conn, args.runs)
        store.close()
        print(f"SQLite: loading through the store (posts + our index) {load_s:.0f} s "
              f"({args.posts / load_s:,.0f} posts/s); index rebuild {build_s:.0f} s; "
              f"index size {(with_index - without) / 1e6:.0f} MB = {(with_index - without) / text_bytes:.2f}× text; "
              f"trigram build {tri_s:.0f} s, {tri_size / 1e6:.0f} MB = {tri_size / text_bytes:.2f}× text")
        table(f"SQLite {args.posts:,} posts", {"ours (pairs+chars)": ours, "LIKE scan": like, "FTS5 trigram": tri})
        for cls in CLASSES:
            speed = like[cls][0] / ours[cls][0]
            print(f"  {cls:<16} count: ours is {speed:,.0f}× faster than LIKE")

    if args.no_pg:
        return
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(args.pg)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        store, load_s = load(f"{args.pg}?options=-csearch_path%3D{schema}", posts)
        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
            size = conn.execute(sa.text("SELECT pg_total_relation_size('post_search')")).scalar_one()
        t = time.perf_counter()
        store.reindex()
        build_s = time.perf_counter() - t
        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        ours = bench_ours(store, args.runs)
        with store.engine.connect() as conn:
            like = bench_like(conn, args.runs, "postgresql")
        store.close()
        print(f"\nPostgreSQL: loading {load_s:.0f} s ({args.posts / load_s:,.0f} posts/s); index rebuild {build_s:.0f} s; "
              f"index (table + GIN) {size / 1e6:.0f} MB = {size / text_bytes:.2f}× text")
        table(f"PostgreSQL {args.posts:,} posts", {"ours (tsvector+GIN)": ours, "LIKE scan": like})
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
