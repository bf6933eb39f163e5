"""`html` and `procurement` channels against sample sites served on loopback.

Stories from the office: the first sync counts every post exactly once; a
quiet hour costs one request per channel; new notices are the only pages
fetched; a corrected notice keeps its first version; a redesigned portal or a
firewall fails its channel — loudly — and keeps yesterday's posts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from aggregator.config import Config, parse_config
from aggregator.demo.server import Resource, SampleServer, html
from aggregator.demo.sites import (
    SCHOOL,
    SamplePost,
    cgzx_posts,
    news_posts,
    portal_posts,
    portal_site,
    sample_channels,
    sample_pages,
)
from aggregator.pipeline import RunResult
from aggregator.services.sync import sync
from storage.store import Store

EXPECTED = {"portal-news": 24, "zsb-undergrad": 11, "yjsy-admissions": 8, "xxgk-notices": 7, "jwc-notices": 5,
            "procurement-centre": 10, "ccgp-results": 5, "xxgk-feed": 3}


@pytest.fixture
def site() -> Iterator[SampleServer]:
    with SampleServer(sample_pages()) as server:
        yield server


def make_config(server: SampleServer, store_url: str, extra: str = "", http: str = "") -> Config:
    text = f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\nretries = 1\n{http}\n'
    return parse_config(text + sample_channels(server.url) + extra, Path("web.toml"))


def by_id(results: list[RunResult]) -> dict[str, RunResult]:
    return {r.id: r for r in results}


def posts_of(store: Store, channel: str) -> list[dict]:
    return [store.posts.get(r["channel_id"], r["key"]) for r in store.posts.iter_rows() if r["channel_id"] == channel]


def test_first_sync_stores_every_post_exactly_once(site: SampleServer, store_url: str, store: Store) -> None:
    results = by_id(sync(make_config(site, store_url), store))
    assert {k: (r.status, r.new) for k, r in results.items()} == {k: ("ok", n) for k, n in EXPECTED.items()}
    for channel, n in EXPECTED.items():
        assert store.posts.count(channel) == n
    portal = {p.title: p for p in posts_of(store, "portal-news")}
    # The sidebar's 热点 items are not the column's posts.
    assert not any(t.startswith("热点") for t in portal)
    # The pinned old notice is one post, dated from its detail page.
    pinned = portal[f"关于印发《{SCHOOL}信息公开实施细则》的通知"]
    assert pinned.published_at == datetime(2024, 10, 10, 9, 0)
    assert [a["name"] for a in pinned.attachments] == [f"{SCHOOL}信息公开实施细则.pdf", "信息公开申请表.docx"]
    assert "download.jsp" in pinned.attachments[0]["url"]
    # A title cut with "..." and no title attribute comes whole from the detail page.
    cut_title = "东湖科技大学在第十八届“挑战杯”全国大学生课外学术科技作品竞赛中获佳绩"
    assert cut_title in portal and portal[cut_title].department == "科学技术发展院"
    assert portal[cut_title].source_column == "新闻中心>学校要闻"
    assert "点击数" not in portal[cut_title].body and "审核" in portal[cut_title].body
    assert "<script" not in (portal[cut_title].body_html or "") and "evil" not in portal[cut_title].body_html
    # The link-type entry to WeChat is stored as a link and never fetched across hosts.
    link = portal[f"【图说】{SCHOOL}2025年毕业季"]
    assert link.url.startswith("https://mp.weixin.qq.com/") and link.extra == {"link_only": True}
    # The content.jsp twin keys as its info/ URL.
    assert any(p.key.endswith("/portal/info/1010/9020.htm") for p in portal.values())


def test_a_quiet_hour_costs_one_request_per_channel(site: SampleServer, store_url: str, store: Store) -> None:
    cfg = make_config(site, store_url)
    sync(cfg, store)
    again = by_id(sync(cfg, store))
    assert {k: (r.status, r.new, r.requests) for k, r in again.items()} == {k: ("ok", 0, 1) for k in EXPECTED}


def test_only_new_notices_are_fetched(site: SampleServer, store_url: str, store: Store) -> None:
    cfg = make_config(site, store_url)
    sync(cfg, store)
    posts = portal_posts()
    fresh = [SamplePost(9100 + i, f"关于{SCHOOL}2025年暑期工作安排的通知（{i}）", datetime(2025, 7, 2 + i, 9, 0),
                        ["暑期安排如下。"], department="党政办公室") for i in range(2)]
    site.pages.update(portal_site([posts[0], *fresh[::-1], *posts[1:]]))
    site.hits.clear()
    [r] = sync(cfg, store, ["portal-news"])
    assert (r.status, r.fetched, r.new, r.updated) == ("ok", 2, 2, 0)
    assert r.requests == 3  # page 1 and the two new detail pages; page 2 is not needed
    assert sorted(p for p in site.hits if "/info/" in p) == ["/portal/info/1010/9100.htm", "/portal/info/1010/9101.htm"]
    assert store.posts.count("portal-news") == 26


def test_full_sync_after_a_body_change_records_the_revision(site: SampleServer, store_url: str, store: Store) -> None:
    cfg = make_config(site, store_url)
    sync(cfg, store)
    posts = portal_posts()
    changed = posts[20]  # on the last list page
    posts[20] = SamplePost(**{**{f: getattr(changed, f) for f in changed.__slots__},  # type: ignore[attr-defined]
                              "paragraphs": ["（更正）会议时间调整为下午三点。", *changed.paragraphs]})
    site.pages.update(portal_site(posts))
    [quiet] = sync(cfg, store, ["portal-news"])
    assert quiet.updated == 0  # an incremental sync does not re-read old pages
    [full] = sync(cfg, store, ["portal-news"], full=True)
    assert (full.status, full.new, full.updated) == ("ok", 0, 1)
    post = next(p for p in posts_of(store, "portal-news") if p.title == changed.title)
    assert post.body.startswith("（更正）会议时间调整为下午三点。")
    assert [r.body.startswith("（更正）") for r in store.posts.revisions(post.id)] == [False]


def test_a_redesigned_page_fails_its_channel_and_loses_nothing(site: SampleServer, store_url: str, store: Store) -> None:
    cfg = make_config(site, store_url)
    sync(cfg, store)
    site.pages["/portal/xwzx/xxyw.htm"] = html(
        "<html><head><title>学校要闻-东湖科技大学</title></head><body><div class='news-grid'>"
        "<div class='card'><a href='../info/1010/9999.htm'>新版网站上线</a></div></div></body></html>")
    results = by_id(sync(cfg, store))
    failed = results["portal-news"]
    assert failed.status == "failed"
    assert "li[id^=line_u]" in (failed.error or "") and "/portal/xwzx/xxyw.htm" in (failed.error or "")
    assert "网站是否改版" in (failed.error or "")
    assert store.posts.count("portal-news") == EXPECTED["portal-news"]
    assert all(r.status == "ok" for k, r in results.items() if k != "portal-news")


def test_a_firewall_shell_is_a_failure_not_an_empty_list(site: SampleServer, store_url: str, store: Store) -> None:
    extra = f'[[channel]]\nid = "waf"\nkind = "html"\nurl = "{site.url}/waf/tzgg.htm"\npreset = "vsb"\n'
    [r] = sync(make_config(site, store_url, extra), store, ["waf"])
    assert r.status == "failed" and "412" in (r.error or "") and "$_ts" in (r.error or "")


def test_gbk_pages_without_a_header_charset_decode_cleanly(site: SampleServer, store_url: str, store: Store) -> None:
    sync(make_config(site, store_url), store, ["procurement-centre"])
    titles = {p.title for p in posts_of(store, "procurement-centre")}
    assert f"{SCHOOL}实验室高性能计算集群采购项目中标（成交）结果公告" in titles
    assert len(titles) == len(cgzx_posts())
    assert not any("�" in t or "Ã" in t for t in titles)


def test_procurement_posts_carry_type_and_fields(site: SampleServer, store_url: str, store: Store) -> None:
    sync(make_config(site, store_url), store, ["procurement-centre", "ccgp-results"])
    cg = {p.title.removeprefix(SCHOOL): p for p in posts_of(store, "procurement-centre")}
    assert {t: p.type for t, p in cg.items()} == {
        "实验室高性能计算集群采购项目公开招标公告": "招标公告",
        "实验室高性能计算集群采购项目中标（成交）结果公告": "中标成交公告",
        "学生公寓空调维修服务竞争性磋商公告": "磋商谈判公告",
        "学生公寓空调维修服务竞争性磋商公告的更正公告": "更正公告",
        "图书馆中文图书采购项目询价公告": "询价公告",
        "图书馆中文图书采购项目废标公告": "终止公告",
        "校园网核心交换机采购项目单一来源采购公示": "单一来源公示",
        "食堂食材配送服务项目合同公告": "合同公告",
        "学生宿舍家具采购项目履约验收结果公告": "验收公告",
        "2025年7月政府采购意向公开": "采购意向",
    }
    tender = cg["实验室高性能计算集群采购项目公开招标公告"].extra
    assert tender == {"project_code": "DHKJ-2025-CG017", "buyer": SCHOOL, "method": "公开招标", "budget": 569800.0}
    award = cg["实验室高性能计算集群采购项目中标（成交）结果公告"].extra
    assert award["award"] == 556000.0 and award["supplier"] == "武汉光谷智算科技有限公司"
    assert all(p.item == 18 and p.category == 3 for p in cg.values())
    ccgp = {p.extra["project_code"]: p for p in posts_of(store, "ccgp-results")}
    assert {p.type for p in ccgp.values()} == {"中标成交公告"}
    same = ccgp["DHKJ-2025-CG017"]  # the same project as on the centre's site: linked by 项目编号, counted per channel
    assert same.extra["award"] == 556000.0 and same.extra["buyer"] == SCHOOL
    assert same.title == f"{SCHOOL}实验室高性能计算集群采购项目中标（成交）结果公告"
    assert same.published_at == datetime(2025, 7, 10, 16, 0)
    assert [a["name"] for a in same.attachments] == ["中标通知书.pdf"]
    linked = store.posts.of_project("DHKJ-2025-CG017")
    assert sorted((p.channel_id, p.type) for p in linked) == [
        ("ccgp-results", "中标成交公告"), ("procurement-centre", "中标成交公告"), ("procurement-centre", "招标公告")]
    assert linked[-1].channel_id == "ccgp-results"  # oldest first: ccgp published the result last


def test_month_day_lists_take_the_year_from_the_detail_page(site: SampleServer, store_url: str, store: Store) -> None:
    sync(make_config(site, store_url), store, ["yjsy-admissions"])
    posts = posts_of(store, "yjsy-admissions")
    dates = sorted(p.published_at.date().isoformat() for p in posts)
    assert dates[0] == "2024-09-12" and dates[-1] == "2025-04-10"
    same_title = [p for p in posts if p.title == "关于2024年硕士研究生调剂工作的通知"]
    assert len(same_title) == 2  # same title, different articles
    assert all(len(p.attachments) == 2 and "请下载附件查阅。" in p.body for p in posts)


def test_a_backfill_interrupted_by_a_broken_page_resumes_where_it_stopped(
        site: SampleServer, store_url: str, store: Store) -> None:
    cfg = make_config(site, store_url)
    last_page = "/portal/xwzx/xxyw/1.htm"
    broken = site.pages[last_page]
    site.pages[last_page] = Resource(b"oops", "text/plain", status=500)
    [first] = sync(cfg, store, ["portal-news"], full=True)
    assert first.status == "partial" and last_page in (first.error or "")
    assert store.posts.count("portal-news") == 21  # pages 1 and 2, with the pinned notice
    site.pages[last_page] = broken
    site.hits.clear()
    [resumed] = sync(cfg, store, ["portal-news"], full=True)
    assert (resumed.status, resumed.new) == ("ok", 3)
    assert site.hits["/portal/xwzx/xxyw.htm"] == 0 and site.hits[last_page] == 1
    assert store.posts.count("portal-news") == 24


def test_since_bounds_a_backfill(site: SampleServer, store_url: str, store: Store) -> None:
    bounded = parse_config(
        f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\n'
        f'[[channel]]\nid = "p"\nkind = "html"\nurl = "{site.url}/portal/xwzx/xxyw.htm"\npreset = "vsb"\n'
        'since = "2025-06-10"\n', Path("since.toml"))
    [r] = sync(bounded, store, full=True)
    assert r.status == "ok"
    dates = [p.published_at for p in posts_of(store, "p")]
    assert dates and min(dates) >= datetime(2025, 6, 10)
    assert len(dates) == 16  # 2025-06-10 … 2025-06-30; the pinned 2024 notice is before `since`
    # Detail pages older than `since` are never fetched (9004 is 2025-06-04; 8888 the pinned 2024 notice).
    assert site.hits["/portal/info/1010/9004.htm"] == 0 and site.hits["/portal/info/1010/8888.htm"] == 0


def test_a_flaky_server_is_retried(site: SampleServer, store_url: str, store: Store) -> None:
    site.fail_next["/zsb/zsxx.htm"] = 1
    [r] = sync(make_config(site, store_url), store, ["zsb-undergrad"])
    assert (r.status, r.new) == ("ok", 11)
    assert r.requests == 14  # 13 pages + the retried one


def test_robots_txt_is_obeyed(site: SampleServer, store_url: str, store: Store) -> None:
    site.pages["/robots.txt"] = Resource(b"User-agent: *\nDisallow: /zsb/\n", "text/plain")
    [r] = sync(make_config(site, store_url), store, ["zsb-undergrad"])
    assert r.status == "failed" and "robots.txt" in (r.error or "")


def test_a_redirect_off_the_channels_hosts_is_not_followed(site: SampleServer, store_url: str, store: Store) -> None:
    port = site.url.rsplit(":", 1)[1]
    site.pages["/zsb/info/1021/5100.htm"] = Resource(b"", status=302,
                                                     headers={"Location": f"http://127.0.0.2:{port}/zsb/x.htm"})
    [r] = sync(make_config(site, store_url), store, ["zsb-undergrad"])
    assert r.status == "partial" and r.new == 11  # the post is kept from its list entry, its page never fetched
    assert "127.0.0.2" in (r.error or "") and "不在本渠道的网站范围" in (r.error or "")
    stub = next(p for p in posts_of(store, "zsb-undergrad") if p.url.endswith("/5100.htm"))
    assert stub.extra["detail"] == "missing" and "127.0.0.2" in stub.extra["detail_error"]


def test_oversized_pages_are_refused(site: SampleServer, store_url: str, store: Store) -> None:
    site.pages["/zsb/info/1021/5101.htm"] = html("<html>" + "x" * 200_000 + "</html>")
    [r] = sync(make_config(site, store_url, http="max_bytes = 100000"), store, ["zsb-undergrad"])
    assert r.status == "partial" and "超过 100,000 字节" in (r.error or "")
    assert store.posts.count("zsb-undergrad") == 11  # the oversized one from its list entry


def test_a_missing_column_is_a_failure(site: SampleServer, store_url: str, store: Store) -> None:
    extra = f'[[channel]]\nid = "gone"\nkind = "html"\nurl = "{site.url}/portal/old/tzgg.htm"\npreset = "vsb"\n'
    [r] = sync(make_config(site, store_url, extra), store, ["gone"])
    assert r.status == "failed" and "404" in (r.error or "") and "/portal/old/tzgg.htm" in (r.error or "")


def test_requests_to_one_host_keep_the_interval(site: SampleServer) -> None:
    """The transport spaces requests to a host; the waits it asks for are recorded, not slept."""
    import httpx

    from connectors.http import PoliteTransport

    waits: list[float] = []
    transport = PoliteTransport(user_agent="t", per_host_interval=0.5, obey_robots=False, sleep=waits.append)
    with httpx.Client(transport=transport) as client:
        for _ in range(4):
            client.get(site.url + "/zsb/zsxx.htm")
    # Nothing really slept, so each request is due one interval after the one before:
    # 0.5, 1.0 and 1.5 s from the first (less the little time the requests took).
    assert len(waits) == 3, waits
    assert all(0.5 * i - 0.2 < w <= 0.5 * i for i, w in enumerate(waits, 1)), waits


def test_trs_and_webplus_presets_need_only_a_url(site: SampleServer, store_url: str, store: Store) -> None:
    results = by_id(sync(make_config(site, store_url), store, ["xxgk-notices", "jwc-notices"]))
    # index.html, index_1.html (createPageHTML says 2 pages), 7 articles, 4 of them with a PDF attachment
    assert results["xxgk-notices"].requests == 2 + 7 + 4
    trs = {p.title: p for p in posts_of(store, "xxgk-notices")}
    report = trs[f"{SCHOOL}2024—2025学年信息公开工作年度报告"]
    assert report.published_at == datetime(2025, 10, 20, 10, 0) and report.department == "党政办公室"
    assert report.body == "根据有关规定，现予以公开。\n公开期限：自发布之日起30日。"
    assert report.attachments[0]["url"].endswith(".pdf") and report.source_column == "公示公告"
    wp = {p.title: p for p in posts_of(store, "jwc-notices")}
    assert len(wp) == 5 and results["jwc-notices"].requests == 2 + 5
    assert wp["关于公布2025年大学生创新创业训练计划项目立项名单的通知"].published_at == datetime(2025, 6, 13)


def test_a_pinned_notice_recurring_mid_list_stops_neither_a_first_nor_an_incremental_sync(
        store_url: str, store: Store) -> None:
    """Real VSB lists show a 置顶 notice on page 1 *and* at its own date further down: seen
    earlier in the same run, it is not "what the store already holds" and must not end the walk."""
    posts = news_posts(30)
    posts[12] = replace(posts[12], pinned=True)  # page 1's top, and its place on page 3
    with SampleServer(portal_site(posts, per_page=5)) as server:
        cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\n'
                           f'[[channel]]\nid = "news"\nkind = "html"\nurl = "{server.url}/portal/xwzx/xxyw.htm"\n'
                           'preset = "vsb"\n', Path("pin.toml"))
        [first] = sync(cfg, store)
        assert (first.status, first.new, store.posts.count("news")) == ("ok", 30, 30)
        # Five newer posts arrive: the incremental walk reads page 1 and 2 (the pinned one is
        # known to the store, above the new ones) and stops at the first page with nothing new.
        newer = news_posts(5, start=datetime(2025, 7, 20, 9, 0), first_id=9901)
        server.pages.update(portal_site(newer + posts, per_page=5))
        [second] = sync(cfg, store)
        assert (second.status, second.new, store.posts.count("news")) == ("ok", 5, 35)


def test_two_clients_of_one_process_share_each_hosts_interval(site: SampleServer) -> None:
    """The scheduler syncs channels at once on several threads: their clients book one host's turns together."""
    import httpx

    from connectors.http import HostClock, PoliteTransport

    clock = HostClock(0.5)
    waits: list[float] = []
    clients = [httpx.Client(transport=PoliteTransport(user_agent="t", per_host_interval=0.5, obey_robots=False,
                                                      sleep=waits.append, clock=clock)) for _ in range(2)]
    for i in range(4):
        clients[i % 2].get(site.url + "/zsb/zsxx.htm")
    for c in clients:
        c.close()
    assert len(waits) == 3 and all(0.5 * i - 0.2 < w <= 0.5 * i for i, w in enumerate(waits, 1)), waits


def test_procurement_facts_reach_the_export_and_amounts_are_summed(site: SampleServer, store_url: str, store: Store,
                                                                   tmp_path: Path) -> None:
    import io
    import json

    import openpyxl

    from aggregator.demo.sites import _CG_ITEMS, ccgp_posts
    from aggregator.services.export import export
    from aggregator.services.procurement import amounts_by_month, amounts_by_type, total
    from aggregator.services.report import write_workbook
    from aggregator.services.stats import Period, stats

    cfg = make_config(site, store_url)
    sync(cfg, store, ["procurement-centre", "ccgp-results"])
    out = io.StringIO()
    export(store, "jsonl", out, None)
    rows = [json.loads(line) for line in out.getvalue().splitlines()]
    facts = {r["title"].removeprefix(SCHOOL): r["procurement"] for r in rows if r["channel"] == "procurement-centre"}
    # Every announcement carries the object the contract names; what its page states, and null where silent.
    for code, title, method, budget, supplier, award in _CG_ITEMS:
        assert facts[title] == {"project_no": code, "buyer": SCHOOL if code else None, "method": method,
                                "budget": budget, "amount": award, "supplier": supplier}, title
    # The sums are of what the notices state: the centre's budgets, its awards and ccgp's (in 万元 there).
    budgets = sum(b for *_, b, _s, _a in _CG_ITEMS if b)
    awards = sum(a for *_, a in _CG_ITEMS if a) + sum(round(float(p.paragraphs[2]) * 10_000, 2) for p in ccgp_posts())
    whole = Period(None, None, "全部时间")
    table = stats(store, ["type"], whole)
    assert table.total["budget"] == budgets and table.total["award"] == awards
    assert table.total["budget_posts"] == sum(1 for *_, b, _s, _a in _CG_ITEMS if b)
    by_type = amounts_by_type(store, whole)
    assert total(by_type).budget == budgets and total(amounts_by_month(store, whole)).award == awards
    assert next(r for r in by_type if r.label == "终止公告").budget is None  # nothing stated is not 0
    # CSV: one column each; the workbook: the amounts as numbers, summed per type and per month.
    csv = io.StringIO()
    export(store, "csv", csv, None)
    header = csv.getvalue().lstrip("\ufeff").splitlines()[0].split(",")
    assert header[-6:] == ["project_no", "buyer", "method", "budget", "amount", "supplier"]
    path = write_workbook(store, cfg, Period(datetime(2024, 9, 1), datetime(2025, 9, 1), "2024-2025学年"),
                          tmp_path / "s.xlsx")
    wb = openpyxl.load_workbook(path)
    kinds = wb["采购公告类型"]
    assert [c.value for c in kinds[1]] == ["公告类型", "条数", "预算金额合计（元）", "中标/成交金额合计（元）"]
    last = [c.value for c in kinds[kinds.max_row]]
    assert last[0] == "合计" and last[2] == budgets and last[3] == awards and kinds.cell(2, 3).number_format == "#,##0.00"
    months = wb["采购金额按月"]
    assert months[months.max_row][3].value == awards and months.cell(2, 1).value == "2025-06"
