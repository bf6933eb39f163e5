"""Load: 20 channels syncing in `xxgk serve` while 20 clients search its pages — on SQLite (WAL) and PostgreSQL.

No request fails, nothing in the server's log says "database is locked" or
shows a traceback, and every channel syncs to the end. The p95 of the search
pages is printed (`pytest -s`); the figures that matter are in bench/web.py.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from aggregator.demo.server import SampleServer
from aggregator.demo.sites import news_posts, portal_site
from storage.store import Store
from tests.helpers import ROOT, free_port, wait_until_up

pytestmark = pytest.mark.slow
CHANNELS = 20


def test_twenty_channels_sync_while_twenty_clients_search(store_url: str, store: Store, tmp_path: Path) -> None:
    pages = {}
    for i in range(CHANNELS):
        site = portal_site(news_posts(15, first_id=30000 + 100 * i), per_page=8)
        pages.update({p.replace("/portal/", f"/c{i}/"): r for p, r in site.items()})
    with SampleServer(pages, latency=0.01) as server:
        port = free_port()
        cfg = tmp_path / "config.toml"
        cfg.write_text(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\n'
                       "[service]\ntick = 0.5\njitter = 0\nworkers = 4\n" + "".join(
                           f'[[channel]]\nid = "c{i}"\nkind = "html"\nurl = "{server.url}/c{i}/xwzx/xxyw.htm"\n'
                           'preset = "vsb"\n' for i in range(CHANNELS)), encoding="utf-8")
        log = open(tmp_path / "serve.log", "w")  # noqa: SIM115 — the server's whole life
        env = {k: v for k, v in os.environ.items() if k not in ("XXGK_CONFIG", "XXGK_STORE_URL")}
        proc = subprocess.Popen([sys.executable, "-m", "aggregator", "--config", str(cfg), "serve", "--port",
                                 str(port)], cwd=ROOT, env=env, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_up(base)
            latencies, failures = asyncio.run(_load(base, seconds=6))
            deadline = time.monotonic() + 90

            def finished(cid: str) -> bool:
                return any(r.status not in ("running", "interrupted") for r in store.runs.all(cid))

            while time.monotonic() < deadline and not all(finished(f"c{i}") for i in range(CHANNELS)):
                time.sleep(0.3)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
            log.close()
    text = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert "database is locked" not in text and "Traceback" not in text, text[-3000:]
    assert not failures, failures[:5]
    ordered = sorted(latencies)
    p95 = ordered[int(0.95 * len(ordered))]
    print(f"\n{len(ordered)} searches during the syncs: p50 {ordered[len(ordered) // 2] * 1000:.0f} ms, "
          f"p95 {p95 * 1000:.0f} ms ({store_url.split(':')[0]})")
    assert all(r.status == "ok" for i in range(CHANNELS) for r in store.runs.all(f"c{i}")
               if r.status != "interrupted"), [store.runs.all(f"c{i}") for i in range(CHANNELS)]
    assert store.posts.count() == CHANNELS * 15


async def _load(base: str, seconds: float) -> tuple[list[float], list[str]]:
    latencies: list[float] = []
    failures: list[str] = []
    queries = ["招", "通知", "学校", "2025", "工作", "会议"]

    async def client(i: int, http: httpx.AsyncClient, until: float) -> None:
        n = 0
        while time.monotonic() < until:
            path = f"/?q={queries[(i + n) % len(queries)]}" if n % 3 else f"/api/search?q={queries[i % 6]}"
            n += 1
            t = time.perf_counter()
            r = await http.get(path)
            latencies.append(time.perf_counter() - t)
            if r.status_code != 200:
                failures.append(f"{path}: {r.status_code}")

    async with httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=20)) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(*(client(i, http, until) for i in range(20)))
    return latencies, failures
