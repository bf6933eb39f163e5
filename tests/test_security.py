"""Security review items as tests: SSRF, stored XSS, path traversal, XML bombs.

Every test sends traffic only to loopback servers it starts; links to other
addresses (link-local metadata, private ranges, `file://`) must be refused
before any connection is opened — the request count proves none was.
"""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import httpx
import pytest

from aggregator.config import parse_config
from aggregator.demo.server import Resource, SampleServer, html
from aggregator.demo.sites import news_posts, portal_site
from aggregator.services.sync import sync
from storage.store import PostRecord, Store
from tests import faults

COLUMN = "/portal/xwzx/xxyw.htm"


def _config(store_url: str, url: str) -> object:
    return parse_config(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\nretries = 0\n'
                        f'[[channel]]\nid = "news"\nkind = "html"\nurl = "{url}"\npreset = "vsb"\n', Path("sec.toml"))


def test_links_and_redirects_off_the_channels_hosts_are_refused_before_connecting(store_url: str,
                                                                                  store: Store) -> None:
    posts = news_posts(6)
    with SampleServer(portal_site(posts, per_page=10)) as site, SampleServer(portal_site(posts)) as other_port:
        page = site.pages[COLUMN].body.decode()
        targets = [(posts[0], f"{other_port.url}/portal/info/1010/{posts[0].news_id}.htm"),  # same host, other port
                   (posts[1], "http://169.254.169.254/latest/meta-data/"),  # link-local (cloud metadata)
                   (posts[2], "http://10.0.0.1/admin"),  # a private range
                   (posts[3], "file:///etc/passwd")]
        for p, target in targets:
            page = page.replace(f'href="../info/1010/{p.news_id}.htm"', f'href="{target}"')
        site.pages[COLUMN] = html(page)
        # …and a detail page that redirects to the other port.
        site.faults[f"/portal/info/1010/{posts[4].news_id}.htm"] = faults.redirect(
            f"{other_port.url}/portal/info/1010/{posts[4].news_id}.htm")
        [r] = sync(_config(store_url, site.url + COLUMN), store)  # type: ignore[arg-type]
        assert sum(other_port.hits.values()) == 0
    # Requests: the list, detail 5 (whose redirect is then refused), detail 6 and its attachment
    # (on the channel's own host) — nothing else.
    assert r.requests == 4, r.requests
    assert store.posts.count("news") == 6  # every entry kept: the off-site ones as links, the redirect from its list
    assert r.status == "partial" and "不在本渠道的网站范围" in (r.error or "")


def test_scraped_markup_in_titles_bodies_attachments_and_account_names_is_only_text(store_url: str,
                                                                                    store: Store) -> None:
    from aggregator.web.app import create_app

    cfg = parse_config(f'[store]\nurl = "{store_url}"\n[[channel]]\nid = "wx"\nkind = "wechat"\npath = "."\n',
                       Path("xss.toml"))
    from aggregator.services.channels import register

    register(cfg, store)  # type: ignore[arg-type]
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    store.posts.write("wx", [PostRecord(
        key="k1", title=f"通知{evil}", content_hash="1", body=f"正文{evil}", body_html=f"<p>正文</p>{evil}",
        department=f"公众号{evil}", attachments=[{"name": f"附件{evil}.pdf", "url": "javascript:alert(3)"}],
        url="javascript:alert(4)")])
    app = create_app(cfg, store)  # type: ignore[arg-type]

    async def pages() -> dict[str, str]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            return {p: (await client.get(p)).text for p in ("/?q=通知", "/posts/1", "/feed.atom?q=通知", "/channels")}

    found = asyncio.run(pages())
    feed = found.pop("/feed.atom?q=通知")
    for path, text in found.items():
        assert "<script>alert" not in text and 'onerror="alert' not in text and "<img src=x" not in text, path
        assert 'href="javascript:' not in text, path
        assert "&lt;script&gt;" in text or path == "/channels", path
    # In the feed the title is text: the markup is characters of it, no element of the document.
    from xml.etree import ElementTree as ET

    root = ET.fromstring(feed.encode())
    ns = "{http://www.w3.org/2005/Atom}"
    assert not any(el.tag.endswith(("script", "img")) for el in root.iter())
    assert root.find(f"{ns}entry/{ns}title").text == f"通知{evil}"  # type: ignore[union-attr]


def test_the_demo_server_serves_nothing_outside_its_pages() -> None:
    with SampleServer({"/a.htm": html("<p>a</p>")}) as server:
        port = int(server.url.rsplit(":", 1)[1])
        for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/a.htm/../../../etc/hostname"):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                answer = b""
                while chunk := s.recv(65536):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 404") and b"root:" not in answer


@pytest.mark.parametrize("bomb", ["billion-laughs", "external-entity"])
def test_an_xml_bomb_in_a_feed_is_neutralised(bomb: str, store_url: str, store: Store) -> None:
    entity = ('<!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)) + "]>"
        if bomb == "billion-laughs" else '<!DOCTYPE rss [<!ENTITY x SYSTEM "file:///etc/passwd">]>')
    last = "i" if bomb == "billion-laughs" else "x"
    feed = (f'<?xml version="1.0"?>{entity}<rss version="2.0"><channel><title>t</title>'
            f"<item><title>通知&{last};</title><link>URL/a.htm</link><guid>g1</guid></item></channel></rss>")
    with SampleServer({}) as site:
        site.pages["/feed.xml"] = Resource(feed.replace("URL", site.url).encode(), "application/rss+xml")
        cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\n'
                           f'[[channel]]\nid = "f"\nkind = "feed"\nurl = "{site.url}/feed.xml"\n', Path("bomb.toml"))
        started = time.monotonic()
        [r] = sync(cfg, store)
        assert time.monotonic() - started < 10
    titles = [p.title for p in (store.posts.get("f", row["key"]) for row in store.posts.iter_rows()) if p]
    assert all(len(t) < 1000 and "root:" not in t for t in titles), titles
    assert r.status in ("ok", "partial", "failed")


def test_search_input_of_any_kind_never_errors(store: Store) -> None:
    from aggregator.services.search import search

    # The store is empty: the query parser and the SQL it builds are what is tested.
    for q in ['"', '""', "'", "a OR", "OR OR", "-", "--", "NEAR(", "*", "^", "招生 AND", "title:x", "\x00",
              "; DROP TABLE posts; --", "' OR 1=1 --", "😀" * 100, "招" * 5000, "\\", "%_", "[a-z]"]:
        search(store, q)

