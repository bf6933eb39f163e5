"""Statistics speed on a large store: 1,000,000 posts, 10 channels, 3 academic years.

    python bench/stats.py [--posts 1000000] [--pg URL | --no-pg]

Posts are bulk-inserted straight into the posts table (this measures the
queries, not ingestion). Prints p50/p95 ms, on SQLite and PostgreSQL, for the
academic-year channel × month table and the 50-item coverage — beside the
same channel × month count done the naive way (every post read into Python
and counted there, what a spreadsheet-export-and-pivot amounts to) — and the
time to write the year's XLSX.
"""

from __future__ import annotations

import argparse
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
from storage.store import ChannelRecord, Store  # noqa: E402
from storage.tables import posts_t  # noqa: E402

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
            yield {"channel_id": f"ch{i % 10}", "key": f"k{i}", "title": "t", "body": "", "attachments": [],
                   "extra": {}, "content_hash": "h", "first_seen_at": now, "updated_at": now,
                   "published_at": start + timedelta(seconds=rnd.randrange(span)), "item": item,
                   "category": category_of(item), "reads": rnd.randint(0, 3000) if i % 10 == 9 else None}

    insert_rows(store.engine, posts_t, rows())
    if store.dialect == "postgresql":
        # A settled database: autovacuum would have set the visibility map by now, which
        # index-only scans need (VACUUM cannot run inside a transaction).
        with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE posts"))
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
    cov = timed(lambda: coverage(store, year))
    by_type = timed(lambda: stats(store, ["group", "category"], year))
    base = timed(lambda: naive(store), runs=3)
    cfg = parse_config(CONFIG, Path(tmp) / "c.toml")
    t = time.perf_counter()
    write_workbook(store, cfg, year, Path(tmp) / f"{name}.xlsx")
    xlsx = time.perf_counter() - t
    store.close()
    print(f"{name:<12}{cm[0]:>9.0f}/{cm[1]:<6.0f}{cov[0]:>9.0f}/{cov[1]:<6.0f}{by_type[0]:>9.0f}/{by_type[1]:<6.0f}"
          f"{base[0]:>10.0f}/{base[1]:<6.0f}{base[0] / cm[0]:>8.0f}×{xlsx * 1000:>10.0f}{load:>9.0f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=1_000_000)
    ap.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    print(f"stats benchmark: {args.posts:,} posts, 10 channels, 2021-09 … 2024-08; p50/p95 ms (warm); "
          "baseline = every post read into Python and counted")
    print(f"{'store':<12}{'ch×month year':>16}{'coverage 50':>16}{'group×categ.':>16}{'naive ch×month':>17}"
          f"{'ratio':>9}{'xlsx ms':>10}{'load s':>9}")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/s.db", args.posts, tmp)
        if not args.no_pg:
            with pg_schema(args.pg) as url:
                run("PostgreSQL", url, args.posts, tmp)


if __name__ == "__main__":
    main()
