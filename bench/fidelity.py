"""Sync fidelity figures: site totals against the store, incremental cost, and dates.

    python bench/fidelity.py [--posts 1000] [--new 5]

1. Every sample site (the demo's, served on loopback): the count the site
   states, the posts stored by a first sync, and the requests of a first sync
   against an incremental one with nothing new.
2. A VSB portal of --posts posts (20 a page): requests of the first sync
   against an incremental sync after --new posts appear — the incremental
   sync must stay under 7 % of the first — with the VSB preset, and from the
   URL alone (the list found by shape at the first sync).
3. Publication dates on the sample detail pages and on pages that state their
   date only in labelled text, in <meta> or in the URL: our fallback chain
   (`connectors.html.detail_date`) against htmldate alone (`find_date`, the
   library's own heuristics including its extensive text search), side by
   side — agreement with the date the page was generated with, and ms/page.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aggregator.config import parse_config  # noqa: E402
from aggregator.demo.server import SampleServer  # noqa: E402
from aggregator.demo.sites import (  # noqa: E402
    SamplePost,
    ccgp_posts,
    cgzx_posts,
    jwc_posts,
    news_posts,
    portal_posts,
    portal_site,
    sample_channels,
    sample_pages,
    vsb_detail,
    xxgk_posts,
    yjsy_posts,
    zsb_posts,
)
from aggregator.services.channels import overview  # noqa: E402
from aggregator.services.sync import sync  # noqa: E402
from connectors.dom import select_value  # noqa: E402
from connectors.html import block_text, detail_date, parse_html  # noqa: E402
from connectors.http import Page  # noqa: E402
from connectors.presets import GENERIC_DETAIL, Selectors  # noqa: E402
from storage.store import Store  # noqa: E402

WEB = ("portal-news", "zsb-undergrad", "yjsy-admissions", "xxgk-notices", "jwc-notices", "procurement-centre",
       "ccgp-results")
HEAD = '[store]\nurl = "sqlite:///{db}"\n[http]\nper_host_interval = 0.0\n'


def sample_sites() -> None:
    print("1. Sample sites: the site's own count against the store; first vs incremental requests")
    print(f"   {'channel':20} {'site says':>10} {'stored':>7} {'first req':>10} {'again req':>10} {'ratio':>7}")
    with SampleServer(sample_pages()) as server, tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config(HEAD.format(db=f"{tmp}/f.db") + sample_channels(server.url), Path(tmp) / "c.toml")
        with Store.open(cfg.store.url) as store:
            first = {r.id: r for r in sync(cfg, store, WEB)}
            again = {r.id: r for r in sync(cfg, store, WEB)}
            rows = {r.id: r for r in overview(cfg, store)}
    for ch in WEB:
        row = rows[ch]
        says = f"{row.site_total}" if row.site_total is not None else f"{row.site_pages} pages"
        ratio = again[ch].requests / first[ch].requests
        print(f"   {ch:20} {says:>10} {row.posts:>7} {first[ch].requests:>10} {again[ch].requests:>10} {ratio:>7.1%}")


def big_portal(posts: int, new: int, preset: str = 'preset = "vsb"\n') -> None:
    how = "with its preset" if preset else "from its URL alone"
    print(f"\n2. A VSB portal of {posts} posts, 20 a page, {how}: first sync, then {new} new posts")
    old = news_posts(posts, first_id=100000)
    with SampleServer(portal_site(old, per_page=20)) as server, tempfile.TemporaryDirectory() as tmp:
        cfg = parse_config(HEAD.format(db=f"{tmp}/p.db") +
                           f'[[channel]]\nid = "p"\nkind = "html"\nurl = "{server.url}/portal/xwzx/xxyw.htm"\n'
                           + preset, Path(tmp) / "c.toml")
        with Store.open(cfg.store.url) as store:
            t = time.perf_counter()
            [first] = sync(cfg, store)
            first_s = time.perf_counter() - t
            fresh = news_posts(new, start=datetime(2025, 8, 1, 9, 0), first_id=900000)
            server.pages.update(portal_site(fresh + old, per_page=20))
            t = time.perf_counter()
            [inc] = sync(cfg, store)
            inc_s = time.perf_counter() - t
            stored = store.posts.count("p")
    print(f"   first sync:       {first.status}, {first.new} new, {first.requests} requests, {first_s:.1f} s, "
          f"site says {first.site_total}, stored {stored - inc.new}")
    print(f"   incremental sync: {inc.status}, {inc.new} new, {inc.requests} requests, {inc_s:.2f} s")
    print(f"   incremental / first requests: {inc.requests / first.requests:.2%} (target ≤ 7 %)")


def _truth() -> dict[str, date]:
    out: dict[str, date] = {}
    posts: list[SamplePost] = [*portal_posts(), *zsb_posts(), *yjsy_posts(), *cgzx_posts(), *ccgp_posts(),
                               *xxgk_posts(), *jwc_posts()]
    titles = [p.title for p in posts]
    for p in posts:
        if titles.count(p.title) == 1:  # two articles may share a title (yjsy's 调剂 notices): no truth by title
            out[p.title] = p.published.date()
    return out


def _variant_pages() -> list[tuple[str, str, date]]:
    """Detail pages that state their date only in labelled text, only in <meta>, only in the URL."""
    pages = []
    for i, p in enumerate(news_posts(30, first_id=50000)):
        text = vsb_detail(p, base="/portal/", tree=1010, crumbs=[])
        info = f'<div class="info">发布时间：{p.published:%Y-%m-%d %H:%M}'
        kind = i % 3
        url = f"https://www.example.edu.cn/info/1010/{p.news_id}.htm"
        if kind == 0:
            text = text.replace(info, f'<div class="arttime">发布日期：{p.published:%Y-%m-%d}</div><div class="x">')
        elif kind == 1:
            text = text.replace(info, '<div class="x">').replace(
                "</head>", f'<meta property="article:published_time" content="{p.published:%Y-%m-%dT%H:%M}:00+08:00">'
                           "</head>")
        else:
            text = text.replace(info, '<div class="x">')
            url = f"https://www.example.gov.cn/zwgk/{p.published:%Y%m}/t{p.published:%Y%m%d}_{p.news_id}.html"
        pages.append((url, text, p.published.date()))
    return pages


def dates(verbose: bool = False) -> None:
    from htmldate import find_date

    print("\n3. Publication dates: our fallback chain against htmldate alone")
    truth = _truth()
    pages: list[tuple[str, str, date]] = []
    for path, res in sample_pages().items():
        if "text/html" not in res.content_type and "charset" not in res.content_type and not path.endswith(".htm"):
            continue
        text = res.body.decode("gbk" if b"gb2312" in res.body[:300] else "utf-8", "replace")
        title = parse_html(text).findtext(".//title") or ""
        name = title.split("-")[0].strip()
        if name in truth and ("/info/" in path or "/t20" in path or "page.htm" in path or "/ccgp/" in path):
            pages.append((f"https://www.example.edu.cn{path}", text, truth[name]))
    pages += _variant_pages()
    sel = Selectors(entry="", scope=None, link="a@href", title=None, date=None, next=None, pages=None,
                    detail=dict(GENERIC_DETAIL))
    ours_ok = lib_ok = 0
    ours_s = lib_s = 0.0
    for url, text, want in pages:
        page = Page(url=url, status=200, text=text, etag=None, last_modified=None, not_modified=False)
        t = time.perf_counter()
        root = parse_html(text)
        got, _where = detail_date(page, select_value(root, sel.detail.get("date")), lambda r=root: block_text(r), "",
                                  None)
        ours_s += time.perf_counter() - t
        right = (got.date() if isinstance(got, datetime) else got) == want
        ours_ok += right
        if not right and verbose:
            print(f"   ours wrong: {url} → {got} ({_where}), made on {want}")
        t = time.perf_counter()
        found = find_date(text, url=url, extensive_search=True, original_date=True)
        lib_s += time.perf_counter() - t
        lib_ok += found == want.isoformat()
    n = len(pages)
    print(f"   {n} detail pages ({n - 30} sample pages + 30 with the date only in a label, <meta> or the URL)")
    print(f"   ours (selector → label → htmldate meta → URL → list): {ours_ok}/{n} right, "
          f"{ours_s / n * 1000:.2f} ms/page (parse included)")
    print(f"   htmldate.find_date alone (extensive search):          {lib_ok}/{n} right, "
          f"{lib_s / n * 1000:.2f} ms/page")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--new", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="name the pages whose date we get wrong")
    args = parser.parse_args()
    sample_sites()
    big_portal(args.posts, args.new)
    big_portal(args.posts, args.new, preset="")
    dates(args.verbose)


if __name__ == "__main__":
    main()
