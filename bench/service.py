"""The scheduler with many channels: tick cost, due-to-fetching delay, memory of `xxgk serve`.

    python bench/service.py [--channels 200] [--workers 4]
    python bench/service.py --channels 2000 --workers 3 --store postgresql [--pg URL] [--json]

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

With `--store postgresql`, --workers is the number of `xxgk worker` processes
(each with 4 sync threads) sharing one PostgreSQL store, as a provincial
deployment runs them: every channel must be synced exactly once in its due
window (`synced_once`); `due_to_fetch_p95_s` is how long a channel waited
beyond pure queueing (its start minus the start it would have had if the
runs, with their real durations, had gone through the same slots back to back
from the first start); `peak_rss_mib` the largest worker's VmHWM. `--json`
prints `{"synced_once","due_to_fetch_p95_s","peak_rss_mib",…}`.

With `--minutes M` (PostgreSQL), a simulated day: every channel runs on a
five-minute cron (a fifth of them due each minute), so in an hour each is
due twelve times — a day of hourly syncs, 24,000 runs for 2,000 channels.
`synced_once` then means every due tick of every channel had exactly one run
(none missed, none twice); `due_to_fetch_p95_s` is measured from each tick;
each worker's RSS is read every minute, and `rss_growth_mib` is the largest
worker's rise from the first full round's end to the last minute (steady:
near 0).
"""

from __future__ import annotations

import argparse
import heapq
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scratch import pg_schema  # noqa: E402  (bench/scratch.py, beside this script)

from aggregator.clock import local_now  # noqa: E402
from aggregator.config import parse_config  # noqa: E402
from aggregator.demo.server import Resource, SampleServer  # noqa: E402
from aggregator.demo.sites import news_posts, portal_site  # noqa: E402
from aggregator.scheduler.service import Scheduler  # noqa: E402
from aggregator.services.health import due_at  # noqa: E402
from storage.records import RunRow  # noqa: E402
from storage.store import Store  # noqa: E402


def pages_for(n: int) -> dict[str, Resource]:
    pages: dict[str, Resource] = {}
    for i in range(n):
        site = portal_site(news_posts(3, first_id=100000 + 10 * i), per_page=5)
        pages.update({p.replace("/portal/", f"/c{i}/"): r for p, r in site.items() if "content.jsp" not in p})
    return pages


EVERY = 5  # minutes between a channel's ticks in the simulated day (`--minutes`)


def config_text(db: str, url: str, n: int, workers: int, day: bool = False) -> str:
    head = (f'[store]\nurl = "sqlite:///{db}"\n[http]\nper_host_interval = 0.0\nconcurrency = 8\n'
            f"[service]\ntick = 0.5\njitter = 0\nworkers = {workers}\n")
    return head + "".join(f'[[channel]]\nid = "c{i}"\nkind = "html"\nurl = "{url}/c{i}/xwzx/xxyw.htm"\n'
                          'preset = "vsb"\n' + (f'schedule = "{i % EVERY}-59/{EVERY} * * * *"\n' if day else "")
                          for i in range(n))


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


THREADS = 4  # sync threads in each worker process


def beyond_queueing(runs: list[tuple[float, float, float]], slots: int) -> list[float]:
    """Each run's wait beyond pure queueing: its start minus the start it would have had if the
    runs `(due, start, duration)` (in their order, with their real durations) had gone through
    `slots` back to back, none before it was due."""
    if not runs:
        return []
    runs = sorted(runs, key=lambda r: r[1])
    free = [runs[0][0]] * slots
    extra = []
    for due, start, duration in runs:
        ideal = max(heapq.heappop(free), due)
        extra.append(max(0.0, start - ideal))
        heapq.heappush(free, max(ideal, start) + duration)
    return extra


def tick_of(channel: int, start: datetime) -> datetime:
    """The five-minute tick a run of this channel served: the last one at or before its start."""
    minute = start.replace(second=0, microsecond=0)
    return minute - timedelta(minutes=(minute.minute - channel % EVERY) % EVERY)


def day_check(history: dict[str, list[RunRow]], n: int, first: datetime, end: datetime
              ) -> tuple[bool, list[tuple[float, float, float]], dict[str, int]]:
    """Every channel's due ticks between its first run and `end` (less a minute for the last to
    start) each had exactly one run: whether so, the runs as (due, start, duration), and counts
    of ticks missed and run twice."""
    spans, missed, twice = [], 0, 0
    for i in range(n):
        runs = sorted(history.get(f"c{i}", []), key=lambda r: r.started_at)
        if not runs:
            missed += 1
            continue
        ticks = [tick_of(i, r.started_at) for r in runs[1:]]
        twice += len(ticks) - len(set(ticks)) + sum(1 for t in ticks if t <= runs[0].started_at)
        due = tick_of(i, runs[0].started_at) + timedelta(minutes=EVERY)
        while due < end - timedelta(minutes=1):
            missed += due not in ticks
            due += timedelta(minutes=EVERY)
        for r, t in zip(runs, [first, *ticks], strict=True):
            spans.append((t.timestamp(), r.started_at.timestamp(),
                          ((r.finished_at or r.started_at) - r.started_at).total_seconds()))
    return missed == 0 and twice == 0, spans, {"ticks_missed": missed, "ticks_run_twice": twice}


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith(field))
    return int(line.split()[1]) / 1024


def cluster(server: SampleServer, n: int, processes: int, admin: str, tmp: str, say: object,
            minutes: float = 0) -> dict[str, object]:
    """`processes` × `xxgk worker` over one PostgreSQL store: every channel synced once (or, for
    `minutes`, once per tick of a simulated day)."""
    with pg_schema(admin) as url:
        return _cluster(server, n, processes, url, tmp, say, minutes)


def _cluster(server: SampleServer, n: int, processes: int, url: str, tmp: str, say: Any,
             minutes: float) -> dict[str, object]:
    cfg_path = Path(tmp) / "pg.toml"
    text = config_text("x", server.url, n, THREADS, day=minutes > 0).replace('url = "sqlite:///x"', f'url = "{url}"')
    cfg_path.write_text(text, encoding="utf-8")
    procs = [subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg_path), "worker"], cwd=ROOT,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(processes)]
    t = time.perf_counter()
    first = local_now()
    rss: list[float] = []  # the largest worker's RSS each minute after the first round
    try:
        with Store.open(url) as store:
            while True:
                time.sleep(1)
                done = {c for c, h in store.runs.history(limit_per_channel=1).items()
                        if h and h[0].finished_at is not None}
                say(f"\r   {len(done)}/{n} channels synced", end="", flush=True)
                if len(done) >= n or time.perf_counter() - t > 900:
                    break
            wall = time.perf_counter() - t
            while time.perf_counter() - t < minutes * 60:
                rss.append(max(rss_mib(p.pid) for p in procs))
                say(f"\r   simulated day: minute {(time.perf_counter() - t) / 60:.0f} of {minutes:.0f}, "
                    f"RSS {rss[-1]:.0f} MiB", end="", flush=True)
                time.sleep(min(60.0, max(0.0, minutes * 60 - (time.perf_counter() - t))))
            end = local_now()
            time.sleep(3)  # a second run of any channel would show now
            hwm = max(rss_mib(p.pid, "VmHWM") for p in procs)
            history = store.runs.history(limit_per_channel=10 + int(minutes) // EVERY * 2)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(timeout=30)
    say("")
    runs = [r for rows in history.values() for r in rows]
    first = min((r.started_at for r in runs), default=first)  # every channel is due at the first start
    extra_fields: dict[str, object] = {}
    if minutes:
        once, spans, counts = day_check(history, n, first, end)
        extra_fields = {**counts, "minutes": minutes, "rss_mib_by_minute": [round(x, 1) for x in rss],
                        "rss_growth_mib": round(rss[-1] - rss[0], 1) if rss else 0.0}
    else:
        once = len(history) == n and all(len(rows) == 1 for rows in history.values())
        spans = [(first.timestamp(), r.started_at.timestamp(),
                  ((r.finished_at or r.started_at) - r.started_at).total_seconds()) for r in runs]
    extra = beyond_queueing(spans, processes * THREADS)
    return {"synced_once": once, "due_to_fetch_p95_s": round(pct(extra, 0.95), 2),
            "peak_rss_mib": round(hwm, 1), "channels": n, "runs": len(runs),
            "all_synced_s": round(wall, 1), "workers": processes, "threads_per_worker": THREADS, **extra_fields}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--channels", type=int, default=200)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--minutes", type=float, default=0,
                        help="PostgreSQL: run a simulated day this long (a five-minute cron per channel)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    say = (lambda *a, **k: print(*a, **k, file=sys.stderr)) if args.json else print
    with SampleServer(pages_for(args.channels)) as server, tempfile.TemporaryDirectory() as tmp:
        if args.store == "postgresql":
            out = cluster(server, args.channels, args.workers, args.pg, tmp, say, args.minutes)
            print(json.dumps(out) if args.json else
                  f"{args.workers} xxgk worker processes × {THREADS} threads, {args.channels} channels on one "
                  f"PostgreSQL: all synced in {out['all_synced_s']} s; each exactly once: {out['synced_once']}; "
                  f"beyond queueing p95 {out['due_to_fetch_p95_s']} s; peak RSS {out['peak_rss_mib']} MiB")
            return
        in_process(server, args.channels, args.workers, tmp)
        serve_process(server, args.channels, args.workers, tmp)


if __name__ == "__main__":
    main()
