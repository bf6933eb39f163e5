"""The scheduler with many channels: tick cost, due-to-fetching delay, memory of `xxgk serve`.

    python bench/service.py [--channels 200] [--workers 4]

On one loopback sample server, CHANNELS small VSB columns (3 posts each), all
due at once (never synced):
1. In this process, a `Scheduler` ticking every 0.5 s syncs them all: the time
   from each channel's due time to its sync starting (p50/p95/max), and the
   wall time until every channel has synced.
2. The cost of one tick's look for due channels over CHANNELS channels with
   their run history — one grouped query (ours) beside a query per channel
   (the naive way), side by side.
3. `xxgk serve` as a real process on a fresh store with the same channels:
   peak RSS (VmHWM) once every channel has synced, and how long that took.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.clock import local_now  # noqa: E402
from aggregator.config import parse_config  # noqa: E402
from aggregator.demo.server import Resource, SampleServer  # noqa: E402
from aggregator.demo.sites import news_posts, portal_site  # noqa: E402
from aggregator.scheduler.service import Scheduler  # noqa: E402
from aggregator.services.health import due_at  # noqa: E402
from storage.store import Store  # noqa: E402


def pages_for(n: int) -> dict[str, Resource]:
    pages: dict[str, Resource] = {}
    for i in range(n):
        site = portal_site(news_posts(3, first_id=100000 + 10 * i), per_page=5)
        pages.update({p.replace("/portal/", f"/c{i}/"): r for p, r in site.items() if "content.jsp" not in p})
    return pages


def config_text(db: str, url: str, n: int, workers: int) -> str:
    head = (f'[store]\nurl = "sqlite:///{db}"\n[http]\nper_host_interval = 0.0\nconcurrency = 8\n'
            f"[service]\ntick = 0.5\njitter = 0\nworkers = {workers}\n")
    return head + "".join(f'[[channel]]\nid = "c{i}"\nkind = "html"\nurl = "{url}/c{i}/xwzx/xxyw.htm"\n'
                          'preset = "vsb"\n' for i in range(n))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


def in_process(server: SampleServer, n: int, workers: int, tmp: str) -> None:
    cfg = parse_config(config_text(f"{tmp}/a.db", server.url, n, workers), Path(tmp) / "a.toml")
    with Store.open(cfg.store.url) as store:
        sched = Scheduler(cfg, store)
        t = time.perf_counter()
        sched.start()
        while sum(1 for h in store.runs.history(limit_per_channel=1).values() if h) < n:
            time.sleep(0.2)
        wall = time.perf_counter() - t
        sched.stop()
        d = list(sched.due_delays)
        print(f"1. {n} channels due at once, {workers} sync threads: all synced in {wall:.1f} s")
        print(f"   due → fetching: p50 {statistics.median(d):.2f} s, p95 {pct(d, 0.95):.2f} s, max {max(d):.2f} s")
        ticks = list(sched.tick_seconds)
        print(f"   tick (pick the due channels): {statistics.median(ticks) * 1000:.1f} ms median over {len(ticks)}")

        now = local_now()
        t = time.perf_counter()
        for _ in range(20):
            sched.due(now)
        ours = (time.perf_counter() - t) / 20
        t = time.perf_counter()
        for _ in range(20):
            for ch in cfg.channels:  # the naive way: one history query per channel
                due_at(ch, store.runs.history(channel_id=ch.id).get(ch.id, []), now)
        naive = (time.perf_counter() - t) / 20
        print(f"2. one look for due channels over {n}: {ours * 1000:.1f} ms (one grouped query) beside "
              f"{naive * 1000:.1f} ms (a query per channel) — {naive / ours:.1f}× ")


def serve_process(server: SampleServer, n: int, workers: int, tmp: str) -> None:
    cfg_path = Path(tmp) / "b.toml"
    cfg_path.write_text(config_text(f"{tmp}/b.db", server.url, n, workers), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg_path), "serve", "--port", "0"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t = time.perf_counter()
    try:
        with Store.open(f"sqlite:///{tmp}/b.db") as store:
            while True:
                time.sleep(0.5)
                try:
                    done = sum(1 for h in store.runs.history(limit_per_channel=1).values() if h)
                except Exception:
                    continue
                if done >= n:
                    break
        wall = time.perf_counter() - t
        status = Path(f"/proc/{proc.pid}/status").read_text()
        hwm = next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1]
        print(f"3. xxgk serve: {n} channels synced in {wall:.1f} s from start; peak RSS {int(hwm) / 1024:.0f} MiB")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    args = parser.parse_args()
    with SampleServer(pages_for(args.channels)) as server, tempfile.TemporaryDirectory() as tmp:
        in_process(server, args.channels, args.workers, tmp)
        serve_process(server, args.channels, args.workers, tmp)


if __name__ == "__main__":
    main()
