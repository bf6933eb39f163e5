"""Onboarding figures: a channel from its URL alone, what `probe` proposes, and the article text.

    python bench/onboard.py

1. Per family (`aggregator/demo/families.py`: eight CMSs no preset knows, plus the seven preset
   sample lists dressed in a phone menu and a same-template 热点 block): posts stored against the
   site's own count, exact titles, dates equal to the date the page was built with, and bodies
   that hold every paragraph and no menu or footer — via a bare-URL channel and via the block
   `probe` prints. Also the requests of a first sync against an incremental one.
2. Detection time per list page: `discover` (ranking, the page fetched to tell chrome, the preset
   check, the selectors tried), median of 20 runs, the second page served from memory.
3. Article text on every detail page of the families: our block finder (`detect.body_node`)
   against trafilatura (`extract`, precision and recall settings), side by side — pages whose
   every paragraph is found, pages whose text carries menu or footer words, and ms/page.

Measured on fixtures this project built (their expectations come from the data each site was
built from, not from our parser); no held-out set of real pages is stored here.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.config import HttpConfig, parse_config  # noqa: E402
from aggregator.demo.families import FAMILIES, SAMPLE_LISTS, Family, with_chrome  # noqa: E402
from aggregator.demo.server import SampleServer  # noqa: E402
from aggregator.demo.sites import sample_channels, sample_pages  # noqa: E402
from aggregator.services.probe import probe  # noqa: E402
from aggregator.services.sync import sync  # noqa: E402
from connectors.detect import body_node  # noqa: E402
from connectors.discover import discover  # noqa: E402
from connectors.html import block_text, parse_html  # noqa: E402
from connectors.http import Page  # noqa: E402
from storage.store import Store  # noqa: E402

HEAD = '[store]\nurl = "sqlite:///{db}"\n[http]\nper_host_interval = 0.0\n'
CHROME_WORDS = ("友情链接", "版权所有", "学校简介", "信息公开指南")


def _bare(cid: str, url: str, kind: str = "html") -> str:
    return f'[[channel]]\nid = "{cid}"\nkind = "{kind}"\nurl = "{url}"\n'


def _score(fam: Family, store: Store, channel: str) -> tuple[int, int, int, int]:
    """(posts, exact titles, right dates, whole bodies) of a channel against the family's posts."""
    stored = {}
    for row in store.posts.iter_rows():
        if row["channel_id"] == channel:
            post = store.posts.get(channel, row["key"])
            if post is not None:
                stored[post.title] = post
    titles = dates = bodies = 0
    for p in fam.posts:
        post = stored.get(p.title)
        if post is None:
            continue
        titles += 1
        dates += post.published_at is not None and post.published_at.date() == p.published.date()
        text = post.body or ""
        bodies += all(par in text for par in p.paragraphs) and not any(w in text for w in CHROME_WORDS)
    return len(stored), titles, dates, bodies


def families() -> None:
    print("1. New families: bare URL | probe's block   (posts/site total, titles, dates, bodies; requests)")
    print(f"   {'family':<11} {'bare URL':<22} {'probe':<22} first → incremental requests")
    for make in FAMILIES:
        fam = make()
        with SampleServer(fam.pages) as server, tempfile.TemporaryDirectory() as tmp:
            server.forms.update(fam.forms)
            found = probe(server.url + fam.list_path, http=HttpConfig(per_host_interval=0.0))
            block = found.toml().replace(f'id = "{found.channel["id"]}"', 'id = "probed"')
            db = Path(tmp) / "x.db"
            cfg = parse_config(HEAD.format(db=db.as_posix()) + _bare("bare", server.url + fam.list_path) + block,
                               Path(tmp) / "c.toml")
            with Store.open(f"sqlite:///{db.as_posix()}") as store:
                first = {r.id: r for r in sync(cfg, store, ["bare", "probed"])}
                again = {r.id: r for r in sync(cfg, store, ["bare"])}
                b, p = _score(fam, store, "bare"), _score(fam, store, "probed")
        cells = [f"{b[0]}/{fam.total} {b[1]} {b[2]} {b[3]} {first['bare'].status}",
                 f"{p[0]}/{fam.total} {p[1]} {p[2]} {p[3]} {first['probed'].status}"]
        print(f"   {fam.name:<11} {cells[0]:<22} {cells[1]:<22} {first['bare'].counts.requests} → "
              f"{again['bare'].counts.requests}")


def dressed() -> None:
    print("\n   Preset families with a phone menu and a same-template 热点 block: bare URL | probe against the "
          "hand-written preset channel on the plain site (posts; same path, title and date)")
    with SampleServer(sample_pages()) as plain, SampleServer(with_chrome(sample_pages())) as chrome, \
            tempfile.TemporaryDirectory() as tmp:
        blocks = []
        for cid, (kind, path, _c) in SAMPLE_LISTS.items():
            found = probe(chrome.url + path, kind=kind, http=HttpConfig(per_host_interval=0.0))
            blocks.append(found.toml().replace(f'id = "{found.channel["id"]}"', f'id = "p-{cid}"'))
            blocks.append(_bare(f"b-{cid}", chrome.url + path, kind))
        db = Path(tmp) / "x.db"
        cfg = parse_config(HEAD.format(db=db.as_posix()) + sample_channels(plain.url) + "\n" + "\n".join(blocks),
                           Path(tmp) / "c.toml")
        with Store.open(f"sqlite:///{db.as_posix()}") as store:
            ids = [x for cid in SAMPLE_LISTS for x in (cid, f"b-{cid}", f"p-{cid}")]
            sync(cfg, store, ids)
            seen: dict[str, set[tuple[str, str, object]]] = {i: set() for i in ids}
            for row in store.posts.iter_rows():
                if row["channel_id"] in seen:
                    post = store.posts.get(row["channel_id"], row["key"])
                    if post is not None:
                        seen[row["channel_id"]].add((urlsplit(post.url).path, post.title, post.published_at))
        for cid in SAMPLE_LISTS:
            want = seen[cid]
            print(f"   {cid:<19} preset {len(want):>3} | bare {len(seen['b-' + cid]):>3} "
                  f"same {len(want & seen['b-' + cid]):>3} | probe {len(seen['p-' + cid]):>3} "
                  f"same {len(want & seen['p-' + cid]):>3}")


def detection_time() -> None:
    print("\n2. Detection time per list page (discover, median of 20; the other page from memory)")
    for make in FAMILIES:
        fam = make()
        base = "http://bench.local"
        pages = {base + k: Page(base + k, 200, r.body.decode("utf-8", "replace"), None, None)
                 for k, r in fam.pages.items()}
        first = pages[base + fam.list_path]
        times = []
        for _ in range(20):
            t = time.perf_counter()
            discover(first, lambda u: pages.get(u))
            times.append(time.perf_counter() - t)
        print(f"   {fam.name:<11} {statistics.median(times) * 1000:6.1f} ms")


def extractors() -> None:
    import trafilatura

    print("\n3. Article text on the families' detail pages: whole (every paragraph) / with chrome words / ms per page")
    totals: dict[str, list[float]] = {}
    for make in FAMILIES:
        fam = make()
        row: dict[str, list[float]] = {}
        for p in fam.posts:
            path = next(k for k, r in fam.pages.items() if k != fam.list_path and r.content_type.startswith("text/html")
                        and p.title in r.body.decode("utf-8", "replace") and "list" not in k.lower()
                        and (str(p.news_id) in k or f"{p.news_id:08x}" in k))
            text = fam.pages[path].body.decode("utf-8", "replace")
            for name, run in (("ours", lambda t: _ours(t)),
                              ("trafilatura precision", lambda t: trafilatura.extract(
                                  t, include_tables=True, favor_precision=True) or ""),
                              ("trafilatura recall", lambda t: trafilatura.extract(
                                  t, include_tables=True, favor_recall=True) or "")):
                t0 = time.perf_counter()
                out = run(text)
                spent = time.perf_counter() - t0
                cell = row.setdefault(name, [0, 0, 0.0])
                cell[0] += all(par in out for par in p.paragraphs)
                cell[1] += any(w in out for w in CHROME_WORDS)
                cell[2] += spent
        for name, cell in row.items():
            total = totals.setdefault(name, [0, 0, 0.0, 0])
            total[0] += cell[0]
            total[1] += cell[1]
            total[2] += cell[2]
            total[3] += len(fam.posts)
        print(f"   {fam.name:<11} " + "  ".join(f"{n}: {c[0]:.0f}/{len(fam.posts)} {c[1]:.0f} "
                                                f"{c[2] / len(fam.posts) * 1000:.1f}ms" for n, c in row.items()))
    print("   all         " + "  ".join(f"{n}: {c[0]:.0f}/{c[3]:.0f} {c[1]:.0f} {c[2] / c[3] * 1000:.1f}ms"
                                        for n, c in totals.items()))


def _ours(text: str) -> str:
    node = body_node(parse_html(text))
    return block_text(node) if node is not None else ""


if __name__ == "__main__":
    families()
    dressed()
    detection_time()
    extractors()
