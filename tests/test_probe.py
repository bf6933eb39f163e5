"""`xxgk probe` and `xxgk audit` against the sample sites on loopback.

The promise of probe: the block it prints, pasted into a config without
edits, syncs the same posts as the hand-written channel. The promise of
audit: one request per channel tells which channel's store trails its site.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.config import HttpConfig, parse_config
from aggregator.demo.server import SampleServer
from aggregator.demo.sites import sample_channels, sample_pages
from aggregator.services.probe import probe
from aggregator.services.sync import sync
from storage.store import Store

ROOT = Path(__file__).resolve().parents[1]
LISTS = {
    "portal-news": ("html", "/portal/xwzx/xxyw.htm"),
    "zsb-undergrad": ("html", "/zsb/zsxx.htm"),
    "yjsy-admissions": ("html", "/yjsy/zsgz/sszs.htm"),
    "xxgk-notices": ("html", "/xxgk/gsgg/index.html"),
    "jwc-notices": ("html", "/jwc/2891/list.htm"),
    "procurement-centre": ("procurement", "/cgzx/cggg.htm"),
    "ccgp-results": ("procurement", "/ccgp/cggg/dfgg/zbgg/index.htm"),
}
HEAD = '[store]\nurl = "{store}"\n[http]\nper_host_interval = 0.0\n'


@pytest.fixture(scope="module")
def site() -> Iterator[SampleServer]:
    with SampleServer(sample_pages()) as server:
        yield server


def posts_of(store: Store, channel: str) -> set[tuple[str, str, object]]:
    return {(r["key"], p.title, p.published_at) for r in store.posts.iter_rows() if r["channel_id"] == channel
            for p in [store.posts.get(channel, r["key"])] if p}


@pytest.mark.parametrize("channel", list(LISTS))
def test_a_probed_block_syncs_the_same_posts_as_the_preset(channel: str, site: SampleServer, tmp_path: Path) -> None:
    kind, path = LISTS[channel]
    found = probe(site.url + path, kind=kind, http=HttpConfig(per_host_interval=0.0))
    assert found.entries and all(e["title"] for e in found.entries)
    block = found.toml().replace(f'id = "{found.channel["id"]}"', 'id = "probed"')
    preset = sample_channels(site.url)
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    cfg = parse_config(HEAD.format(store=store_url) + preset + "\n" + block, tmp_path / "c.toml")
    with Store.open(store_url) as store:
        results = {r.id: r for r in sync(cfg, store, [channel, "probed"])}
        assert results["probed"].status == results[channel].status == "ok", (results["probed"].error, block)
        ours, theirs = posts_of(store, "probed"), posts_of(store, channel)
        assert ours == theirs and len(ours) == results[channel].new


def test_probe_prints_a_block_and_json_from_the_command_line(site: SampleServer, tmp_path: Path) -> None:
    url = site.url + "/portal/xwzx/xxyw.htm"
    cfg = tmp_path / "config.toml"  # probe needs no channels; it takes the [http] politeness from the config
    cfg.write_text('[http]\nper_host_interval = 0.0\n', encoding="utf-8")
    cmd = [sys.executable, "-m", "aggregator", "--config", str(cfg), "probe"]
    done = subprocess.run([*cmd, url], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[[channel]]\n") and 'preset = "vsb"' in done.stdout
    assert "Traceback" not in done.stderr and "共" in done.stderr
    report = json.loads(subprocess.run([*cmd, url, "--json"], cwd=ROOT, capture_output=True, text=True,
                                       timeout=60).stdout)
    assert report["cms"] == "vsb" and report["channel"]["url"] == url and report["site_total"] == 24
    assert {"title", "url", "published_at"} <= set(report["entries"][0])
    bad = subprocess.run([*cmd, site.url + "/nosuch.htm"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "404" in bad.stderr and "Traceback" not in bad.stderr


def test_audit_names_the_channel_that_trails_its_site(site: SampleServer, tmp_path: Path) -> None:
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(HEAD.format(store=store_url) + sample_channels(site.url), encoding="utf-8")
    cfg = parse_config(cfg_path.read_text(encoding="utf-8"), cfg_path)
    with Store.open(store_url) as store:
        sync(cfg, store, ["portal-news", "zsb-undergrad"])
        with store.engine.begin() as conn:  # four posts lost from one channel's store
            import sqlalchemy as sa

            ids = [r[0] for r in conn.execute(sa.text(
                "SELECT id FROM posts WHERE channel_id = 'zsb-undergrad' ORDER BY id LIMIT 4"))]
            conn.execute(sa.text(f"DELETE FROM posts WHERE id IN ({','.join(map(str, ids))})"))
    cmd = [sys.executable, "-m", "aggregator", "--config", str(cfg_path), "audit", "portal-news", "zsb-undergrad"]
    site.hits.clear()
    done = subprocess.run([*cmd, "--json"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    rows = {r["id"]: r for r in json.loads(done.stdout)["channels"]}
    assert rows["portal-news"] | {"error": None} == {"id": "portal-news", "site_total": 24, "stored": 24, "gap": 0,
                                                     "site_pages": 3, "error": None}
    assert (rows["zsb-undergrad"]["site_total"], rows["zsb-undergrad"]["gap"]) == (11, 4)
    assert {p: n for p, n in site.hits.items() if p != "/robots.txt"} == {"/portal/xwzx/xxyw.htm": 1,
                                                                          "/zsb/zsxx.htm": 1}  # one page each
    table = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert table.returncode == 1 and "zsb-undergrad" in table.stderr and "sync --full" in table.stderr


def test_probe_finds_the_article_text_where_no_generic_selector_looks(tmp_path: Path) -> None:
    """A CMS of its own: article text in `div.zw-text`, beside a menu, a related-links box and a footer."""
    from aggregator.demo.server import html
    from aggregator.demo.sites import news_posts

    posts = news_posts(6)
    rows = "".join(f'<li><a href="/a/{p.news_id}.html" title="{p.title}">{p.title}</a>'
                   f"<span>{p.published:%Y-%m-%d}</span></li>" for p in posts)
    pages = {"/list.html": html(f'<html><body><div class="menu"><a href="/">首页</a></div>'
                                f'<ul class="items">{rows}</ul><div class="pages">共6条</div></body></html>')}
    for p in posts:
        related = "".join(f'<li><a href="/a/{q.news_id}.html">{q.title}</a></li>' for q in posts)
        text = "".join(f"<p>{t}</p>" for t in [*p.paragraphs, "特此通知。"])
        pages[f"/a/{p.news_id}.html"] = html(
            f'<html><head><title>{p.title}</title></head><body><div class="menu"><a href="/">首页</a></div>'
            f'<div class="main"><div class="tt">{p.title}</div><div class="sj">发布时间：{p.published:%Y-%m-%d}</div>'
            f'<div class="zw-text">{text}</div><div class="xg"><h4>相关文章</h4><ul>{related}</ul></div></div>'
            f'<div class="foot">版权所有</div></body></html>')
    with SampleServer(pages) as site:
        found = probe(site.url + "/list.html", http=HttpConfig(per_host_interval=0.0))
        assert found.channel["detail"]["body"].endswith("div.zw-text"), found.channel
        store_url = f"sqlite:///{tmp_path / 'z.db'}"
        cfg = parse_config(HEAD.format(store=store_url) + found.toml(), tmp_path / "c.toml")
        with Store.open(store_url) as store:
            [r] = sync(cfg, store)
            bodies = [store.posts.get(r["channel_id"], r["key"]).body for r in store.posts.iter_rows()]
    assert r.status == "ok" and len(bodies) == 6
    assert all(b.endswith("特此通知。") and "相关文章" not in b and "版权所有" not in b for b in bodies), bodies[0]
