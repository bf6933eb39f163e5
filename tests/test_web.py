"""The office's web pages in a real headless Chromium against `xxgk serve` on loopback.

The store is the demo's (every sample channel synced), plus one post whose
scraped body carries a script and an `onerror=` handler, written straight to
the store so the page's own sanitising is what is tested. Screenshots of each
page are kept under `artifacts/screenshots/` (CI keeps them).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import unquote

import httpx
import openpyxl
import pytest

from storage.store import PostRecord, Store
from tests.helpers import ROOT, need_chromium, run_xxgk, serving, set_password

pytestmark = pytest.mark.slow
SHOTS = ROOT / "artifacts" / "screenshots"
PASSWORD = "office-secret-2025"
EVIL = ('<p>正文</p><script>window.pwned = 1</script><img src="x" onerror="window.pwned = 2">'
        '<a href="javascript:window.pwned=3">点我</a><p onclick="window.pwned=4">段落</p>')


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    need_chromium()
    folder = tmp_path_factory.mktemp("web")
    demo = run_xxgk("demo", "--dir", str(folder), "--no-serve", timeout=300)
    assert demo.returncode == 0, demo.stderr[-2000:]
    cfg = folder / "config.toml"
    with Store.open(f"sqlite:///{folder / 'xxgk.db'}") as store:
        store.posts.write("portal-news", [PostRecord(
            key="evil", title="含脚本的测试帖子", content_hash="evil", body="正文 段落", body_html=EVIL,
            url="https://www.example.edu.cn/info/1/evil.htm")])
    set_password(cfg, PASSWORD)
    with serving(cfg, folder) as url:
        yield url


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True,  # type: ignore[attr-defined]
                                  locale="zh-CN")
    yield context.new_page()
    context.close()


def shot(page: object, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_search_narrows_by_a_facet_and_one_character_queries_work(server: str, page: object) -> None:
    p = page
    p.goto(server + "/")  # type: ignore[attr-defined]
    p.fill("input[name=q]", "招生")  # type: ignore[attr-defined]
    p.click("form.search button")  # type: ignore[attr-defined]
    total = p.inner_text(".total")  # type: ignore[attr-defined]
    assert "共" in total and "招生" in unquote(p.url)  # type: ignore[attr-defined]
    every = int(total.split("共 ")[1].split(" 条")[0])
    assert every >= 10
    shot(p, "search")
    p.click(".facets a:has-text('研究生院·硕士招生')")  # type: ignore[attr-defined]
    narrowed = int(p.inner_text(".total").split("共 ")[1].split(" 条")[0])  # type: ignore[attr-defined]
    assert 0 < narrowed < every and "channel=yjsy-admissions" in p.url  # type: ignore[attr-defined]
    metas = p.locator("ol.hits .meta span:first-child").all_inner_texts()  # type: ignore[attr-defined]
    assert metas and set(metas) == {"研究生院·硕士招生"}
    p.goto(server + "/?q=招")  # type: ignore[attr-defined]
    assert int(p.inner_text(".total").split("共 ")[1].split(" 条")[0]) >= every  # type: ignore[attr-defined]
    assert p.locator("mark").count() > 0  # type: ignore[attr-defined]
    # Hostile input of any kind is only ever text.
    for q in ['"招生', "招生 AND OR NOT", "'; DROP TABLE posts; --", "x" * 10_000, "😀🎓", "title:* NEAR("]:
        r = httpx.get(server + "/", params={"q": q}, timeout=10)
        assert r.status_code == 200, q[:40]


def test_a_post_opens_and_scraped_script_never_runs(server: str, page: object) -> None:
    p = page
    p.goto(server + "/?q=实施细则")  # type: ignore[attr-defined]
    p.click("ol.hits li:first-child a.title")  # type: ignore[attr-defined]
    assert "/posts/" in p.url and "实施细则" in p.inner_text("h1")  # type: ignore[attr-defined]
    # Its attachments: kept copies, with type and size, downloaded (never opened as a page).
    rows = p.locator("section.attachments tbody tr")  # type: ignore[attr-defined]
    assert rows.count() == 2 and "PDF" in rows.first.inner_text() and "KB" in rows.first.inner_text()
    shot(p, "post")
    with p.expect_download() as got:  # type: ignore[attr-defined]
        rows.first.locator("a[download]").click()
    saved = got.value.path()
    assert Path(saved).read_bytes().startswith(b"%PDF") and got.value.suggested_filename.endswith(".pdf")
    p.goto(server + "/?q=含脚本的测试帖子")  # type: ignore[attr-defined]
    p.click("ol.hits li:first-child a.title")  # type: ignore[attr-defined]
    p.wait_for_load_state("load")  # type: ignore[attr-defined]
    for selector in ("img", "a:has-text('点我')", "p:has-text('段落')"):
        if p.locator(f".body {selector}").count():  # type: ignore[attr-defined]
            p.locator(f".body {selector}").first.click(force=True, timeout=2000)  # type: ignore[attr-defined]
    time.sleep(0.3)
    assert p.evaluate("window.pwned") is None  # type: ignore[attr-defined]
    html = p.inner_html(".body")  # type: ignore[attr-defined]
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html
    csp = httpx.get(p.url, timeout=10).headers["content-security-policy"]  # type: ignore[attr-defined]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_stats_downloads_an_xlsx_that_reads_back(server: str, page: object, tmp_path: Path) -> None:
    p = page
    p.goto(server + "/stats?year=2024-2025")  # type: ignore[attr-defined]
    assert p.locator("svg.chart rect.bar").count() == 12  # type: ignore[attr-defined]
    shot(p, "stats")
    with p.expect_download() as info:  # type: ignore[attr-defined]
        p.click("a:has-text('XLSX')")  # type: ignore[attr-defined]
    path = tmp_path / "stats.xlsx"
    info.value.save_as(path)
    wb = openpyxl.load_workbook(path)
    assert len(wb.sheetnames) >= 2
    values = [c for row in wb[wb.sheetnames[0]].iter_rows(values_only=True) for c in row if c is not None]
    assert any(isinstance(v, str) and "学校门户" in v for v in values)
    p.goto(server + "/coverage?year=2024-2025")  # type: ignore[attr-defined]
    assert p.locator("table.coverage tbody tr").count() == 50  # type: ignore[attr-defined]
    assert p.locator("tr.gap").count() > 0  # type: ignore[attr-defined]
    shot(p, "coverage")
    p.goto(server + "/channels")  # type: ignore[attr-defined]
    assert p.locator("span.state").count() >= 10  # type: ignore[attr-defined]
    shot(p, "channels")


def test_an_admin_signs_in_and_retags_a_post(server: str, page: object) -> None:
    p = page
    p.goto(server + "/?q=实施细则")  # type: ignore[attr-defined]
    p.click("ol.hits li:first-child a.title")  # type: ignore[attr-defined]
    post_url = p.url  # type: ignore[attr-defined]
    assert p.locator("form.retag").count() == 0  # type: ignore[attr-defined]
    p.goto(server + "/login")  # type: ignore[attr-defined]
    p.fill("input[name=password]", "wrong-password")  # type: ignore[attr-defined]
    p.click("form.login button")  # type: ignore[attr-defined]
    assert "密码不正确" in p.inner_text("main")  # type: ignore[attr-defined]
    p.fill("input[name=password]", PASSWORD)  # type: ignore[attr-defined]
    p.click("form.login button")  # type: ignore[attr-defined]
    cookie = next(c for c in p.context.cookies() if c["name"] == "xxgk_session")  # type: ignore[attr-defined]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    p.goto(post_url)  # type: ignore[attr-defined]
    p.select_option("form.retag select[name=item]", "2")  # type: ignore[attr-defined]
    p.click("form.retag button")  # type: ignore[attr-defined]
    assert "清单第 2 项" in p.inner_text("#tag") and "人工标注" in p.inner_text("#tag")  # type: ignore[attr-defined]
    shot(p, "post-retagged")
    p.goto(server + "/channels")  # type: ignore[attr-defined]
    assert p.locator("button:has-text('立即同步')").count() >= 10  # type: ignore[attr-defined]


def test_writes_without_sign_in_or_csrf_are_refused(server: str, page: object) -> None:
    post = server + "/posts/1/tag"
    anonymous = httpx.post(post, data={"item": "3", "csrf": "x"}, timeout=10)
    assert anonymous.status_code == 403 and "登录" in anonymous.text
    with httpx.Client(base_url=server, timeout=10) as admin:
        signed = admin.post("/login", data={"password": PASSWORD})
        assert signed.status_code == 303
        no_token = admin.post("/posts/1/tag", data={"item": "3"})
        assert no_token.status_code == 403 and "CSRF" in no_token.text
        forged = admin.post("/posts/1/tag", data={"item": "3", "csrf": "forged"})
        assert forged.status_code == 403
        sync_now = admin.post("/channels/oa/sync", data={})
        assert sync_now.status_code == 403
    r = httpx.get(server + "/api/search", params={"q": "招生"}, timeout=10).json()
    assert r["total"] > 0 and set(r["results"][0]) == {"id", "channel", "title", "url", "published_at", "item",
                                                        "category"}
    assert httpx.get(server + "/api/docs", timeout=10).status_code == 200
    # Bad parameters are a 400 saying which, on every face — never a 500.
    for path, params in (("/search.csv", {"from": "bad"}), ("/api/search", {"year": "x"}),
                         ("/feed.atom", {"month": "2025-13"}), ("/", {"to": "2025-02-30"}),
                         ("/stats", {"year": "2024"}), ("/api/stats", {"by": "nonsense"}),
                         ("/api/stats", {"year": "2024"}), ("/api/coverage", {"from": "bad"}),
                         ("/stats.xlsx", {"year": "x"})):
        r = httpx.get(server + path, params=params, timeout=10)
        assert r.status_code in (200, 400) and "Traceback" not in r.text, (path, r.status_code)
        assert r.status_code == 400 or "出错" in r.text or "不是日期" in r.text, (path, r.text[:200])
        if path.startswith(("/api/", "/stats.")):
            assert r.status_code == 400 and ("学年应写作" in r.text or "不是日期" in r.text or "--by" in r.text), path
    feed = httpx.get(server + "/feed.atom", params={"q": "招生", "channel": "yjsy-admissions"}, timeout=10)
    assert feed.headers["content-type"].startswith("application/atom+xml") and "/posts/" in feed.text





def test_the_compliance_page_shows_each_status_with_its_dates_and_source(server: str, page: object) -> None:
    p = page
    p.goto(server + "/compliance")  # type: ignore[attr-defined]
    summary = p.inner_text("p.summary")  # type: ignore[attr-defined]
    for status in ("逾期", "公示期不足", "缺失", "按时", "无法判断"):
        assert status in summary, summary
    late = p.inner_text("section.findings.late")  # type: ignore[attr-defined]
    assert "合同签订日期 2025-06-10" in late and "政府采购法实施条例" in late
    short = p.inner_text("section.findings.short")  # type: ignore[attr-defined]
    assert "2025-06-03 至 2025-06-05" in short and "只有 3 个工作日" in short
    p.click("section.findings.short a")  # type: ignore[attr-defined]
    assert "/posts/" in p.url  # type: ignore[attr-defined]
    p.goto(server + "/compliance")  # type: ignore[attr-defined]
    shot(p, "compliance")
    api = httpx.get(server + "/api/compliance", params={"year": "2024-2025"}, timeout=10).json()
    assert api["year"] == "2024-2025" and {f["status"] for f in api["findings"]} >= {"late", "short", "ok"}
    assert httpx.get(server + "/api/compliance", params={"on": "2025-13-01"}, timeout=10).status_code == 400


def test_the_api_docs_render_with_every_request_outside_the_app_refused(server: str, page: object) -> None:
    """Offices run on intranets: /api/docs loads nothing from a CDN."""
    from urllib.parse import urlsplit

    p = page
    outside: list[str] = []

    def only_the_app(route: object) -> None:
        url = route.request.url  # type: ignore[attr-defined]
        if urlsplit(url).netloc == urlsplit(server).netloc:
            route.continue_()  # type: ignore[attr-defined]
        else:
            outside.append(url)
            route.abort()  # type: ignore[attr-defined]

    p.route("**/*", only_the_app)  # type: ignore[attr-defined]
    p.goto(server + "/api/docs")  # type: ignore[attr-defined]
    p.wait_for_selector(".swagger-ui .info .title", timeout=15000)  # type: ignore[attr-defined]
    assert "xxgk" in p.inner_text(".swagger-ui .info .title")  # type: ignore[attr-defined]
    assert p.locator(".opblock").count() >= 5 and outside == []  # type: ignore[attr-defined]
    shot(p, "api-docs")


def test_a_malformed_parameter_is_a_chinese_400_page_not_framework_json(server: str) -> None:
    page = httpx.get(server + "/posts/abc", timeout=10)
    assert page.status_code == 400 and "出错了" in page.text and "post_id 应为整数" in page.text
    assert "detail" not in page.text and page.headers["content-type"].startswith("text/html")
    api = httpx.get(server + "/api/posts/abc", timeout=10)
    assert api.status_code == 400 and "post_id 应为整数" in api.json()["error"]
    assert httpx.get(server + "/", params={"page": "0"}, timeout=10).status_code == 400
    # A month or year that is no month or year: said in Chinese on the page, and a 400 from the API and the feed.
    shown = httpx.get(server + "/", params={"month": "2025-13"}, timeout=10)
    assert "month：" in shown.text and "不是月份" in shown.text and "must be" not in shown.text
    for path in ("/api/search", "/feed.atom", "/search.csv"):
        bad = httpx.get(server + path, params={"month": "2025-13"}, timeout=10)
        assert bad.status_code == 400 and "不是月份" in bad.text and "must be" not in bad.text, path
    assert "学年应写作" in httpx.get(server + "/api/search", params={"year": "2025"}, timeout=10).json()["error"]
    march = httpx.get(server + "/api/search", params={"month": "2025-03", "limit": "200"}, timeout=10).json()
    assert march["results"] and all(r["published_at"].startswith("2025-03") for r in march["results"])


def test_stats_and_coverage_open_on_the_newest_year_with_posts(server: str, page: object) -> None:
    p = page
    for path in ("/stats", "/coverage"):
        p.goto(server + path)  # type: ignore[attr-defined]
        options = p.locator("select[name=year] option").all_inner_texts()  # type: ignore[attr-defined]
        chosen = p.locator("select[name=year] option:checked").inner_text()  # type: ignore[attr-defined]
        newer = options[:options.index(chosen)]
        assert not chosen.endswith("（0 条）") and all(o.endswith("（0 条）") for o in newer), (path, options)
        assert newer, "the current academic year has no posts in the demo: the page must not open on it"
        year = chosen.split("（")[0]
        assert f"{year}学年" in p.inner_text("h1"), path  # type: ignore[attr-defined]
        rows = httpx.get(server + "/api/stats", params={"year": year, "by": "channel"}, timeout=10).json()["rows"]
        assert sum(r["count"] for r in rows) == int(chosen.split("（")[1].split(" ")[0])
    # The stats page says the year's total and how it compares with the year before (when that has posts).
    p.goto(server + "/stats")  # type: ignore[attr-defined]
    options = p.locator("select[name=year] option").all_inner_texts()  # type: ignore[attr-defined]
    counts = {o.split("（")[0]: int(o.split("（")[1].split(" ")[0]) for o in options}
    year = p.locator("select[name=year] option:checked").inner_text().split("（")[0]  # type: ignore[attr-defined]
    lead = p.inner_text("p.lead")  # type: ignore[attr-defined]
    assert lead.startswith(f"共发布 {counts[year]} 条")
    start = int(year[:4])
    before = counts.get(f"{start - 1}-{start}", 0)
    assert (f"上学年 {before} 条" in lead) == bool(before), lead


def test_a_procurement_post_shows_its_facts_and_its_project_and_stats_sum_the_amounts(server: str,
                                                                                      page: object) -> None:
    found = httpx.get(server + "/api/search", params={"q": "高性能计算集群 公开招标公告", "channel": "procurement-centre"},
                      timeout=10).json()["results"]
    [tender] = [r for r in found if r["title"].endswith("公开招标公告")]
    api = httpx.get(server + f"/api/posts/{tender['id']}", timeout=10).json()
    assert api["procurement"]["project_no"] == "DHKJ-2025-CG017" and api["procurement"]["amount"] is None
    p = page
    p.goto(server + f"/posts/{tender['id']}")  # type: ignore[attr-defined]
    facts = p.inner_text("section.procurement")  # type: ignore[attr-defined]
    budget = api["procurement"]["budget"]
    assert "项目编号\nDHKJ-2025-CG017" in facts and f"{budget:,.2f} 元" in facts
    assert "中标/成交金额\n页面未写明" in facts
    why = p.inner_text("section.tagbox")  # type: ignore[attr-defined]
    assert "渠道设置的清单事项" in why and "channel item" not in why  # the rule's name in the office's words
    # The project's other announcements, on this channel and on 中国政府采购网, one click away.
    others = p.locator("ul.project a").all_inner_texts()  # type: ignore[attr-defined]
    assert len(others) == 2 and all("高性能计算集群" in t for t in others)
    shot(p, "post-procurement")
    p.goto(server + "/stats?year=2024-2025")  # type: ignore[attr-defined]
    buying = p.inner_text("table.buying")  # type: ignore[attr-defined]
    assert "招标公告" in buying and f"{budget:,.2f}" in buying and "合计" in buying
    shot(p, "stats-procurement")


def test_a_search_downloads_as_the_office_reads_it(server: str, page: object, tmp_path: Path) -> None:
    p = page
    p.goto(server + "/?q=" + "拟录取")  # type: ignore[attr-defined]
    with p.expect_download() as info:  # type: ignore[attr-defined]
        p.click("a:has-text('XLSX')")  # type: ignore[attr-defined]
    assert info.value.suggested_filename.startswith("检索-拟录取-")  # named after the query
    path = tmp_path / "search.xlsx"
    info.value.save_as(path)
    ws = openpyxl.load_workbook(path).active
    header = [c.value for c in ws[1]]
    assert header == ["标题", "渠道", "发布日期", "清单事项", "清单类别", "发布部门", "类型", "本站链接", "原文链接"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref and all(c.font.bold for c in ws[1])
    found = httpx.get(server + "/api/search", params={"q": "拟录取", "limit": 1000}, timeout=10).json()["results"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(found) > 0
    for row, r in zip(rows, found, strict=True):
        assert row[0] == r["title"] and row[7] == f"{server}/posts/{r['id']}" and row[8] == r["url"]
        assert isinstance(row[2], datetime) and row[2].date().isoformat() == r["published_at"][:10]
        if r["item"]:
            assert row[3].startswith(f"{r['item']}. ") and len(row[3]) > 6  # the item's name, not its number


def test_search_names_items_marks_title_hits_and_says_when_a_label_is_cut(server: str, page: object) -> None:
    from aggregator.qingdan import items

    p = page
    p.goto(server + "/?q=" + "拟录取")  # type: ignore[attr-defined]
    # The query's words are marked in the titles, and only they.
    marks = p.locator("ol.hits a.title mark").all_inner_texts()  # type: ignore[attr-defined]
    assert marks and set(marks) == {"拟录取"}
    # A result's tag names its 清单 item, not only its number.
    tag = p.locator("ol.hits .tag").first.inner_text()  # type: ignore[attr-defined]
    number = int(tag.split("第 ")[1].split(" 项")[0])
    assert tag.startswith(f"清单第 {number} 项 · ") and items()[number].text[:6] in tag
    # Facet labels cut short end in 「…」 and carry the whole one; the chip of a chosen item names it.
    p.goto(server + "/?q=" + "采购")  # type: ignore[attr-defined]  (item 18's name is long)
    cut = p.locator(".facets a[title]")  # type: ignore[attr-defined]
    assert cut.count() > 0
    for i in range(cut.count()):
        label, whole = cut.nth(i).inner_text(), cut.nth(i).get_attribute("title")
        assert label.endswith("…") and whole.startswith(label[:-1]) and len(whole) > len(label)
    p.goto(server + "/?q=" + "拟录取")  # type: ignore[attr-defined]
    first_item = p.locator(".facets section:has(h3:text('清单事项')) a").first  # type: ignore[attr-defined]
    first_item.click()
    chip = p.inner_text("a.chip")  # type: ignore[attr-defined]
    chosen = int(p.url.split("item=")[1].split("&")[0])  # type: ignore[attr-defined]
    assert chip.startswith(f"事项：{chosen}. ") and items()[chosen].text[:4] in chip
    shot(p, "search-items")


def test_coverage_downloads_as_a_sheet_and_as_the_report_appendix(server: str, page: object, tmp_path: Path) -> None:
    from docx import Document

    p = page
    p.goto(server + "/coverage?year=2024-2025")  # type: ignore[attr-defined]
    shown = [int(t) for t in p.locator("table.coverage tbody td:nth-child(4)").all_inner_texts()]  # type: ignore[attr-defined]
    got = {}
    for fmt, link in (("xlsx", "XLSX"), ("docx", "DOCX")):
        with p.expect_download() as info:  # type: ignore[attr-defined]
            p.click(f"p a:has-text('{link}')")  # type: ignore[attr-defined]
        assert info.value.suggested_filename == f"清单覆盖-2024-2025学年.{fmt}"
        got[fmt] = tmp_path / f"c.{fmt}"
        info.value.save_as(got[fmt])
    ws = openpyxl.load_workbook(got["xlsx"]).active
    assert [r[3] for r in ws.iter_rows(min_row=2, max_row=51, values_only=True)] == shown
    table = Document(str(got["docx"])).tables[0]
    assert [c.text for c in table.rows[0].cells] == ["事项", "类别", "内容", "条数", "最新发布"]
    assert [int(r.cells[3].text) for r in table.rows[1:]] == shown and len(shown) == 50
    assert all(r.cells[4].text == "本期未发布" for r in table.rows[1:] if r.cells[3].text == "0")
    assert httpx.get(server + "/coverage.pdf", timeout=10).status_code == 404


def test_the_search_form_narrows_by_publication_dates(server: str, page: object) -> None:
    p = page
    p.goto(server + "/?q=" + "招生")  # type: ignore[attr-defined]
    every = int(p.inner_text(".total").split("共 ")[1].split(" 条")[0])  # type: ignore[attr-defined]
    p.fill("input[name=from]", "2025-05-01")  # type: ignore[attr-defined]
    p.fill("input[name=to]", "2025-05-31")  # type: ignore[attr-defined]
    p.click("form.search button")  # type: ignore[attr-defined]
    may = int(p.inner_text(".total").split("共 ")[1].split(" 条")[0])  # type: ignore[attr-defined]
    dates = p.locator("ol.hits .meta span:nth-child(2)").all_inner_texts()  # type: ignore[attr-defined]
    assert 0 < may < every and len(dates) == min(may, 20) and all(d.startswith("2025-05") for d in dates)
    assert p.input_value("input[name=from]") == "2025-05-01"  # type: ignore[attr-defined]
    shot(p, "search-dates")


ENGLISH = re.compile(r"\b[A-Za-z][a-z']+(?:[ ,;:]+[A-Za-z][a-z']+){3,}\b")  # four English words in a row


def test_no_page_an_office_user_reads_shows_an_english_sentence(server: str, page: object) -> None:
    assert ENGLISH.search("skipped 1: detail page not read") and not ENGLISH.search("下载：XLSX CSV · 订阅（Atom）")
    p = page
    post = httpx.get(server + "/api/search", params={"q": "公开招标", "limit": 1}, timeout=10).json()["results"][0]
    paths = ["/", "/?q=招生", "/?q=拟录取&item=13", "/stats", "/coverage", "/compliance", "/channels", "/login",
             f"/posts/{post['id']}", "/posts/999999", "/posts/abc", "/?month=2025-13", "/stats?year=x", "/nothing-here"]
    for path in paths:
        p.goto(server + path)  # type: ignore[attr-defined]
        text = p.inner_text("body")  # type: ignore[attr-defined]
        found = [m for m in ENGLISH.findall(text) if "xxgk" not in m]
        assert not found, (path, found[:5])
        # Every answer, an unknown address included, is a page of the site with its way back — never JSON.
        assert "信息公开聚合" in text and '"detail"' not in text and "Not Found" not in text, (path, text[:200])


def test_stats_show_followers_and_video_views_from_the_exports(server: str, page: object) -> None:
    from datetime import date

    from aggregator.demo.files import VIDEOS, follower_days

    p = page
    p.goto(server + "/stats?year=2024-2025")  # type: ignore[attr-defined]
    text = p.inner_text("#platforms")  # type: ignore[attr-defined]
    days = [d for d in follower_days() if date(2024, 9, 1) <= d[0] < date(2025, 9, 1)]
    views = sum(v[2] for v in VIDEOS if "2024-09-01" <= v[1] < "2025-09-01")
    assert f"{days[-1][3]:,}" in text and f"{sum(d[1] for d in days):,}" in text and f"{views:,}" in text
    assert "数据至 2025-08-31" in text
    # The 视频号's views are not read as articles' reads.
    assert "官方视频号" not in p.inner_text("section:has(> h2:text('微信阅读'))")  # type: ignore[attr-defined]
    shot(p, "stats-platforms")


def test_the_same_notice_on_two_channels_is_one_result_with_see_also(server: str, page: object) -> None:
    """The 研究生院's 拟录取名单 and the official account's post of it: one result, 「另见」 the other;
    the API keeps both as results (each channel's count unchanged) and names the twin."""
    api = httpx.get(server + "/api/search", params={"q": "硕士研究生拟录取名单", "also": "1"}, timeout=10).json()
    by_channel = {r["channel"]: r for r in api["results"]}
    yjsy, wechat = by_channel["yjsy-admissions"], by_channel["wechat-official"]
    assert [a["id"] for a in yjsy["also"]] == [wechat["id"]] and [a["id"] for a in wechat["also"]] == [yjsy["id"]]
    facets = httpx.get(server + "/api/search", params={"q": "硕士研究生拟录取名单", "channel": "yjsy-admissions"},
                       timeout=10).json()
    assert facets["total"] == 1
    p = page
    p.goto(server + "/?" + "q=硕士研究生拟录取名单")  # type: ignore[attr-defined]
    hits = p.locator("ol.hits > li")  # type: ignore[attr-defined]
    assert hits.count() == api["total"] - 1  # the twin is folded under its first copy
    also = p.locator("p.also a")  # type: ignore[attr-defined]
    assert also.count() == 1 and "研究生院" in also.inner_text()
    assert f"共 {api['total']} 条" in p.inner_text("p.total")  # type: ignore[attr-defined]
    also.click()
    p.wait_for_url("**/posts/*")  # type: ignore[attr-defined]
    assert p.url.rsplit("/", 1)[-1] in (str(yjsy["id"]), str(wechat["id"]))  # type: ignore[attr-defined]
    p.go_back()  # type: ignore[attr-defined]
    shot(p, "search-see-also")


def test_a_page_cache_computes_a_result_once_however_many_requests_ask_for_it() -> None:
    """Requests arriving while a result is computed wait for it instead of computing it too; a
    failed computation is tried again by the next one."""
    import threading

    from aggregator.web.views import TtlCache

    cache, calls, got = TtlCache(seconds=60), [], []

    def slow() -> str:
        calls.append(1)
        time.sleep(0.3)
        return "facets"

    threads = [threading.Thread(target=lambda: got.append(cache.get(("q",), slow))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert got == ["facets"] * 8 and len(calls) == 1

    def broken() -> str:
        raise RuntimeError("store gone")

    with pytest.raises(RuntimeError):
        cache.get(("other",), broken)
    assert cache.get(("other",), lambda: "again") == "again"
