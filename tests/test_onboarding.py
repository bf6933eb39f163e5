"""A channel from its list page's address alone, and `probe` proposing only what it has tried.

The sites are the sample families of `aggregator/demo/families.py` (CMSs no preset knows, each in
a site template with a top menu, its phone twin, a same-template sidebar and footer links),
served from a real HTTP server on loopback. What a post must be is what the site was built from.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.config import HttpConfig, parse_config
from aggregator.demo.families import FAMILIES, Family, family_posts
from aggregator.demo.server import SampleServer, html
from aggregator.services.probe import probe
from aggregator.services.sync import sync
from storage.store import Store

HEAD = '[store]\nurl = "{store}"\n[http]\nper_host_interval = 0.0\n'
NAMES = [make.__name__ for make in FAMILIES]


@pytest.fixture(params=NAMES)
def family(request: pytest.FixtureRequest) -> Iterator[tuple[Family, SampleServer]]:
    fam = next(make for make in FAMILIES if make.__name__ == request.param)()
    with SampleServer(fam.pages) as server:
        server.forms.update(fam.forms)
        yield fam, server


def bare(channel_id: str, url: str) -> str:
    return f'[[channel]]\nid = "{channel_id}"\nkind = "html"\nurl = "{url}"\n'


def stored(store: Store, channel: str) -> dict[str, tuple[str, object, str]]:
    """key → (title, date, body) of a channel's posts."""
    out = {}
    for row in store.posts.iter_rows():
        if row["channel_id"] == channel:
            post = store.posts.get(channel, row["key"])
            assert post is not None
            out[post.url] = (post.title, post.published_at, post.body or "")
    return out


def expected(fam: Family, server: SampleServer, store: Store, channel: str) -> None:
    """Every post the site lists, with its exact title, its date and its whole article text."""
    got = stored(store, channel)
    assert len(got) == len(fam.posts) == fam.total
    titles = {title: (when, body) for title, when, body in got.values()}
    for p in fam.posts:
        assert p.title in titles, (fam.name, p.title, sorted(titles)[:3])
        when, body = titles[p.title]
        assert when is not None and when.date() == p.published.date(), (fam.name, p.title, when)
        assert all(par in body for par in p.paragraphs), (fam.name, p.title, body[:200])
        assert "友情链接" not in body and "学校简介" not in body  # no menu, no footer


def test_a_bare_url_channel_stores_every_post_of_a_family_no_preset_knows(
        family: tuple[Family, SampleServer], tmp_path: Path) -> None:
    fam, server = family
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    cfg = parse_config(HEAD.format(store=store_url) + bare("col", server.url + fam.list_path), tmp_path / "c.toml")
    with Store.open(store_url) as store:
        [first] = sync(cfg, store, ["col"])
        assert first.status == "ok", first.error
        expected(fam, server, store, "col")
        state = store.channels.load_state("col")
        assert state is not None and state.data["auto"]["entries"] >= 3  # what was found is recorded
        server.hits.clear()
        [again] = sync(cfg, store, ["col"])  # incremental: page 1 answers 304, nothing else is read
        assert again.status == "ok" and again.new == 0
        assert sum(n for path, n in server.hits.items() if path != "/robots.txt") == 1
        [full] = sync(cfg, store, ["col"], full=True)  # --full walks to the site's stated total
        assert full.status == "ok", full.error
        assert len(stored(store, "col")) == fam.total


def test_probe_prints_a_block_that_syncs_exactly_what_the_bare_url_syncs(
        family: tuple[Family, SampleServer], tmp_path: Path) -> None:
    fam, server = family
    found = probe(server.url + fam.list_path, http=HttpConfig(per_host_interval=0.0))
    assert len(found.entries) >= 3 and all(e["title"] for e in found.entries)
    assert found.channel["id"] not in ("127", "channel") and not found.channel["id"].isdigit()
    block = found.toml().replace(f'id = "{found.channel["id"]}"', 'id = "probed"')
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    text = HEAD.format(store=store_url) + bare("col", server.url + fam.list_path) + block
    cfg = parse_config(text, tmp_path / "c.toml")
    with Store.open(store_url) as store:
        results = {r.id: r for r in sync(cfg, store, ["col", "probed"])}
        assert results["probed"].status == "ok", (results["probed"].error, block)
        assert stored(store, "probed") == stored(store, "col")
        expected(fam, server, store, "probed")


def test_probe_names_the_column_by_its_own_words(tmp_path: Path) -> None:
    from aggregator.demo.families import epoint, siteserver

    for make, name, ident in ((siteserver, "通知公告", "tzgg"), (epoint, "工程建设", "gcjs")):
        fam = make()
        with SampleServer(fam.pages) as server:
            found = probe(server.url + fam.list_path, http=HttpConfig(per_host_interval=0.0))
        assert (found.channel["id"], found.channel.get("name")) == (ident, name)


def test_a_sidebar_of_the_same_template_is_not_taken_for_the_list(tmp_path: Path) -> None:
    """A sidebar built like the list, with dates and full titles, beside a main list without dates:
    on its own the sidebar scores higher; page 2 shows it is the site's chrome."""
    posts = family_posts(12, 4000)
    hot = family_posts(7, 8000)

    def page(items: list, k: int) -> str:
        main = "".join(f'<li><a href="/info/{p.news_id}.htm">{p.title}</a></li>' for p in items)
        side = "".join(f'<li><a href="/info/{p.news_id}.htm">{p.title}</a><span>{p.published:%Y-%m-%d}</span></li>'
                       for p in hot)
        nxt = '<a href="/list/2.htm">下一页</a>' if k == 1 else ""
        return (f"<html><head><title>学院新闻</title></head><body><div class=col><ul class=news>{side}</ul></div>"
                f"<div class=col><ul class=news>{main}</ul><div class=pg>{nxt}</div></div></body></html>")

    pages = {"/list.htm": html(page(posts[:6], 1)), "/list/2.htm": html(page(posts[6:], 2))}
    for p in [*posts, *hot]:
        pages[f"/info/{p.news_id}.htm"] = html(f"<html><body><h1>{p.title}</h1><p>发布时间：{p.published:%Y-%m-%d}</p>"
                                               f"<div class=text>{''.join(f'<p>{t}</p>' for t in p.paragraphs)}"
                                               "</div></body></html>")
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    with SampleServer(pages) as server:
        cfg = parse_config(HEAD.format(store=store_url) + bare("news", server.url + "/list.htm"), tmp_path / "c.toml")
        with Store.open(store_url) as store:
            [result] = sync(cfg, store, ["news"])
            assert result.status == "ok", result.error
            assert {t for t, _d, _b in stored(store, "news").values()} == {p.title for p in posts}


def test_a_list_that_stops_matching_what_was_recorded_is_partial_and_says_what_changed(tmp_path: Path) -> None:
    from aggregator.demo.families import siteserver

    fam = siteserver()
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    with SampleServer(fam.pages) as server:
        cfg = parse_config(HEAD.format(store=store_url) + bare("col", server.url + fam.list_path), tmp_path / "c.toml")
        with Store.open(store_url) as store:
            assert sync(cfg, store, ["col"])[0].status == "ok"
            # A redesign: the list's rows become <div class="row"> in a <div class="news-list">.
            for path, res in list(server.pages.items()):
                if path.startswith("/channels/"):
                    text = res.body.decode().replace('<div class="right"><div class="box"><h3>通知公告</h3><ul class="list">',
                                                     '<div class="right"><div class="news-list">')
                    text = text.replace("<li><a href=\"/contents", "<div class=\"row\"><a href=\"/contents")
                    server.pages[path] = html(text.replace("</span></li>", "</span></div>"))
            [changed] = sync(cfg, store, ["col"])
            assert changed.status == "partial"
            assert "列表的结构变了" in (changed.error or "") and "div.news-list" in (changed.error or "")
            [after] = sync(cfg, store, ["col"])
            assert after.status == "ok"
            assert len(stored(store, "col")) == fam.total


@pytest.fixture(scope="module")
def dressed() -> Iterator[tuple[SampleServer, SampleServer]]:
    """The preset families as built, and the same sites in a template with menus and a 热点 block."""
    from aggregator.demo.families import with_chrome
    from aggregator.demo.sites import sample_pages

    with SampleServer(sample_pages()) as plain, SampleServer(with_chrome(sample_pages())) as chrome:
        yield plain, chrome


def by_path(store: Store, channel: str) -> set[tuple[str, str, object]]:
    from urllib.parse import urlsplit

    return {(urlsplit(url).path, title, when) for url, (title, when, _b) in stored(store, channel).items()}


@pytest.mark.parametrize("channel", ["portal-news", "zsb-undergrad", "yjsy-admissions", "xxgk-notices", "jwc-notices",
                                     "procurement-centre", "ccgp-results"])
def test_on_the_preset_families_with_menus_and_sidebars_bare_url_and_probe_read_the_list(
        channel: str, dressed: tuple[SampleServer, SampleServer], tmp_path: Path) -> None:
    """A bare URL and probe's block, on a page with a phone menu and a same-template 热点 block
    beside the list, store what the hand-written preset channel stores from the plain site."""
    from aggregator.demo.families import SAMPLE_LISTS
    from aggregator.demo.sites import sample_channels

    plain, chrome = dressed
    kind, path, _container = SAMPLE_LISTS[channel]
    found = probe(chrome.url + path, kind=kind, http=HttpConfig(per_host_interval=0.0))
    block = found.toml().replace(f'id = "{found.channel["id"]}"', 'id = "probed"')
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    text = (HEAD.format(store=store_url) + sample_channels(plain.url) + "\n" + block
            + bare("bare", chrome.url + path).replace('kind = "html"', f'kind = "{kind}"'))
    cfg = parse_config(text, tmp_path / "c.toml")
    with Store.open(store_url) as store:
        results = {r.id: r for r in sync(cfg, store, [channel, "probed", "bare"])}
        assert results["bare"].status == results[channel].status, (results["bare"].error, results[channel].error)
        assert results["probed"].status == results[channel].status, (results["probed"].error, block)
        assert by_path(store, "bare") == by_path(store, channel)
        assert by_path(store, "probed") == by_path(store, channel)


def test_channels_show_what_a_bare_url_channel_found(tmp_path: Path) -> None:
    import json

    from aggregator.demo.families import siteserver
    from tests.helpers import chromium, need_chromium, run_xxgk, serving

    fam = siteserver()
    with SampleServer(fam.pages) as server:
        cfg = tmp_path / "config.toml"
        cfg.write_text(HEAD.format(store=f"sqlite:///{(tmp_path / 'x.db').as_posix()}")
                       + bare("tzgg", server.url + fam.list_path), encoding="utf-8")
        synced = run_xxgk("--config", str(cfg), "sync", "--json")
        assert synced.returncode == 0, synced.stderr
        shown = json.loads(run_xxgk("--config", str(cfg), "channels", "--json").stdout)
        need_chromium()
        with serving(cfg, tmp_path) as base, chromium() as browser:
            page = browser.new_page()  # type: ignore[attr-defined]
            page.goto(base + "/channels")
            text = page.inner_text("body")
            assert "自动识别的列表" in text and "ul.list > li" in text and "首页 7 条" in text and "通知公告" in text
            assert page.locator("button.accept").count() == 0  # nothing to accept: it is the channel's own
            folder = Path(__file__).resolve().parents[1] / "artifacts" / "screenshots"
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / "channels-bare-url.png"), full_page=True)
    [row] = [r for r in (shown["channels"] if isinstance(shown, dict) else shown) if r["id"] == "tzgg"]
    assert row["detected"]["auto"] is True and row["detected"]["entries"] == 7
    assert row["detected"]["entry"].endswith("ul.list > li") and row["posts"] == fam.total
    assert row["name"] == "通知公告"  # no name in the config: the column's own, from its page


def test_a_page_of_menus_and_links_is_no_list(tmp_path: Path) -> None:
    """A column's landing page holding only the site's menus and footer links: the bare URL fails with
    a reason that says what to do, and probe proposes nothing — friend links are never stored as posts."""
    from aggregator.demo.families import _footer, _menu
    from connectors.base import ChannelError

    page = f"<html><head><title>学校概况</title></head><body>{_menu('')}<p>学校简介正文。</p>{_footer('')}</body></html>"
    other = f"<html><head><title>现任领导</title></head><body>{_menu('')}<p>领导。</p>{_footer('')}</body></html>"
    pages = {"/xxgk/index.html": html(page), "/0/index.html": html(other)}
    store_url = f"sqlite:///{tmp_path / 'x.db'}"
    with SampleServer(pages) as server:
        cfg = parse_config(HEAD.format(store=store_url) + bare("xxgk", server.url + "/xxgk/index.html"),
                           tmp_path / "c.toml")
        with Store.open(store_url) as store:
            [result] = sync(cfg, store, ["xxgk"])
            assert result.status == "failed" and "没有找到三条以上带标题的链接列表" in (result.error or "")
            assert stored(store, "xxgk") == {}
        with pytest.raises(ChannelError, match="xxgk probe|列表"):
            probe(server.url + "/xxgk/index.html", http=HttpConfig(per_host_interval=0.0))


def test_a_body_of_only_an_attachment_link_is_kept_and_a_wrapper_of_menus_is_not() -> None:
    """The generic body selector's match stands when it is an article of a link or two; when it is a
    wrapper of many links (`.content` around the menus), the block where the text gathers is read."""
    from aggregator.demo.families import _footer, _menu
    from connectors.html import parse_detail
    from connectors.http import Page
    from connectors.listwalk import Entry
    from connectors.presets import selectors_from

    sel = selectors_from(None, {"entry": "li"})
    footer = _footer("") + "<p>" + "地址：湖北省武汉市东湖新技术开发区大学路1号，邮编430000，联系电话027-87650000。" * 3 + "</p>"
    only_file = Page("http://x/a/1.htm", 200, f"<html><body>{_menu('')}<h1>关于公布名单的通知</h1>"
                     '<div class="v_news_content"><p>附件：<a href="/f/1.xlsx">名单.xlsx</a></p></div>'
                     f"{footer}</body></html>", None, None)
    post = parse_detail(only_file, Entry("http://x/a/1.htm", "关于公布名单的通知", None, "x/a/1.htm"), sel)
    assert post.body == "附件：名单.xlsx"
    paragraphs = "".join(f"<p>第{i}条：各单位要认真组织，确保各项工作按时完成，有关情况请及时报送。</p>" for i in range(4))
    wrapped = Page("http://x/a/2.htm", 200, f'<html><body><div class="content">{_menu("")}<h1>通知</h1>'
                   f'<div class="zw">{paragraphs}</div>{_footer("")}</div></body></html>', None, None)
    post = parse_detail(wrapped, Entry("http://x/a/2.htm", "通知", None, "x/a/2.htm"), sel)
    assert "第0条" in post.body and "第3条" in post.body and "学校简介" not in post.body and "友情链接" not in post.body
