"""Faults injected by a loopback fixture server, on a detail page and on list pages.

For each fault: the channel ends the way the connectors' rules say (a failed
detail page is stored from its list entry and the run is partial; a failed
later list page keeps what came before; a failed first list page fails the
channel with its reason), the message names the URL and the cause, nothing
leaves the channel's hosts, and once the fault is gone the next sync completes
the store — no post lost, none twice.
"""

from __future__ import annotations

import resource
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from aggregator.config import parse_config
from aggregator.demo.server import SampleServer
from aggregator.demo.sites import news_posts, portal_site
from aggregator.services.sync import sync
from storage.store import Store
from tests import faults

COLUMN = "/portal/xwzx/xxyw.htm"
PAGE2 = "/portal/xwzx/xxyw/1.htm"
POSTS = news_posts(12)
DETAIL = f"/portal/info/1010/{POSTS[3].news_id}.htm"
HTTP = "per_host_interval = 0.0\nretries = 1\ntimeout = 1.0\nmax_bytes = 2000000\n"


@dataclass(frozen=True)
class Scenario:
    name: str
    path: str  # where the fault is injected
    fault: Callable[[SampleServer], faults.Fault]
    status: str  # how the first sync ends
    stored: int  # posts stored by it (12 = all)
    says: str  # in its error


def _other_host(server: SampleServer) -> str:
    return server.url.replace("127.0.0.1", "127.0.0.2")


SCENARIOS = [
    Scenario("detail 500", DETAIL, lambda s: faults.status(500), "partial", 12, "HTTP 500"),
    Scenario("detail 502", DETAIL, lambda s: faults.status(502), "partial", 12, "HTTP 502"),
    Scenario("detail 503 + Retry-After", DETAIL, lambda s: faults.status(503, "1"), "partial", 12, "HTTP 503"),
    Scenario("detail hangs", DETAIL, lambda s: faults.hang(3), "partial", 12, "响应超时"),
    Scenario("detail cut mid-body", DETAIL, lambda s: faults.cut(b"<html><body>" + b"x" * 20000), "partial", 12,
             "无法连接"),
    Scenario("detail 50 MB", DETAIL, lambda s: faults.huge(), "partial", 12, "超过 2,000,000 字节"),
    Scenario("detail redirect loop", DETAIL, lambda s: faults.redirect(DETAIL), "partial", 12, "跳转超过"),
    Scenario("detail redirect off-host", DETAIL, lambda s: faults.redirect(_other_host(s) + DETAIL), "partial", 12,
             "不在本渠道的网站范围"),
    Scenario("detail WAF 412", DETAIL, lambda s: faults.waf(412), "partial", 12, "WAF"),
    Scenario("page 2 500", PAGE2, lambda s: faults.status(500), "partial", 6, "翻页到此为止"),
    Scenario("page 2 cut", PAGE2, lambda s: faults.cut(b"<html><body><ul>" + b"<li>x</li>" * 2000), "partial", 6,
             "翻页到此为止"),
    Scenario("page 2 hangs", PAGE2, lambda s: faults.hang(3), "partial", 6, "响应超时"),
    Scenario("page 1 WAF 202", COLUMN, lambda s: faults.waf(202), "failed", 0, "WAF"),
    Scenario("page 1 503", COLUMN, lambda s: faults.status(503, "0"), "failed", 0, "HTTP 503"),
    Scenario("page 1 redirect off-host", COLUMN, lambda s: faults.redirect(_other_host(s) + COLUMN), "failed", 0,
             "不在本渠道的网站范围"),
]


def run_scenario(sc: Scenario, store_url: str, store: Store) -> tuple[object, object, int]:
    """First sync with the fault, then without; (first result, second result, hits on the other host)."""
    with SampleServer(portal_site(POSTS, per_page=6)) as site, \
            SampleServer(portal_site(POSTS, per_page=6), host="127.0.0.2") as other:
        cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\n{HTTP}'
                           f'[[channel]]\nid = "news"\nkind = "html"\nurl = "{site.url}{COLUMN}"\npreset = "vsb"\n',
                           Path("faults.toml"))
        site.faults[sc.path] = sc.fault(site)
        [first] = sync(cfg, store)
        stored_first = store.posts.count("news")
        del site.faults[sc.path]
        [second] = sync(cfg, store)
        assert stored_first == sc.stored, (sc.name, stored_first, first.error)
        return first, second, sum(other.hits.values())


@pytest.mark.parametrize("sc", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_a_fault_is_reported_survived_and_healed(sc: Scenario, store_url: str, store: Store) -> None:
    first, second, elsewhere = run_scenario(sc, store_url, store)
    assert first.status == sc.status and sc.says in (first.error or ""), first.error  # type: ignore[attr-defined]
    assert sc.path.rsplit("/", 1)[-1] in (first.error or "")  # type: ignore[attr-defined]
    assert elsewhere == 0  # no request ever left the channel's hosts
    assert second.status == "ok", second.error  # type: ignore[attr-defined]
    keys = [r["key"] for r in store.posts.iter_rows()]
    assert len(keys) == len(set(keys)) == 12  # nothing lost, nothing twice
    complete = [p for p in (store.posts.get("news", k) for k in keys) if p and p.extra.get("detail") != "missing"]
    assert len(complete) == 12  # every stub from the faulty run was completed


def test_a_50_mb_body_is_refused_without_holding_it(store_url: str, store: Store) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sc = next(s for s in SCENARIOS if s.name == "detail 50 MB")
    first, _, _ = run_scenario(sc, store_url, store)
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert "字节：未读取" in (first.error or "") and grew_mb < 40, grew_mb  # type: ignore[attr-defined]


def test_a_page_whose_header_lies_about_its_charset_is_read_right(store_url: str, store: Store) -> None:
    from aggregator.demo.sites import vsb_detail

    p = POSTS[5]
    page = vsb_detail(p, base="/portal/", tree=1010, crumbs=[])
    with SampleServer(portal_site(POSTS, per_page=6)) as site:
        # GBK bytes under "charset=utf-8", and UTF-8 bytes under "charset=gbk" (a site that moved).
        site.faults[f"/portal/info/1010/{p.news_id}.htm"] = faults.lying_charset(page, "utf-8", "gbk")
        q = POSTS[6]
        site.faults[f"/portal/info/1010/{q.news_id}.htm"] = faults.lying_charset(
            vsb_detail(q, base="/portal/", tree=1010, crumbs=[]), "gbk", "utf-8")
        cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\n{HTTP}'
                           f'[[channel]]\nid = "news"\nkind = "html"\nurl = "{site.url}{COLUMN}"\npreset = "vsb"\n',
                           Path("charset.toml"))
        [r] = sync(cfg, store)
    assert r.status == "ok", r.error
    titles = {store.posts.get("news", k["key"]).title for k in store.posts.iter_rows()}
    assert p.title in titles and q.title in titles and not any("�" in t for t in titles)


def test_a_slow_server_is_waited_for(store_url: str, store: Store) -> None:
    from aggregator.demo.sites import vsb_detail

    with SampleServer(portal_site(POSTS, per_page=6)) as site:
        p = POSTS[0]
        site.faults[f"/portal/info/1010/{p.news_id}.htm"] = faults.slow(
            vsb_detail(p, base="/portal/", tree=1010, crumbs=[]).encode(), 2.0)
        cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\ntimeout = 5\n'
                           f'[[channel]]\nid = "news"\nkind = "html"\nurl = "{site.url}{COLUMN}"\npreset = "vsb"\n',
                           Path("slow.toml"))
        [r] = sync(cfg, store)
    assert (r.status, r.new) == ("ok", 12)
