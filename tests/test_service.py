"""`xxgk serve` and `xxgk worker` as real processes against sample sites on loopback.

Stories: the service syncs a channel on its minute cron, on time, and again the
next minute; a channel whose server fails goes to backoff, says why, alerts once,
and recovers (alerting once more) when the server does; SIGTERM mid-sync loses
nothing; a cron `xxgk sync` of a channel the service holds is refused, naming the
holder; three workers on one store sync each due channel exactly once; a killed
worker's channels are taken over when its lease expires.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.request import urlopen

import pytest
import sqlalchemy as sa

from aggregator.clock import local_now
from aggregator.config import parse_config
from aggregator.demo.server import Resource, SampleServer
from aggregator.demo.sites import news_posts, portal_site
from aggregator.scheduler.service import QUIET_MAX, Scheduler
from aggregator.services.sync import sync
from storage.store import RunRow, Store
from tests.helpers import ROOT, free_port, run_xxgk

pytestmark = pytest.mark.slow
COLUMN = "/portal/xwzx/xxyw.htm"


def channel(cid: str, url: str, schedule: str = "0 * * * *") -> str:
    return f'[[channel]]\nid = "{cid}"\nkind = "html"\nurl = "{url}"\npreset = "vsb"\nschedule = "{schedule}"\n'


def write(tmp: Path, store_url: str, channels: str, service: str = "", notify: str = "", http: str = "") -> Path:
    path = tmp / "config.toml"
    path.write_text(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\nretries = 0\n{http}\n'
                    f"[service]\ntick = 0.5\njitter = 0\n{service}\n{notify}\n{channels}", encoding="utf-8")
    return path


def start(*args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("XXGK_CONFIG", "XXGK_STORE_URL")}
    return subprocess.Popen([sys.executable, "-m", "aggregator", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM, within: float = 10) -> tuple[float, str]:
    started = time.monotonic()
    proc.send_signal(sig)
    try:
        _, err = proc.communicate(timeout=within)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
        raise AssertionError(f"did not stop within {within} s:\n{err[-3000:]}") from None
    return time.monotonic() - started, err


def wait_for(what: Callable[[], object], timeout: float, message: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = what()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"{message} (waited {timeout} s)")


class Webhook:
    """A JSON webhook receiver on loopback (what Apprise's json:// posts to)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                received.append(json.loads(body or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def site() -> Iterator[SampleServer]:
    with SampleServer(portal_site(news_posts(12), per_page=6)) as server:
        yield server


def runs(store: Store, cid: str) -> list[RunRow]:
    return [r for r in store.runs.all(cid) if r.status != "running"]


def test_serve_syncs_a_channel_on_its_minute_cron_and_answers_health(
        site: SampleServer, store_url: str, store: Store, tmp_path: Path) -> None:
    cfg = write(tmp_path, store_url, channel("news", site.url + COLUMN, "* * * * *"))
    port = free_port()
    proc = start("--config", str(cfg), "serve", "--port", str(port))
    try:
        wait_for(lambda: len(runs(store, "news")) >= 1, 30, "first sync (a channel never synced is due at once)")
        assert store.posts.count("news") == 12
        first = runs(store, "news")[0].started_at
        health = json.loads(urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())
        assert health["status"] == "ok" and health["store"] == "ok" and health["scheduler"]["ticks"] >= 1
        listed = json.loads(urlopen(f"http://127.0.0.1:{port}/api/channels", timeout=5).read())["channels"]
        assert listed[0]["id"] == "news" and listed[0]["state"] == "ok" and listed[0]["posts"] == 12
        # The next minute's fire: on time (within the tick and the sync), and only once.
        wait_for(lambda: len(runs(store, "news")) >= 2, 75, "the next minute's sync")
        second = runs(store, "news")[1].started_at
        assert second.replace(second=0) > first.replace(second=0) and second.second <= 5, (first, second)
        assert site.hits[COLUMN] >= 2
    finally:
        took, err = stop(proc)
    assert took < 5, err[-2000:]
    assert len(runs(store, "news")) == 2  # once per minute, not once per tick


def test_a_failing_channel_backs_off_says_why_alerts_once_and_recovers(
        site: SampleServer, store_url: str, store: Store, tmp_path: Path) -> None:
    hook = Webhook()
    good = site.pages[COLUMN]
    site.pages[COLUMN] = Resource(b"<html>oops</html>", status=500)
    cfg = write(tmp_path, store_url, channel("news", site.url + COLUMN), service="backoff = 1",
                notify=f'[notify]\nurls = ["{hook.url}"]\ndigest = ""\n')
    proc = start("--config", str(cfg), "worker")
    try:
        wait_for(lambda: len(runs(store, "news")) >= 3, 30, "three failed tries on a 1 s, 2 s, 4 s backoff")
        tried = runs(store, "news")
        gaps = [(b.started_at - a.finished_at).total_seconds() for a, b in zip(tried, tried[1:], strict=False)]
        assert all(r.status == "failed" and r.failure == "unreachable" for r in tried[:3])
        # Times are stored to the second and a busy machine adds a tick or two: the waits are at least the
        # backoff (1 s, then 2 s) — never hammering — and the first retry still comes within a few seconds.
        assert 0.9 <= gaps[0] < 5 and gaps[1] >= 1.9, gaps
        listed = json.loads(run_xxgk("--config", str(cfg), "channels", "--json").stdout)["channels"]
        assert listed[0]["state"] == "unreachable" and "500" in listed[0]["reason"]
        assert "无法访问" in listed[0]["reason"] and "连续" in listed[0]["reason"]
        assert len(hook.received) == 1 and "无法访问" in hook.received[0]["title"]  # one alert, not one per run
        site.pages[COLUMN] = good
        wait_for(lambda: any(r.status == "ok" for r in runs(store, "news")), 30, "recovery")
        wait_for(lambda: len(hook.received) == 2, 10, "the recovery alert")
        assert "已恢复" in hook.received[1]["title"]
    finally:
        stop(proc)
        hook.close()
    assert store.posts.count("news") == 12 and len(hook.received) == 2


def test_sigterm_mid_sync_loses_nothing_and_a_cron_sync_meanwhile_is_refused(
        store_url: str, store: Store, tmp_path: Path) -> None:
    with SampleServer(portal_site(news_posts(60), per_page=10), latency=0.1) as slow:
        cfg = write(tmp_path, store_url, channel("news", slow.url + COLUMN), http="concurrency = 1")  # ~7 s
        proc = start("--config", str(cfg), "worker")
        try:
            wait_for(lambda: store.posts.count("news") >= 1, 30, "the worker storing its first posts")
            refused = run_xxgk("--config", str(cfg), "sync", "news", "--json")
            assert refused.returncode == 1
            [entry] = json.loads(refused.stdout)["channels"]
            assert entry["status"] == "failed" and "xxgk worker @" in entry["error"] and "正由" in entry["error"]
        finally:
            took, err = stop(proc)
        assert took < 5, err[-2000:]
        held = store.posts.count("news")
        assert 0 < held < 60
        assert runs(store, "news")[-1].status == "interrupted"
        done = run_xxgk("--config", str(cfg), "sync", "news", "--json")  # the lease was released on the way out
        assert done.returncode == 0, done.stdout + done.stderr
        assert store.posts.count("news") == 60
        keys = [r["key"] for r in store.posts.iter_rows()]
        assert len(keys) == len(set(keys)) == 60


def test_three_workers_sync_every_due_channel_exactly_once(store_url: str, store: Store, tmp_path: Path) -> None:
    pages: dict[str, Resource] = {}
    for i in range(20):
        site_pages = portal_site(news_posts(3, first_id=10000 + 100 * i), per_page=5)
        pages.update({p.replace("/portal/", f"/c{i}/"): r for p, r in site_pages.items()})
    with SampleServer(pages, latency=0.01) as server:
        channels = "".join(channel(f"c{i}", f"{server.url}/c{i}/xwzx/xxyw.htm") for i in range(20))
        cfg = write(tmp_path, store_url, channels)
        workers = [start("--config", str(cfg), "worker") for _ in range(3)]
        try:
            wait_for(lambda: all(runs(store, f"c{i}") for i in range(20)), 60, "every channel synced")
            time.sleep(3)  # several more ticks of every worker: nothing is due again before the hour
        finally:
            errs = [stop(w)[1] for w in workers]
        per_channel = {f"c{i}": len(store.runs.all(f"c{i}")) for i in range(20)}
        assert set(per_channel.values()) == {1}, per_channel
        assert all(r.status == "ok" for i in range(20) for r in store.runs.all(f"c{i}"))
        holders = {line.split("xxgk worker：")[1].split("（")[0] for e in errs for line in e.splitlines()
                   if "xxgk worker：" in line and "@" in line}
        assert len(holders) == 3
        assert store.posts.count() == 60
        # Last month's statistics were written at start (catching up the 1st), once, by one of the three.
        last_month = (local_now().date().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
        assert [p.name for p in (tmp_path / "exports" / "monthly").iterdir()] == [f"{last_month}.xlsx"]
        assert store.marks.get(f"export:{last_month}") == str(tmp_path / "exports" / "monthly" / f"{last_month}.xlsx")
        assert sum("monthly export:" in e for e in errs) == 1


def test_a_killed_workers_lease_is_taken_over_at_once_by_another_worker(
        store_url: str, store: Store, tmp_path: Path) -> None:
    with SampleServer(portal_site(news_posts(40), per_page=10), latency=0.1) as slow:
        cfg = write(tmp_path, store_url, channel("news", slow.url + COLUMN), service="lease = 60",
                    http="concurrency = 1")
        first = start("--config", str(cfg), "worker")
        wait_for(lambda: store.posts.count("news") >= 1, 30, "the first worker syncing")
        first.kill()
        first.communicate()
        killed_at = local_now()
        second = start("--config", str(cfg), "worker")
        try:
            wait_for(lambda: any(r.status == "ok" for r in store.runs.all("news")), 60, "the second worker's sync")
        finally:
            stop(second)
        statuses = [r.status for r in store.runs.all("news")]
        assert statuses == ["interrupted", "ok"], statuses
        taken = store.runs.all("news")[1].started_at
        # The dead worker's 60 s lease is not waited out: its process is gone from this machine.
        assert (taken - killed_at.replace(microsecond=0)).total_seconds() <= 6
        assert "已不在运行" in store.runs.all("news")[0].error
        assert store.posts.count("news") == 40


def test_the_weekly_digest_lists_new_posts_by_category_and_channels_needing_attention(
        site: SampleServer, store_url: str, store: Store, tmp_path: Path) -> None:
    from aggregator.config import load_config
    from aggregator.services.notify import send_digest
    from aggregator.services.sync import sync

    hook = Webhook()
    try:
        cfg_path = write(tmp_path, store_url, channel("news", site.url + COLUMN) +
                         channel("gone", site.url + "/nosuch/list.htm"),
                         notify=f'[notify]\nurls = ["{hook.url}"]\ndigest = "0 9 * * MON"\n')
        cfg = load_config(cfg_path)
        sync(cfg, store)
        assert len(hook.received) == 1 and "gone" in hook.received[0]["message"]  # the broken channel's alert
        now = local_now() + timedelta(days=1)
        assert send_digest(cfg, store, now) and not send_digest(cfg, store, now)  # once per day, whoever asks
        digest = hook.received[-1]
        assert "周报" in digest["title"] and "需要关注的渠道" in digest["message"] and "gone" in digest["message"]
    finally:
        hook.close()


def test_serve_with_workers_answers_from_several_processes_and_syncs_once(
        site: SampleServer, store_url: str, store: Store, tmp_path: Path) -> None:
    """`serve --workers 2`: two processes answer the pages over one store, the scheduler runs once
    (in the parent), and SIGTERM stops them all."""
    import psutil

    cfg = write(tmp_path, store_url, channel("news", site.url + COLUMN, "* * * * *"))
    port = free_port()
    proc = start("--config", str(cfg), "serve", "--port", str(port), "--workers", "2")
    try:
        wait_for(lambda: len(runs(store, "news")) >= 1, 30, "first sync by the one scheduler")
        pids: set[int] = set()

        def answered_by_two() -> bool:
            from urllib.error import URLError

            for _ in range(10):
                try:
                    health = json.loads(urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())
                except URLError:
                    return False  # the serving processes are still starting
                assert health["status"] == "ok" and "scheduler" not in health  # the pages' processes run none
                pids.add(health["pid"])
            return len(pids) >= 2

        wait_for(answered_by_two, 30, "answers from two server processes")
        assert proc.pid not in pids and pids <= {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}
        page = urlopen(f"http://127.0.0.1:{port}/channels", timeout=5).read().decode()
        assert "news" in page
        # One scheduler: one sync a due minute. (The cron is every minute: a first sync late in its
        # minute is followed by the next minute's while the processes start on a slow machine.)
        started = [r.started_at.replace(second=0, microsecond=0) for r in store.runs.all("news")]
        assert store.posts.count("news") == 12 and len(started) == len(set(started)), started
    finally:
        children = psutil.Process(proc.pid).children(recursive=True)
        took, err = stop(proc)
    assert took < 10, err[-2000:]
    # The serving processes and multiprocessing's resource tracker end with the parent (the tracker
    # a moment after it: it leaves when the parent's end of its pipe closes).
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive, (alive, err[-2000:])


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_serve_with_workers_spreads_connections_opened_at_once_across_its_processes(
        site: SampleServer, store_url: str, store: Store, tmp_path: Path) -> None:
    """20 keep-alive connections opened together (a load balancer's, a bench's) are served by both
    processes — with one shared socket, the process awake accepted all of them — and end up ten
    each, whatever the kernel's first split; a port another server holds is refused with a
    message, not served beside it."""
    import http.client
    import socket

    import psutil

    cfg = write(tmp_path, store_url, channel("news", site.url + COLUMN, "0 0 1 1 *"))
    port = free_port()
    proc = start("--config", str(cfg), "serve", "--no-scheduler", "--port", str(port), "--workers", "2")
    try:
        # Both listening: a process listens once its app is loaded, and the kernel spreads
        # connections only across the sockets listening when they arrive.
        wait_for(lambda: _answers(port) and len(_listening(port)) == 2, 30, "the serving processes")
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10) for _ in range(20)]
        for conn in conns:
            conn.connect()
        closed = 0

        def landed(conn: http.client.HTTPConnection) -> tuple[int, bool]:
            """The process answering on `conn`, and whether it handed the connection on."""
            conn.request("GET", "/healthz")
            answer = conn.getresponse()
            pid = json.loads(answer.read())["pid"]
            return pid, (answer.getheader("connection") or "").lower() == "close"

        served: dict[int, int] = {}  # where the kernel put each connection (their first answers)
        for conn in conns:
            pid, handed = landed(conn)
            served[pid], closed = served.get(pid, 0) + 1, closed + handed
        assert len(served) == 2 and min(served.values()) >= 3, served
        # Each process listens on a socket of its own (with one shared socket, the process awake
        # took every connection of a burst: 20 of 20 in bench/web.py).
        assert sorted(_listening(port).values()) == sorted(served), _listening(port)
        # The kernel's hash splits them evenly only on average (15 to 5 seen): a process holding
        # more than its half closes a connection at its next answer (the client connects again,
        # http.client by itself) until each holds 10.
        split: dict[int, int] = {}
        for _round in range(40):
            split = {}
            for conn in conns:
                pid, handed = landed(conn)
                closed += handed
                if not handed:  # (a handed one's next request opens a connection: counted where it lands)
                    split[pid] = split.get(pid, 0) + 1
            if sorted(split.values()) == [10, 10]:
                break
        assert sorted(split.values()) == [10, 10], (served, split)
        assert closed >= max(served.values()) - 10, (served, closed)  # at least as many as were over
        for conn in conns:
            conn.close()
        again = run_xxgk("--config", str(cfg), "serve", "--no-scheduler", "--port", str(port), "--workers", "2",
                         timeout=30)
        assert again.returncode == 1 and "已有服务在监听" in again.stderr and "--port" in again.stderr, again.stderr
    finally:
        children = psutil.Process(proc.pid).children(recursive=True)
        stop(proc)
    _gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive
    with socket.socket() as s:  # the port is free again (no one listens; closed connections may linger)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()


def _listening(port: int) -> dict[int, int]:
    """Linux: the sockets listening on `port` (by inode), each with the process holding it."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == "0A":  # 0A: LISTEN
                inodes.add(int(f[9]))
    owners: dict[int, int] = {}
    for fd in Path("/proc").glob("[0-9]*/fd/*"):
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:[") and int(target[8:-1]) in inodes:
            owners.setdefault(int(target[8:-1]), int(fd.parts[2]))
    return owners


def _answers(port: int) -> bool:
    from urllib.error import URLError

    try:
        return bool(urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())
    except URLError:
        return False


def test_a_scheduler_with_nothing_due_reads_the_store_again_only_when_something_can_be(
        store: Store, store_url: str, tmp_path: Path, site: SampleServer) -> None:
    """The tick reads every channel's last run only when a channel can have fallen due: at the soonest
    due time it saw, after a run of its own ends, and at least every QUIET_MAX (another process's
    failure brings its retry forward) — not twice a second over thousands of channels."""
    cfg = parse_config(write(tmp_path, store_url, channel("a", site.url + COLUMN, "0 0 1 1 *")).read_text(
        encoding="utf-8"), tmp_path / "config.toml")
    [result] = sync(cfg, store, ["a"])
    assert result.status == "ok"
    sched = Scheduler(cfg, store)
    reads: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        reads.append(statement)

    sa.event.listen(store.engine, "before_cursor_execute", seen)
    try:
        for _ in range(6):
            sched.tick()
        assert sched.ticks == 6 and sum("sync_runs" in s for s in reads) == 2  # last runs, then their rows
        sched.quiet_until = None  # as when one of its runs ends (`_sync_one`)
        sched.tick()
        assert sum("sync_runs" in s for s in reads) == 4
        assert sched.quiet_until is not None and sched.quiet_until <= local_now() + QUIET_MAX
        sched.quiet_until = local_now() - timedelta(seconds=1)  # QUIET_MAX has passed
        sched.tick()
        assert sum("sync_runs" in s for s in reads) == 6 and sched.running == {}
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", seen)
        sched.stop()
