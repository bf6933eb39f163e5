"""Run as a process by test_crash.py: syncs a long channel that resumes from its cursor.

    python -m tests.crash_worker STORE_URL TOTAL slow|fast
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

from aggregator.config import parse_config
from aggregator.services.sync import sync
from connectors.base import ChannelState, Checkpoint, FetchContext, Item, RawPost
from storage.store import Store


class Backfill:
    """A backfill of TOTAL posts, checkpointing its position every 50 posts."""

    kind = "table"
    total = 0
    delay = 0.0

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        start = int(ctx.state.cursor or 0)
        for i in range(start, self.total):
            if self.delay:
                time.sleep(self.delay)
            yield RawPost(title=f"第{i}条 学校新闻", key=f"news-{i}", body="正文" * 50,
                          published_at=date(2020, 1, 1) + timedelta(days=i))
            if (i + 1) % 50 == 0:
                yield Checkpoint(ChannelState(cursor=str(i + 1)))
        yield Checkpoint(ChannelState(cursor=str(self.total)))


def main() -> int:
    url, total, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    cfg = parse_config(
        f'[store]\nurl = "{url}"\n[service]\nlease = 5\n[[channel]]\nid = "news"\nkind = "table"\npath = "x.csv"\n'
        '  [channel.columns]\n  title = "t"\n  date = "d"\n',
        Path("crash.toml"),
    )
    Backfill.total = total
    Backfill.delay = 0.004 if mode == "slow" else 0.0
    store = Store.open(url)
    [result] = sync(cfg, store, connectors={"table": Backfill}, holder=f"crash_worker {mode} pid {os.getpid()}")
    print(result.status, result.new, result.error or "", flush=True)
    return 0 if result.status == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
