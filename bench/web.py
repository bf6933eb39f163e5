"""The web pages under load: 20 concurrent clients while a sync writes.

    python bench/web.py [--posts 100000] [--clients 20] [--seconds 20] [--workers N]
                        [--store sqlite|postgresql] [--pg URL] [--json]

Builds a SQLite store of --posts posts (titles and bodies from a few hundred
real-looking phrases), starts `xxgk serve --no-scheduler` on loopback as a
real process, and for --seconds runs --clients threads requesting search
pages (`/?q=…`, one- to four-character queries, some with a facet) and
`/stats`, while this process writes 50 posts a second into the same store (as
a sync would). Prints p50/p95/max per page kind beside `/healthz` (the floor
of the stack: ASGI + one store query) under the same load, and the weight of
each page in KB, and the server's CPU milliseconds per search page (the server's and its
workers' user+system time over the one-client search requests, divided by their number: the
first time a query is asked, with nothing cached, and asked again; with `--store postgresql`
this machine's PostgreSQL processes' time too, where most of a search's work is).
Target: p95 ≤ 100 ms for search pages. `--json` prints one object:
`{"search":{"p50_ms","p95_ms"},"search_facet":{…},"stats":{…},"healthz":{…},"rps",
"cpu_ms_per_search","errors"}` (the figures under load), with `connections` (the clients'
connections by server process as first opened), `connections_at_end` and `reopened` (how often
a client connected again after a process handed its connection on: `Connection: close`).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
from scratch import pg_schema  # noqa: E402  (bench/scratch.py, beside this script)

from storage.store import ChannelRecord, PostRecord, Store  # noqa: E402

WORDS = ["招生", "章程", "预算", "决算", "采购", "中标", "公告", "通知", "学院", "研究生", "本科", "录取", "名单",
         "公示", "奖学金", "就业", "质量", "报告", "信息公开", "年度", "收费", "标准", "教学", "评估", "科研",
         "项目", "立项", "实验室", "设备", "图书馆", "校园", "安全", "后勤", "学生", "资助", "国家", "励志",
         "竞赛", "获奖", "会议", "召开", "部署", "工作", "规章", "制度", "管理", "办法", "实施", "细则"]
QUERIES = ["招", "生", "招生", "预算", "中标", "奖学金", "信息公开", "录取名单", "实验室设备", "年度报告", "采购",
           "科研项目", "就业", "质量报告"]
CHANNELS = [f"ch{i}" for i in range(12)]


def build(url: str, n: int) -> None:
    rnd = random.Random(7)
    with Store.open(url) as store:
        store.channels.register(ChannelRecord(c, f"渠道{c}", "html", f"分组{int(c[2:]) % 4}", None, True)
                                for c in CHANNELS)
        start = datetime(2020, 9, 1)
        for b in range(0, n, 5000):
            batch: dict[str, list[PostRecord]] = {}
            for i in range(b, min(n, b + 5000)):
                title = "".join(rnd.choices(WORDS, k=rnd.randint(4, 9)))
                body = "。".join("".join(rnd.choices(WORDS, k=rnd.randint(6, 14))) for _ in range(rnd.randint(3, 12)))
                item = rnd.choice([None, None, 7, 11, 18, 19, 37, 32])
                batch.setdefault(rnd.choice(CHANNELS), []).append(PostRecord(
                    key=f"p{i}", title=title, body=body, content_hash=str(i), item=item,
                    category=None if item is None else {7: 2, 11: 2, 18: 3, 19: 3, 37: 6, 32: 5}[item],
                    published_at=start + timedelta(minutes=i * 25), url=f"https://www.example.edu.cn/info/{i}.htm"))
            for ch, rows in batch.items():
                store.posts.write(ch, rows)
            print(f"\r   building the store: {min(n, b + 5000):,} posts", end="", flush=True, file=sys.stderr)
        store.posts.tidy_search(n)
        if store.dialect == "postgresql":
            # A store at rest: its tables vacuumed and analysed, as autovacuum leaves them a minute after
            # a backfill. Otherwise autovacuum ran during the measurement in some runs and not in others
            # (search p95 83–110 ms over runs of the same code).
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.exec_driver_sql("VACUUM ANALYZE")
    print(file=sys.stderr)


def writer(url: str, stop: threading.Event, written: list[int]) -> None:
    """A sync's writes: 50 posts a second in batches of 10."""
    with Store.open(url) as store:
        i = 0
        while not stop.is_set():
            store.posts.write("ch0", [PostRecord(key=f"live{i + k}", title=f"新通知{i + k}招生工作安排", body="正文",
                                                 content_hash=f"l{i + k}", published_at=datetime.now())
                                      for k in range(10)])
            i += 10
            written[0] = i
            time.sleep(0.2)


class Connection:
    """One keep-alive HTTP/1.1 connection that GETs a path and reads the whole answer (a
    Content-Length or chunked body), and nothing more: what a load generator needs, at a fraction
    of a general client's CPU, which this bench's process shares with the server it measures.
    An answer with `Connection: close` (a server process handing the connection on to the
    others) is followed by a new connection at the next request, timed with it, as a browser or
    a proxy would; `reopened` counts them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.host = base.removeprefix("http://")
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reopened = -1  # the first opening is not a reopening

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = self.host.split(":")
        self.reader, self.writer = await asyncio.open_connection(host, int(port), limit=1 << 20)
        self.reopened += 1
        return self.reader, self.writer

    async def get(self, path: str) -> tuple[int, bytes]:
        reader, writer = (self.reader, self.writer) if self.reader and self.writer else await self._open()
        target = quote(path, safe="/?=&")
        writer.write(f"GET {target} HTTP/1.1\r\nHost: {self.host}\r\n\r\n".encode())
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = b""
        if "content-length" in fields:
            body = await reader.readexactly(int(fields["content-length"]))
        elif fields.get("transfer-encoding") == "chunked":
            while size := int((await reader.readuntil(b"\r\n")).strip(), 16):
                body += (await reader.readexactly(size + 2))[:-2]
            await reader.readuntil(b"\r\n")
        if fields.get("connection", "").lower() == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return {"p50_ms": 0.0, "p95_ms": 0.0}
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1), "p95_ms": round(p95 * 1000, 1)}


def server_cpu(pid: int, database: bool = False) -> float:
    """User+system seconds of the server process and its workers so far; with `database`, and of
    this machine's PostgreSQL processes (where a search on PostgreSQL spends most of its time)."""
    proc = psutil.Process(pid)
    total = 0.0
    db = [p for p in psutil.process_iter(["name"]) if p.info["name"] in ("postgres", "postmaster")] if database else []
    for p in [proc, *proc.children(recursive=True), *db]:
        try:
            times = p.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def report(timings: dict[str, list[float]], seconds: float | None = None) -> None:
    print(f"   {'page':14} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for kind, values in timings.items():
        ordered = sorted(values)
        if not ordered:
            continue
        p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
        print(f"   {kind:14} {len(values):>8} {statistics.median(values) * 1000:>8.1f} {p95 * 1000:>8.1f} "
              f"{ordered[-1] * 1000:>8.1f}")
    if seconds:
        print(f"   throughput: {sum(len(v) for v in timings.values()) / seconds:.0f} requests/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--no-writer", action="store_true", help="no sync writing meanwhile (for comparison)")
    parser.add_argument("--workers", type=int, default=1, help="server processes (xxgk serve --workers N)")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg", default=os.environ.get("XXGK_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    parser.add_argument("--json", action="store_true", help="print one JSON object (progress goes to stderr)")
    args = parser.parse_args()
    say = (lambda *a, **k: print(*a, **k, file=sys.stderr)) if args.json else print
    with tempfile.TemporaryDirectory() as tmp, (
            pg_schema(args.pg) if args.store == "postgresql" else contextlib.nullcontext(f"sqlite:///{tmp}/web.db")
    ) as url:
        out = run(args, url, Path(tmp), say)
    if args.json:
        print(json.dumps(out))


def run(args: argparse.Namespace, url: str, tmp: Path, say: Any) -> dict[str, Any]:
    t = time.perf_counter()
    build(url, args.posts)
    say(f"   built in {time.perf_counter() - t:.0f} s")
    cfg = tmp / "config.toml"
    cfg.write_text(f'[store]\nurl = "{url}"\n' + "".join(
        f'[[channel]]\nid = "{c}"\nkind = "html"\nurl = "https://www.example.edu.cn/{c}.htm"\n'
        f'preset = "vsb"\ngroup = "分组{int(c[2:]) % 4}"\n' for c in CHANNELS), encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "serve",
                             "--no-scheduler", "--port", str(port), "--workers", str(args.workers)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            httpx.get(base + "/healthz", timeout=1)
            break
        except httpx.HTTPError:
            time.sleep(0.2)
    try:
        return measure(args, url, base, proc.pid, say)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def measure(args: argparse.Namespace, url: str, base: str, pid: int, say: Any) -> dict[str, Any]:
    weights = {name: len(httpx.get(base + path, timeout=30).content) / 1024 for name, path in
               (("search", "/?q=招生"), ("stats", "/stats?year=2023-2024"), ("post", "/posts/1"))}
    css = len(httpx.get(base + "/static/site.css").content) / 1024
    timings: dict[str, list[float]] = {"search": [], "search+facet": [], "stats": [], "healthz": []}
    errors: list[str] = []
    stop = threading.Event()
    written = [0]
    served: collections.Counter[int] = collections.Counter()  # connections by server process
    at_end: collections.Counter[int] = collections.Counter()  # the same, once the load is over
    reopened, begun = [0], 0.0
    searched_at: list[tuple[float, float]] = []  # each search's start (seconds into the load) and time

    async def client(seed: int, until: float) -> None:
        rnd = random.Random(seed)
        conn = Connection(base)
        try:
            status, body = await conn.get("/healthz")  # which server process this connection landed on
            served[json.loads(body)["pid"] if status == 200 else 0] += 1
            while time.monotonic() < until:
                kind = rnd.choices(["search", "search+facet", "stats", "healthz"], [6, 2, 1, 1])[0]
                q = rnd.choice(QUERIES)
                path = {"search": f"/?q={q}", "search+facet": f"/?q={q}&channel={rnd.choice(CHANNELS)}",
                        "stats": f"/stats?year={rnd.choice(['2022-2023', '2023-2024', '2024-2025'])}",
                        "healthz": "/healthz"}[kind]
                t0 = time.perf_counter()
                status, _ = await conn.get(path)
                timings[kind].append(time.perf_counter() - t0)
                if kind == "search":
                    searched_at.append((t0 - begun, timings[kind][-1]))
                if status != 200:
                    errors.append(f"{path}: {status}")
            status, body = await conn.get("/healthz")
            at_end[json.loads(body)["pid"] if status == 200 else 0] += 1
        finally:
            reopened[0] += conn.reopened
            conn.close()

    async def load() -> None:
        # One event loop drives the clients: 20 threads here would measure this process's GIL, not the
        # server. Each client holds one keep-alive connection of the lean kind below: with httpx's
        # AsyncClient this process took 0.5-0.6 of the two cores the server needs (2 ms a request).
        nonlocal begun
        until, begun = time.monotonic() + args.seconds, time.perf_counter()
        await asyncio.gather(*(client(i, until) for i in range(args.clients)))

    # One client alone first: what a person at a desk waits for (the facet caches warm up here too),
    # and what a search page costs the server in CPU.
    alone: dict[str, list[float]] = {"search": [], "search+facet": [], "stats": [], "healthz": []}
    rnd = random.Random(1)
    pg = args.store == "postgresql"  # the database's CPU counts too (the server is on this machine)
    search_cpu, searches = [0.0, 0.0], [0, 0]  # the first round (nothing cached), the two after it
    with httpx.Client(base_url=base, timeout=60) as one:
        for round_ in range(3):
            for q in QUERIES:
                for kind, path in (("search", f"/?q={q}"), ("search+facet", f"/?q={q}&channel={rnd.choice(CHANNELS)}"),
                                   ("stats", "/stats?year=2023-2024"), ("healthz", "/healthz")):
                    cpu0, t0 = server_cpu(pid, pg), time.perf_counter()
                    one.get(path)
                    alone[kind].append(time.perf_counter() - t0)
                    if kind.startswith("search"):
                        search_cpu[min(round_, 1)] += server_cpu(pid, pg) - cpu0
                        searches[min(round_, 1)] += 1
    say("1. one client, no contention (3 rounds over 14 queries; the first round computes facet counts, "
        "the pages keep them 30 s):")
    if not args.json:
        report(alone)
    cold, repeat = (search_cpu[i] / max(searches[i], 1) * 1000 for i in (0, 1))
    say(f"   server{' and PostgreSQL' if pg else ''} CPU per search page: {cold:.1f} ms the first time, "
        f"{repeat:.1f} ms again")
    sync = threading.Thread(target=writer, args=(url, stop, written))
    if not args.no_writer:
        sync.start()
    # Where the two cores go under load: the server (and PostgreSQL), and this process (the 20
    # clients and the sync's writes share it).
    server0, own0, wall0 = server_cpu(pid, pg), time.process_time(), time.perf_counter()
    asyncio.run(load())
    busy = {"server": server_cpu(pid, pg) - server0, "bench": time.process_time() - own0}
    cores = {k: round(v / (time.perf_counter() - wall0), 2) for k, v in busy.items()}
    stop.set()
    if not args.no_writer:
        sync.join()
    say(f"2. {args.clients} clients for {args.seconds:.0f} s on {args.posts:,} posts ({args.store}), {args.workers} "
        f"server process(es), while a sync wrote {written[0]} posts; errors: {len(errors)} {errors[:3]}")
    if not args.json:
        report(timings, args.seconds)
    # The search p95 of each quarter of the load: a first quarter above the rest is a warm-up (a
    # process whose caches the one client above never reached), the same in each a steady state.
    quarters = [percentiles([d for t, d in searched_at if q * args.seconds / 4 <= t < (q + 1) * args.seconds / 4]
                            or [0.0])["p95_ms"] for q in range(4)]
    say(f"   search p95 by quarter of the load: {' / '.join(f'{q:.0f}' for q in quarters)} ms")
    say(f"   cores busy: server{' and PostgreSQL' if pg else ''} {cores['server']}, "
        f"this process (clients and the sync's writes) {cores['bench']}; connections by server process: "
        f"{sorted(served.values(), reverse=True)} as first opened (the kernel's hash of each connection's ports "
        f"picks), {sorted(at_end.values(), reverse=True)} at the end, {reopened[0]} opened again after a process "
        "handed its connection on")
    say("3. page weight (HTML, uncompressed): " + ", ".join(f"{k} {v:.1f} KB" for k, v in weights.items())
        + f"; the one stylesheet {css:.1f} KB; no JavaScript")
    return {"search": percentiles(timings["search"]), "search_facet": percentiles(timings["search+facet"]),
            "stats": percentiles(timings["stats"]), "healthz": percentiles(timings["healthz"]),
            "rps": round(sum(len(v) for v in timings.values()) / args.seconds, 1),
            "cpu_ms_per_search": round(cold, 1), "cpu_ms_per_search_repeat": round(repeat, 1),
            "cores_busy": cores, "connections": sorted(served.values(), reverse=True),
            "connections_at_end": sorted(at_end.values(), reverse=True), "reopened": reopened[0],
            "search_p95_by_quarter": quarters, "errors": len(errors)}


if __name__ == "__main__":
    main()
