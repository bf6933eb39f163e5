"""How long `xxgk compliance` takes on a large store: 100,000 posts over three academic years.

    python bench/compliance.py [--posts 100000] [--pg URL | --no-pg]

Posts are bulk-inserted straight into the posts table with bodies of a few hundred characters;
a third carry a date a rule counts from (a 落款, 合同签订日期, 批复, a 公示期), the rest none.
Prints, on SQLite and PostgreSQL, the time of the whole check beside the baseline of reading the
same posts' texts from the store and doing nothing with them — the ratio is what the checks cost.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from scratch import insert_rows, pg_schema  # noqa: E402  (bench/scratch.py, beside this script)

from aggregator.config import parse_config  # noqa: E402
from aggregator.qingdan import category_of  # noqa: E402
from aggregator.services.compliance import run  # noqa: E402
from storage.store import ChannelRecord, Store  # noqa: E402
from storage.tables import posts_t  # noqa: E402

FILLER = "根据学校有关规定，经研究决定，现将有关事项公告如下。请各单位认真组织落实，如有疑问请与联系人联系。" * 3
KINDS = [  # (title, item, type, body tail)
    ("关于拟任干部任前公示的公告", 25, None, "公示期：{d:%Y年%m月%d日}至{e:%m月%d日}。"),
    ("食堂食材配送服务项目合同公告", 18, "合同公告", "合同签订日期：{d:%Y年%m月%d日}"),
    ("设备采购项目中标（成交）结果公告", 18, "中标成交公告", "定标日期：{d:%Y年%m月%d日}"),
    ("2023年部门预算", 19, None, "经主管部门于{d:%Y年%m月%d日}批复，现予公开。"),
    ("关于印发学生管理规定的通知", 31, None, "\n党委学生工作部\n{d:%Y年%m月%d日}"),
    ("学校召开工作会议", None, None, ""),
    ("关于开展安全检查的通知", 40, None, ""),
]


def fill(store: Store, n: int) -> None:
    store.channels.register([ChannelRecord("xxgk", "信息公开网", "html", "信息公开网", None, True)])
    rnd = random.Random(7)
    start = datetime(2021, 9, 1)
    span = 3 * 365 * 24 * 3600

    def rows() -> Iterator[dict[str, Any]]:
        for i in range(n):
            title, item, kind, tail = KINDS[i % len(KINDS)] if i % 3 == 0 else KINDS[5 + i % 2]
            published = start + timedelta(seconds=rnd.randrange(span))
            stated = published.date() - timedelta(days=rnd.randint(0, 40))
            body = FILLER + tail.format(d=stated, e=stated + timedelta(days=rnd.randint(2, 14)))
            yield {"channel_id": "xxgk", "key": f"k{i}", "title": title, "body": body, "attachments": [],
                   "extra": {}, "content_hash": "h", "first_seen_at": published, "updated_at": published,
                   "published_at": published, "item": item, "category": category_of(item), "type": kind}

    insert_rows(store.engine, posts_t, rows())


def measure(label: str, url: str, n: int) -> None:
    cfg = parse_config(f'[store]\nurl = "{url}"\n[[channel]]\nid = "xxgk"\nkind = "html"\n'
                       'url = "https://x.edu.cn/x.htm"\npreset = "vsb"\n', Path("bench.toml"))
    with Store.open(url) as store:
        t0 = time.perf_counter()
        fill(store, n)
        print(f"{label}: {n:,} posts loaded in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        read = sum(len(rows) for rows in store.posts.iter_texts(None, None))
        baseline = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = run(cfg, store, None, date(2024, 11, 1))
        checked = time.perf_counter() - t0
    counts = Counter(f.status for f in report.findings)
    print(f"{label}: read {read:,} posts' texts {baseline:.2f} s (baseline) | compliance {checked:.2f} s "
          f"({n / checked:,.0f} posts/s, {checked / baseline:.1f}× the read) | {len(report.findings):,} findings "
          f"{dict(counts)}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--pg", default=os.environ.get("XXGK_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--no-pg", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        measure("sqlite", f"sqlite:///{tmp}/bench.db", args.posts)
    if args.no_pg:
        return
    try:
        with pg_schema(args.pg) as url:
            measure("postgresql", url, args.posts)
    except sa.exc.OperationalError as exc:  # a bench without PostgreSQL still reports SQLite
        print(f"postgresql: not measured ({str(exc).splitlines()[0]})")

if __name__ == "__main__":
    main()
