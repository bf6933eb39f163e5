"""Sync fidelity: no post lost, mangled or left undated without a word.

Each test is a story from trying the sync against real university pages: a
detail page that fails, a date only in a labelled line, a sidebar heading
taken for a title, a feed guid with tracking parameters. Sites are served on
loopback by the demo's real HTTP server.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from aggregator.config import Config, parse_config
from aggregator.demo.server import Resource, SampleServer, html
from aggregator.demo.sites import SamplePost, cut, news_posts, portal_site, vsb_detail
from aggregator.services.sync import sync
from storage.store import Store

COLUMN = "/portal/xwzx/xxyw.htm"


def config(server: SampleServer, store_url: str, channel: str = "", *, url: str = COLUMN) -> Config:
    text = (f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\nretries = 1\n'
            f'[[channel]]\nid = "news"\nkind = "html"\nurl = "{server.url}{url}"\npreset = "vsb"\n{channel}')
    return parse_config(text, Path("fidelity.toml"))


def stored(store: Store, channel: str = "news") -> dict[str, dict]:
    """The channel's posts by their URL's last part (`9003.htm`)."""
    posts = [store.posts.get(r["channel_id"], r["key"]) for r in store.posts.iter_rows() if r["channel_id"] == channel]
    return {p.url.rsplit("/", 1)[-1]: p for p in posts if p}


def detail_page(p: SamplePost, **swap: str) -> Resource:
    """A VSB detail page of the portal, with parts of its markup replaced."""
    text = vsb_detail(p, base="/portal/", tree=1010, crumbs=['<a href="../../xwzx.htm">新闻中心</a>'])
    for old, new in swap.items():
        marker = {"info": f'<div class="info">发布时间：{p.published:%Y-%m-%d %H:%M}',
                  "title": f'<h1 class="title">{p.title}</h1>'}[old]
        assert marker in text, old
        text = text.replace(marker, new)
    return html(text)


def age_retries(store: Store, **when: str) -> None:
    """Move the channel's retry queue back in time (the clock is real; the test does not wait)."""
    state = store.channels.load_state("news")
    for entry in state.data["retry"].values():
        entry.update(when)
    store.channels.save_state("news", state)


@pytest.fixture
def posts() -> list[SamplePost]:
    return news_posts(6)


@pytest.fixture
def site(posts: list[SamplePost]) -> Iterator[SampleServer]:
    with SampleServer(portal_site(posts, per_page=10)) as server:
        yield server


# -- degrade, never drop ---------------------------------------------------------------------


@pytest.mark.parametrize("failure", [404, 500])
def test_a_detail_page_that_fails_is_stored_from_the_list_and_completed_later(
        failure: int, posts: list[SamplePost], site: SampleServer, store_url: str, store: Store) -> None:
    broken = next(p for p in posts[2:] if len(cut(p.title)) == len(p.title) or p.title_attr)  # whole on the list
    path = f"/portal/info/1010/{broken.news_id}.htm"
    good = site.pages[path]
    site.pages[path] = Resource(b"<html>error</html>", status=failure)
    cfg = config(site, store_url)

    [first] = sync(cfg, store)
    assert (first.status, first.new) == ("partial", 6)
    assert path in (first.error or "") and "已按列表信息保存" in (first.error or "")
    stub = stored(store)[f"{broken.news_id}.htm"]
    assert stub.title == broken.title and stub.published_at == datetime.combine(broken.published.date(),
                                                                                        datetime.min.time())
    assert stub.extra["detail"] == "missing" and str(failure) in stub.extra["detail_error"]

    # Still failing: the list is unchanged (304), but the run says the detail is missing.
    [again] = sync(cfg, store)
    assert again.status == "partial" and path in (again.error or "")

    # The second failure waits an hour before the next try; an hour later the page is back,
    # and the post is completed in place, with no revision of the stub.
    [waiting] = sync(cfg, store)
    assert waiting.status == "partial" and "下次重试时间" in (waiting.error or "")
    assert waiting.requests == 1  # the list only: the page is not tried before its time
    site.pages[path] = good
    age_retries(store, next_at="2020-01-01T00:00:00")
    [healed] = sync(cfg, store)
    assert (healed.status, healed.new, healed.updated) == ("ok", 0, 1), healed.error
    post = stored(store)[f"{broken.news_id}.htm"]
    assert post.published_at == broken.published and post.body.startswith(broken.paragraphs[0])
    assert "detail" not in post.extra and store.posts.revisions(post.id) == []
    assert store.posts.count("news") == 6
    # Nothing left to retry: the next quiet sync is one request and ok.
    [quiet] = sync(cfg, store)
    assert (quiet.status, quiet.requests) == ("ok", 1)


def test_a_detail_that_never_returns_is_given_up_after_retry_days(
        posts: list[SamplePost], site: SampleServer, store_url: str, store: Store) -> None:
    path = f"/portal/info/1010/{posts[0].news_id}.htm"
    site.pages[path] = Resource(b"gone", status=404)
    cfg = config(site, store_url)
    sync(cfg, store)
    age_retries(store, first_failed="2020-01-01T00:00:00")  # as if the first failure were long ago
    [r] = sync(cfg, store)
    assert r.status == "partial" and "已放弃：自 2020-01-01 起尝试 2 次" in (r.error or "")
    assert "retry" not in store.channels.load_state("news").data
    assert stored(store)[f"{posts[0].news_id}.htm"].extra["detail"] == "missing"  # kept, marked
    [after] = sync(cfg, store)
    assert after.status == "ok"


# -- dates --------------------------------------------------------------------------------------


def test_dates_fall_back_from_labelled_text_to_meta_to_the_url(
        posts: list[SamplePost], site: SampleServer, store_url: str, store: Store) -> None:
    """Detail pages whose date sits where no preset selector looks; the list gives no date either."""
    p = posts
    site.pages[f"/portal/info/1010/{p[0].news_id}.htm"] = detail_page(
        p[0], info='<div class="arttime">发布日期：2025-03-10</div><div class="x">')
    site.pages[f"/portal/info/1010/{p[1].news_id}.htm"] = detail_page(
        p[1], info='<div class="sub">日期：2021年04月15日 10:00 浏览：<span>12</span></div><div class="x">')
    site.pages[f"/portal/info/1010/{p[2].news_id}.htm"] = detail_page(
        p[2], info='<div class="x">')
    meta = site.pages[f"/portal/info/1010/{p[2].news_id}.htm"].body.decode().replace(
        "</head>", '<meta property="article:published_time" content="2024-11-05T08:30:00+08:00"></head>')
    site.pages[f"/portal/info/1010/{p[2].news_id}.htm"] = html(meta)
    # The list page shows no dates at all.
    list_page = site.pages[COLUMN].body.decode()
    for q in posts:
        list_page = list_page.replace(f'<span class="date">{q.published:%Y-%m-%d}</span>', "")
    site.pages[COLUMN] = html(list_page)
    # The fourth lives at a TRS-style dated URL.
    dated_url = "/portal/zwgk/202301/t20230105_4521.html"
    list_page = list_page.replace(f"../info/1010/{p[3].news_id}.htm", f"..{dated_url.removeprefix('/portal')}")
    site.pages[COLUMN] = html(list_page)
    site.pages[dated_url] = detail_page(p[3], info='<div class="x">')
    # The fifth has no date anywhere: stored, and named.
    site.pages[f"/portal/info/1010/{p[4].news_id}.htm"] = detail_page(p[4], info='<div class="x">')

    [r] = sync(config(site, store_url), store)
    got = stored(store)
    assert got[f"{p[0].news_id}.htm"].published_at == datetime(2025, 3, 10)
    assert got[f"{p[1].news_id}.htm"].published_at == datetime(2021, 4, 15, 10, 0)
    assert got[f"{p[2].news_id}.htm"].published_at == datetime(2024, 11, 5, 8, 30)
    assert got["t20230105_4521.html"].published_at == datetime(2023, 1, 5)
    undated = got[f"{p[4].news_id}.htm"]
    assert undated.published_at is None and undated.title == p[4].title
    assert r.status == "partial" and "没有发布日期" in (r.error or "")
    assert f"/info/1010/{p[4].news_id}.htm" in (r.error or "")
    assert r.new == 6


# -- titles -------------------------------------------------------------------------------------


def test_a_sidebar_heading_or_column_name_is_never_a_title(
        posts: list[SamplePost], site: SampleServer, store_url: str, store: Store) -> None:
    for p in posts[:3]:
        page = detail_page(p, title='<div class="title">' + p.title + "</div>").body.decode()
        # The template's only <h1> is the sidebar's column heading, 4 to 6 characters.
        page = page.replace('<body>', '<body><div class="leftside"><h1>招生考试信息</h1></div>', 1)
        site.pages[f"/portal/info/1010/{p.news_id}.htm"] = html(page)
    # A detail title that names another post is not taken either.
    site.pages[f"/portal/info/1010/{posts[3].news_id}.htm"] = detail_page(
        posts[3], title='<h1 class="title">通知公告</h1>')
    sync(config(site, store_url), store)
    titles = {k: p.title for k, p in stored(store).items()}
    assert sorted(titles.values()) == sorted(p.title for p in posts)


# -- the walk -------------------------------------------------------------------------------------


def test_full_walks_past_a_page_with_no_usable_entries(store_url: str, store: Store) -> None:
    posts = news_posts(15)
    pages = portal_site(posts, per_page=5)
    # Page 2 of 3 holds only filler rows (javascript: links) — its pager still points on.
    middle = "/portal/xwzx/xxyw/2.htm"
    text = pages[middle].body.decode()
    for p in posts[5:10]:
        text = text.replace(f'href="../../info/1010/{p.news_id}.htm"', 'href="javascript:void(0)"')
    pages[middle] = html(text)
    with SampleServer(pages) as server:
        [r] = sync(config(server, store_url), store, full=True)
        assert store.posts.count("news") == 10
        assert r.status == "partial" and middle in (r.error or "") and "没有可用的条目" in (r.error or "")
        assert {f"{p.news_id}.htm" for p in posts[10:]} <= set(stored(store))


# -- one key ----------------------------------------------------------------------------------


def test_a_feed_guid_with_tracking_parts_is_known_on_the_next_sync(store_url: str, store: Store) -> None:
    def feed(n: int, host: str) -> Resource:
        items = "".join(
            f"<item><title>通知{i}</title><link>{host}/a/{i}.htm</link>"
            f"<guid>{host.upper()}/a/{i}.htm?utm_source=rss&amp;utm_medium=feed#comments</guid>"
            f"<pubDate>Mon, 0{i} Sep 2025 08:00:00 +0800</pubDate></item>" for i in range(1, n + 1))
        return Resource(f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}'
                        f"</channel></rss>".encode(), "application/rss+xml")

    with SampleServer({}) as server:
        host = server.url.replace("127.0.0.1", "localhost")
        for i in range(1, 4):
            server.pages[f"/a/{i}.htm"] = html(f"<html><body><h1>通知{i}</h1><div class='content'>正文{i}</div>"
                                              f"</body></html>")
        server.pages["/feed.xml"] = feed(2, host)
        cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\n'
                           f'[[channel]]\nid = "f"\nkind = "feed"\nurl = "{host}/feed.xml"\n'
                           '[channel.detail]\nbody = ".content"\n', Path("feed.toml"))
        [first] = sync(cfg, store)
        assert (first.status, first.new) == ("ok", 2)
        server.pages["/feed.xml"] = feed(3, host)
        server.hits.clear()
        [second] = sync(cfg, store)
        assert (second.status, second.new) == ("ok", 1)
        assert server.hits["/a/1.htm"] == 0 and server.hits["/a/2.htm"] == 0 and server.hits["/a/3.htm"] == 1
        assert store.posts.count("f") == 3


def test_a_store_keyed_by_raw_guids_is_rekeyed_by_the_migration(store_url: str) -> None:
    import sqlalchemy as sa
    from alembic import command

    from storage.engine import _alembic_config, make_engine

    engine = make_engine(store_url)
    with engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0005")
        conn.execute(sa.text("INSERT INTO channels (id, name, kind, group_name, enabled, registered_at) "
                             "VALUES ('f', 'F', 'feed', 'g', true, '2025-01-01')"))
        conn.execute(sa.text(
            "INSERT INTO posts (channel_id, key, title, body, attachments, extra, content_hash, first_seen_at, "
            "updated_at) VALUES ('f', :k, 't', '', '[]', '{}', 'h', '2025-01-01', '2025-01-01')"),
            [{"k": "HTTPS://X.edu.cn/a/1.htm?utm_source=rss#c"}, {"k": "MzA3:1:1"},
             {"k": "https://x.edu.cn/a/2.htm#c"}, {"k": "https://x.edu.cn/a/2.htm"}])
    engine.dispose()
    with Store.open(store_url) as store:
        keys = sorted(r["key"] for r in store.posts.iter_rows())
    # Renamed where free; a collision leaves both rows as they were.
    assert keys == ["MzA3:1:1", "https://x.edu.cn/a/1.htm", "https://x.edu.cn/a/2.htm", "https://x.edu.cn/a/2.htm#c"]


# -- WeChat's current template -------------------------------------------------------------------

_WX_HEAD = ('<!DOCTYPE html><html><head><meta charset="utf-8">'
            '<meta property="og:url" content="http://mp.weixin.qq.com/s?__biz=MzA5NjQ1MTE2Mw==&amp;mid={mid}'
            '&amp;idx=1&amp;sn=abc#rd" /><meta property="og:title" content="{title}" /></head><body>')


def test_wechat_pages_of_the_current_template_keep_their_date_text_and_kind() -> None:
    from connectors.wechat import from_page

    article = from_page(_WX_HEAD.format(mid=2651001001, title="我校举行2026届毕业典礼") +
                        '<div id="js_content" style="visibility: hidden;"><p>典礼在体育馆举行。</p></div>'
                        "<script>window.ct = '1779506986' || '';</script></body></html>")
    assert not isinstance(article, str)
    assert article.published_at == datetime(2026, 5, 23, 11, 29, 46)  # Unix seconds, read as Shanghai time
    assert article.body == "典礼在体育馆举行。"

    text_share = from_page(_WX_HEAD.format(mid=2651001002, title="") +
                           '<div id="js_content"></div><script>var item_show_type = "10";\n'
                           "window.cgiDataNew = {create_time: '2026-05-23 11:29', "
                           "content_noencode: JsDecode('\\u5173\\u4e8e\\u505c\\u6c34\\u7684\\u901a\\u77e5\\x0a"
                           "\\u660e\\u65e5\\u4e0a\\u5348\\u505c\\u6c34\\u3002')};</script></body></html>")
    assert not isinstance(text_share, str)
    assert text_share.published_at == datetime(2026, 5, 23, 11, 29)
    assert text_share.body == "关于停水的通知\n明日上午停水。" and text_share.title == "关于停水的通知"

    image = from_page(_WX_HEAD.format(mid=2651001003, title="樱花季") +
                      '<div id="js_content"><img data-src="https://mmbiz.qpic.cn/a.jpg"></div>'
                      "<script>var item_show_type = \"8\"; var create_time = '2026-03-20 09:00';</script></body></html>")
    assert not isinstance(image, str)
    assert image.extra["status"] == "image" and image.published_at == datetime(2026, 3, 20, 9, 0)


# -- procurement fields ---------------------------------------------------------------------------


def test_procurement_amounts_units_and_methods_as_real_notices_write_them(store_url: str, store: Store) -> None:
    from aggregator.demo.sites import SCHOOL, cgzx_site

    notices = [
        ("实验室设备采购项目公告", ["一、项目编号：DHKJ-2026-CG001。", "二、采购方式：竞争性磋商。",
                           "三、采购预算：人民币肆拾捌万元整（￥480000.00）"]),
        ("教材采购项目结果公告", ["一、项目编号：DHKJ-2026-CG002；", "二、中标（成交）供应商：武汉书香图书有限公司。",
                          "三、中标（成交）金额：125元/套，合计￥37,500.00元"]),
        ("物业服务项目", ["一、采购方式：询价", "二、预算金额（万元）：12.5"]),
        ("网络设备采购项目", ["项目预算：1,250,000.00", "采购方式：单一来源。"]),
    ]
    posts = [SamplePost(7000 - i, f"{SCHOOL}{t}", datetime(2026, 3, 10 - i, 9, 0), lines,
                        department="采购与招投标管理中心", title_attr=False) for i, (t, lines) in enumerate(notices)]
    with SampleServer(cgzx_site(posts)) as server:
        cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\n'
                           f'[[channel]]\nid = "cg"\nkind = "procurement"\nurl = "{server.url}/cgzx/cggg.htm"\n'
                           'preset = "vsb"\n', Path("cg.toml"))
        [r] = sync(cfg, store)
        assert (r.status, r.new) == ("ok", 4), r.error
    got = {p.title.removeprefix(SCHOOL): p for p in stored(store, "cg").values()}
    tender = got["实验室设备采购项目公告"]
    assert tender.type == "磋商谈判公告"  # the title is silent; the body's 采购方式 decides
    assert tender.extra["budget"] == 480000.0 and tender.extra["project_code"] == "DHKJ-2026-CG001"
    assert tender.extra["method"] == "竞争性磋商"
    award = got["教材采购项目结果公告"].extra
    assert award["award"] == 37500.0  # the total, not the 125 元/套 unit price
    assert award["supplier"] == "武汉书香图书有限公司" and award["project_code"] == "DHKJ-2026-CG002"
    assert got["物业服务项目"].type == "询价公告" and got["物业服务项目"].extra["budget"] == 125000.0
    assert got["网络设备采购项目"].type == "单一来源公示"
    assert got["网络设备采购项目"].extra["budget"] == 1250000.0


@pytest.mark.parametrize(("text", "yuan"), [
    ("569800.00元", 569800.0), ("￥56.980000 万元（人民币）", 569800.0), ("人民币伍拾陆万玖仟捌佰元整", 569800.0),
    ("56.98万元", 569800.0), ("￥569,800.00", 569800.0), ("¥569800", 569800.0),
    ("人民币肆拾捌万元整（￥480000.00）", 480000.0), ("3000元/年", None), ("下浮率5%", None),
])
def test_one_money_parser_reads_every_spelling(text: str, yuan: float | None) -> None:
    from connectors.money import parse_money

    assert parse_money(text) == yuan


# -- list shapes the vsb preset meets on real sites -----------------------------------------------


def _shaped_list(shape: str, posts: list[SamplePost]) -> str:
    def href(p: SamplePost) -> str:
        return f"../info/1010/{p.news_id}.htm"

    if shape == "date-first":  # another list class, the date before the link
        rows = "".join(f'<li><span class="time">{p.published:%Y-%m-%d}</span><a href="{href(p)}" '
                       f'title="{p.title}">{p.title[:18]}…</a></li>' for p in posts)
        body = f'<div class="list"><ul>{rows}</ul></div>'
    elif shape == "blocks":  # free-form blocks, the date split over two elements
        rows = "".join(f'<div class="item"><a href="{href(p)}">{p.title}</a><p>{p.paragraphs[0][:20]}</p>'
                       f'<div class="date"><span class="day">{p.published:%d}</span>'
                       f'<span class="ym">{p.published:%Y-%m}</span></div></div>' for p in posts)
        body = f'<div class="news-box">{rows}</div>'
    elif shape == "bracketed":  # ul.news_list with [MM-DD] dates
        rows = "".join(f'<li><a href="{href(p)}">{p.title}</a><span>[{p.published:%m-%d}]</span></li>' for p in posts)
        body = f'<ul class="news_list">{rows}</ul>'
    else:  # a table of rows
        rows = "".join(f'<tr><td><a href="{href(p)}" title="{p.title}">{p.title}</a></td>'
                       f'<td>{p.published:%Y/%m/%d}</td></tr>' for p in posts)
        body = f'<table class="articles">{rows}</table>'
    return (f'<html><head><title>通知公告</title></head><body><div class="nav"><a href="/">首页</a></div>'
            f'<div class="leftside"><ul><li><a href="a.htm">学院概况</a></li><li><a href="b.htm">通知公告</a></li>'
            f'<li><a href="c.htm">学术动态</a></li></ul></div>{body}'
            f'<div class="pb_sys_common pb_sys_style1"><span class="p_t">共{len(posts)}条</span>'
            f'<span class="p_t">1/1</span></div></body></html>')


@pytest.mark.parametrize("shape", ["date-first", "blocks", "bracketed", "table"])
def test_the_vsb_preset_finds_lists_by_their_shape(shape: str, posts: list[SamplePost], site: SampleServer,
                                                    store_url: str, store: Store) -> None:
    site.pages[COLUMN] = html(_shaped_list(shape, posts))
    [r] = sync(config(site, store_url), store)
    assert (r.status, r.new, r.site_total) == ("ok", 6, 6), r.error
    got = stored(store)
    assert sorted(p.title for p in got.values()) == sorted(p.title for p in posts)
    assert all(p.published_at == q.published for p, q in zip(
        sorted(got.values(), key=lambda p: p.url), sorted(posts, key=lambda p: p.news_id), strict=True))


def test_a_config_that_overrides_one_preset_key_keeps_the_others(
        posts: list[SamplePost], site: SampleServer, store_url: str, store: Store) -> None:
    [r] = sync(config(site, store_url, '[channel.list]\ndate = "span.date"\n'), store)
    assert (r.status, r.new) == ("ok", 6)
    assert {p.published_at.date() for p in stored(store).values()} == {p.published.date() for p in posts}


def test_a_walk_that_misses_what_the_list_counts_is_partial(store_url: str, store: Store) -> None:
    posts = news_posts(15)
    pages = portal_site(posts, per_page=5)
    first = pages[COLUMN].body.decode()
    # The pager of page 1 loses its next link (a template bug): the walk cannot go on.
    first = first.replace('<span class="p_next p_fun"><a href="xxyw/2.htm">下页</a></span>', "")
    pages[COLUMN] = html(first)
    with SampleServer(pages) as server:
        [r] = sync(config(server, store_url), store)
    assert (r.status, r.new, r.site_total) == ("partial", 5, 15)
    assert "列表自报共 15 条，翻页只找到 5 条" in (r.error or "")


def test_an_incremental_walk_stopped_after_a_page_goes_on_past_it_next_time(store_url: str, store: Store) -> None:
    """Stopped (SIGTERM, a crash) after storing page 1's new posts, the next incremental sync finds page 1
    known — it must still read page 2, where the rest of the new posts are."""
    import threading

    from aggregator.pipeline import Progress

    old = news_posts(16)
    with SampleServer(portal_site(old, per_page=8)) as server:
        cfg = config(server, store_url)
        sync(cfg, store)
        fresh = news_posts(12, start=datetime(2025, 8, 1, 9, 0), first_id=20000)
        server.pages.update(portal_site(fresh + old, per_page=8))
        stop = threading.Event()

        def after_a_page(p: Progress) -> None:
            if p.event == "progress" and p.counts.new >= 8:
                stop.set()

        [cut] = sync(cfg, store, on_progress=after_a_page, stop=stop)
        assert cut.status == "interrupted" and store.posts.count("news") == 16 + 8
        [resumed] = sync(cfg, store)
    assert (resumed.status, resumed.new) == ("ok", 4) and store.posts.count("news") == 28
