"""Statistics speed on a large store: 1,000,000 posts, 10 channels, 3 academic years.

    python bench/stats.py [--posts 1000000] [--pg URL | --no-pg] [--json]

Posts are bulk-inserted straight into the posts table (the rollup's triggers
fire as they would for a sync; this measures the queries, not ingestion).
Prints p50/p95 ms, on SQLite and PostgreSQL, for the academic year by
channel × month, by announcement type (with the stated amounts), by group ×
category and the 50-item coverage — beside the same channel × month count
made from the posts without the rollup, and done the naive way (every post
read into Python and counted there, what a spreadsheet-export-and-pivot
amounts to) — and the time to write the year's XLSX. `--json` prints
{"sqlite": {"channel_month_p95_ms", …}, "postgresql": {…}} (the table goes to stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from scratch import insert_rows, pg_schema  # noqa: E402  (bench/scratch.py, beside this script)

from aggregator.config import parse_config  # noqa: E402
from aggregator.qingdan import category_of  # noqa: E402
from aggregator.services.report import coverage, write_workbook  # noqa: E402
from aggregator.services.stats import academic_year, stats  # noqa: E402
from storage.stats import count_posts  # noqa: E402
from storage.store import ChannelRecord, Store  # noqa: E402
from storage.tables import posts_t  # noqa: E402

TYPES = ("采购意向", "采购公告", "中标公告", "更正公告", "合同公告")
SUMMARY: dict[str, dict[str, float]] = {}
CONFIG = "".join(f'[[channel]]\nid = "ch{i}"\nkind = "html"\ngroup = "分组{i % 4}"\nurl = "https://x.edu.cn/{i}.htm"\n'
                 f'preset = "vsb"\n' for i in range(10))


def fill(store: Store, n: int) -> None:
    store.channels.register([ChannelRecord(f"ch{i}", f"渠道{i}", "html", f"分组{i % 4}", None, True) for i in range(10)])
    rnd = random.Random(5)
    start = datetime(2021, 9, 1)
    span = 3 * 365 * 24 * 3600
    now = datetime(2024, 9, 1)

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(n):
            item = rnd.choice([None] * 6 + list(range(1, 51)))
            kind = rnd.choice(TYPES) if i % 10 == 8 else None  # one channel of procurement announcements
            extra = {"budget": rnd.randint(10_000, 5_000_000)} if kind and rnd.random() < 0.6 else {}
            yield {"channel_id": f"ch{i % 10}", "key": f"k{i}", "title": "t", "body": "", "attachments": [],
                   "extra": extra, "type": kind, "content_hash": "h", "first_seen_at": now, "updated_at": now,
                   "published_at": start + timedelta(seconds=rnd.randrange(span)), "item": item,
                   "category": category_of(item), "reads": rnd.randint(0, 3000) if i % 10 == 9 else None}

    insert_rows(store.engine, posts_t, rows())
    store.posts.fold_rollup()  # as the store does after each write (PostgreSQL)
    if store.dialect == "postgresql":
        # A settled database: autovacuum would have set the visibility map by now, which
        # index-only scans need (VACUUM cannot run inside a transaction).
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE posts, post_rollup, post_rollup_delta"))
    else:
        with store.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def timed(fn, runs: int = 9) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm the cache, as an office's second click would
    s = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        s.append((time.perf_counter() - t) * 1000)
    s.sort()
    return statistics.median(s), s[min(len(s) - 1, int(0.95 * (len(s) - 1) + 0.5))]


def naive(store: Store) -> None:
    period = academic_year("2022-2023")
    counts: Counter[tuple[str, str]] = Counter()
    with store.engine.connect() as conn:
        for ch, when in conn.execute(sa.select(posts_t.c.channel_id, posts_t.c.published_at)):
            if isinstance(when, str):
                when = datetime.fromisoformat(when)
            if when is not None and period.start <= when < period.end:
                counts[(ch, when.strftime("%Y-%m"))] += 1


def run(name: str, url: str, n: int, tmp: str) -> None:
    store = Store.open(url)
    t = time.perf_counter()
    fill(store, n)
    load = time.perf_counter() - t
    year = academic_year("2022-2023")
    cm = timed(lambda: stats(store, ["channel", "month"], year))
    by_type = timed(lambda: stats(store, ["type"], year))
    cov = timed(lambda: coverage(store, year))
    group_cat = timed(lambda: stats(store, ["group", "category"], year))
    plain = timed(lambda: count_posts(store, ["channel", "month"], year.start, year.end, months=year.months()), runs=5)
    base = timed(lambda: naive(store), runs=3)
    cfg = parse_config(CONFIG, Path(tmp) / "c.toml")
    t = time.perf_counter()
    write_workbook(store, cfg, year, Path(tmp) / f"{name}.xlsx")
    xlsx = time.perf_counter() - t
    store.close()
    print(f"{name:<12}" + "".join(f"{a:>9.1f}/{b:<6.1f}" for a, b in (cm, by_type, cov, group_cat, plain))
          + f"{base[0]:>10.0f}/{base[1]:<6.0f}{plain[0] / cm[0]:>8.0f}×{base[0] / cm[0]:>8.0f}×{xlsx * 1000:>10.0f}"
          f"{load:>9.0f}")
    SUMMARY[name.lower()] = {"channel_month_p95_ms": round(cm[1], 1), "type_p95_ms": round(by_type[1], 1),
                             "coverage_p95_ms": round(cov[1], 1), "group_category_p95_ms": round(group_cat[1], 1),
                             "without_rollup_channel_month_p95_ms": round(plain[1], 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    ap.add_argument("--no-sqlite", action="store_true")
    ap.add_argument("--json", action="store_true", help="print one JSON object (the table goes to stderr)")
    args = ap.parse_args()
    with contextlib.redirect_stdout(sys.stderr) if args.json else contextlib.nullcontext():
        print(f"stats benchmark: {args.posts:,} posts, 10 channels, 2021-09 … 2024-08; p50/p95 ms (warm); "
              "baselines: the same from the posts without the rollup, and every post read into Python and counted")
        print(f"{'store':<12}{'ch×month year':>16}{'by type':>16}{'coverage 50':>16}{'group×categ.':>16}"
              f"{'no rollup ch×m':>16}{'naive ch×month':>17}{'vs no rollup':>9}{'vs naive':>9}{'xlsx ms':>10}"
              f"{'load s':>9}")
        with tempfile.TemporaryDirectory() as tmp:
            if not args.no_sqlite:
                run("SQLite", f"sqlite:///{tmp}/s.db", args.posts, tmp)
            if not args.no_pg:
                with pg_schema(args.pg) as url:
                    run("PostgreSQL", url, args.posts, tmp)
    if args.json:
        print(json.dumps(SUMMARY))


if __name__ == "__main__":
    main()
