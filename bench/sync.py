"""Web-channel sync speed on a generated VSB site served from another process on loopback.

    python bench/sync.py [--posts 10000] [--latencies 0,0.02]

For each added latency per response and [http] concurrency (by default 0 ms
with 1 and 4 in flight, and 20 ms with 4):
- full sync through the pipeline (list walk + detail pages; per_host_interval = 0
  because the site is ours): wall time, pages/s;
- incremental sync with nothing new: requests and time;
- CPU ms per detail page in this process, HTTP client included (the server's CPU
  is in its own process); and, apart, CPU ms per detail page for parse + extract
  + normalise + store alone, on the same pages already in memory;
- peak RSS of this process;
- baseline, side by side: a naive sequential fetch of the same pages with
  httpx, one after another, no parsing at all.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from aggregator.config import parse_config  # noqa: E402
from aggregator.demo.server import SampleServer  # noqa: E402
from aggregator.demo.sites import news_posts, portal_site  # noqa: E402
from aggregator.services.sync import sync  # noqa: E402
from storage.store import Store  # noqa: E402

PER_PAGE = 20


def serve(posts: int, latency: float) -> None:
    pages = portal_site(news_posts(posts), per_page=PER_PAGE)
    pages = {k: v for k, v in pages.items() if "content.jsp" not in k}
    with SampleServer(pages, latency=latency) as server:
        print(server.url, len(pages), flush=True)
        sys.stdin.read()  # until the parent closes our stdin


def run(posts: int, latency: float, concurrency: int = 4) -> dict[str, float]:
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(posts), str(latency)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdin is not None
    url, n_pages = proc.stdout.readline().split()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            cfg = parse_config(
                f'[store]\nurl = "sqlite:///{tmp}/bench.db"\n[http]\nper_host_interval = 0.0\nconcurrency = {concurrency}\n'
                f'[[channel]]\nid = "portal"\nkind = "html"\nurl = "{url}/portal/xwzx/xxyw.htm"\npreset = "vsb"\n',
                Path(tmp) / "c.toml")
            store = Store.open(cfg.store.url)
            cpu0, t0 = time.process_time(), time.perf_counter()
            [full] = sync(cfg, store, full=True)
            full_s, cpu_s = time.perf_counter() - t0, time.process_time() - cpu0
            assert full.status == "ok" and full.new == posts, full
            t0 = time.perf_counter()
            [incr] = sync(cfg, store)
            incr_s = time.perf_counter() - t0
            store.close()
        list_pages = -(-posts // PER_PAGE)
        urls = [f"{url}/portal/xwzx/xxyw.htm"] + [f"{url}/portal/xwzx/xxyw/{k}.htm" for k in range(list_pages - 1, 0, -1)]
        urls += [f"{url}/portal/info/1010/{9001 + posts - i}.htm" for i in range(posts)]
        t0 = time.perf_counter()
        with httpx.Client() as client:
            for u in urls:
                client.get(u).raise_for_status()
        naive_s = time.perf_counter() - t0
    finally:
        proc.stdin.close()
        proc.wait()
    return {
        "pages": float(full.requests), "full_s": full_s, "cpu_ms": 1000 * cpu_s / posts,
        "incr_req": float(incr.requests), "incr_ms": 1000 * incr_s, "naive_s": naive_s,
        "naive_pages": float(len(urls)), "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=10_000)
    ap.add_argument("--runs", default="0:1,0:4,0.02:4", help="latency:concurrency pairs")
    ap.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        serve(int(args.serve[0]), float(args.serve[1]))
        return
    print(f"sync benchmark: generated VSB site, {args.posts:,} posts, {PER_PAGE} per list page, "
          "SQLite store; baseline = naive sequential httpx GET of the same pages, no parsing")
    head = (f"{'latency':>8}{'conc.':>6}{'full sync':>11}{'pages/s':>9}{'naive':>9}{'naive p/s':>10}{'speed-up':>9}"
            f"{'incr. req':>10}{'incr. ms':>9}{'CPU ms/detail':>14}{'peak RSS':>10}")
    print(head)
    print("-" * len(head))
    for pair in args.runs.split(","):
        lat, conc = float(pair.split(":")[0]), int(pair.split(":")[1])
        r = run(args.posts, lat, conc)
        print(f"{lat * 1000:>6.0f}ms{conc:>6}{r['full_s']:>10.1f}s{r['pages'] / r['full_s']:>9.0f}{r['naive_s']:>8.1f}s"
              f"{r['naive_pages'] / r['naive_s']:>10.0f}{r['naive_s'] / r['full_s']:>8.2f}×{r['incr_req']:>10.0f}"
              f"{r['incr_ms']:>9.1f}{r['cpu_ms']:>14.2f}{r['rss_mb']:>8.0f} MB", flush=True)
    print(f"parse + extract + normalise + store alone: {extract_cpu_ms(min(args.posts, 2000)):.2f} CPU ms per detail page")


def extract_cpu_ms(n: int) -> float:
    """The connector's and pipeline's own work per detail page, no network."""
    from aggregator.demo.sites import vsb_detail
    from aggregator.pipeline.normalize import normalise
    from connectors.html import entry_key, parse_detail
    from connectors.http import Page
    from connectors.listwalk import Entry
    from connectors.presets import selectors_for
    from storage.store import ChannelRecord

    cfg = parse_config('[[channel]]\nid = "p"\nkind = "html"\nurl = "http://x.edu.cn/a.htm"\npreset = "vsb"\n',
                       Path("c.toml"))
    sel = selectors_for(cfg.channels[0])
    pages = [(Page(f"http://x.edu.cn/info/1010/{p.news_id}.htm", 200, vsb_detail(p, base="/", tree=1010, crumbs=["新闻"])),
              Entry(f"http://x.edu.cn/info/1010/{p.news_id}.htm", p.title, None,
                    entry_key(f"http://x.edu.cn/info/1010/{p.news_id}.htm")))
             for p in news_posts(n)]
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(f"sqlite:///{tmp}/x.db")
        store.channels.register([ChannelRecord("p", "p", "html", "g", None, True)])
        cpu0 = time.process_time()
        batch = []
        for page, entry in pages:
            batch.append(normalise(parse_detail(page, entry, sel)))
            if len(batch) == 500:
                store.posts.write("p", batch)
                batch = []
        store.posts.write("p", batch)
        cpu = time.process_time() - cpu0
        store.close()
    return 1000 * cpu / n


if __name__ == "__main__":
    main()
