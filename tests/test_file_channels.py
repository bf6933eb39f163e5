"""WeChat exports, table exports and feeds: one post per article whatever file it came from,
the newest counts with their history, bad files named and skipped, feeds polled politely."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from aggregator.config import parse_config
from aggregator.demo import files as samples
from aggregator.demo.server import Resource, SampleServer
from aggregator.services.stats import date_range, stats
from aggregator.services.sync import sync
from connectors import files as filelib
from connectors.wechat import article_key, canonical_link
from storage.store import Store

WX = samples.ARTICLES


def config(store_url: str, tmp: Path, extra: str = "") -> object:
    text = f'''[store]
url = "{store_url}"
[[channel]]
id = "wx"
kind = "wechat"
group = "微信公众号"
path = "{(tmp / "wx").as_posix()}"
[[channel]]
id = "oa"
kind = "table"
group = "学校OA"
path = "{(tmp / "oa").as_posix()}"
  [channel.columns]
  key = "文号"
  title = "标题"
  date = "发布日期"
  department = "发布部门"
  body = "正文"
{extra}'''
    return parse_config(text, tmp / "c.toml")


@pytest.fixture
def exports(tmp_path: Path) -> Path:
    samples.write_wechat_exports(tmp_path / "wx")
    samples.write_oa_export(tmp_path / "oa" / "oa-export.csv")
    return tmp_path


def by_key(store: Store, channel: str) -> dict[str, dict]:  # type: ignore[type-arg]
    return {r["key"]: store.posts.get(channel, r["key"]) for r in store.posts.iter_rows() if r["channel_id"] == channel}


def test_one_article_in_json_xlsx_and_a_saved_page_is_one_post_with_the_newest_counts(
        exports: Path, store_url: str, store: Store) -> None:
    results = {r.id: r for r in sync(config(store_url, exports), store)}  # type: ignore[arg-type]
    assert (results["wx"].status, results["wx"].new) == ("ok", len(WX) + 1)  # + the deleted article
    assert (results["oa"].status, results["oa"].new) == ("ok", len(samples.OA_ROWS))
    posts = by_key(store, "wx")
    mid, idx, title, when, reads, likes = WX[2]  # in the JSON, the (newer) XLSX and a raw saved page
    post = posts[f"{samples.BIZ}:{mid}:{idx}"]
    assert post.title == title and post.published_at == datetime.strptime(when, "%Y-%m-%d %H:%M")
    assert (post.reads, post.likes) == (int(reads * 1.5), int(likes * 1.5))  # the XLSX is newer
    history = store.posts.count_history(post.id)
    assert [(h.reads, h.likes) for h in history] == [(reads, likes), (int(reads * 1.5), int(likes * 1.5))]
    assert post.department == samples.SCHOOL and post.extra["status"] == "ok"
    assert "（来源：党委宣传部）" in post.body and "evil" not in (post.body_html or "")
    assert post.url == f"https://mp.weixin.qq.com/s?__biz={samples.BIZ}&mid={mid}&idx={idx}&sn=3f9d{mid % 10000:04d}{idx}"
    statuses = {p.extra["status"] for p in posts.values()}
    assert statuses == {"ok", "image", "deleted"}
    # The office's figure: reads per account = the newest count of each article.
    newest = {k: (int(r * 1.5) if i < 6 else r) for i, (*k, r, _l) in enumerate(WX) for k in [tuple(k[:2])]}
    table = stats(store, ["channel"], date_range(None, None))
    assert {r["channel"]: r["reads"] for r in table.rows}["wx"] == sum(newest.values())


def test_a_second_sync_with_no_new_files_does_no_work(exports: Path, store_url: str, store: Store) -> None:
    cfg = config(store_url, exports)
    sync(cfg, store)  # type: ignore[arg-type]
    again = sync(cfg, store)  # type: ignore[arg-type]
    assert [(r.status, r.fetched, r.new, r.updated) for r in again] == [("ok", 0, 0, 0)] * 2


def test_an_older_export_imported_late_does_not_turn_the_counts_back(exports: Path, store_url: str,
                                                                    store: Store) -> None:
    cfg = config(store_url, exports)
    sync(cfg, store)  # type: ignore[arg-type]
    old = exports / "wx" / "2025-08-旧导出.json"
    old.write_text(json.dumps(samples.exporter_json(0.5), ensure_ascii=False), encoding="utf-8")
    stamp = datetime(2025, 8, 31, 12, 0).timestamp()
    os.utime(old, (stamp, stamp))
    [wx] = sync(cfg, store, ["wx"])  # type: ignore[arg-type]
    assert (wx.fetched, wx.new, wx.updated) == (len(WX), 0, 0)
    mid, idx, _t, _w, reads, _l = WX[0]
    post = by_key(store, "wx")[f"{samples.BIZ}:{mid}:{idx}"]
    assert post.reads == int(reads * 1.5)
    assert [h.reads for h in store.posts.count_history(post.id)] == [int(reads * 0.5), reads, int(reads * 1.5)]


def test_bad_files_and_rows_are_named_and_everything_else_is_stored(exports: Path, store_url: str,
                                                                   store: Store) -> None:
    wx = exports / "wx"
    (wx / "截断.json").write_text(json.dumps(samples.exporter_json(2.0)[:3], ensure_ascii=False)[:-40], encoding="utf-8")
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.append(["名称", "地址"])
    wb.save(wx / "别的表.xlsx")
    (wx / "网页" / "不是文章.html").write_text("<html><body>学校主页</body></html>", encoding="utf-8")
    samples.write_oa_export(exports / "oa" / "oa-export.csv", bad_row=True)
    results = {r.id: r for r in sync(config(store_url, exports), store)}  # type: ignore[arg-type]
    assert results["wx"].status == "partial" and results["oa"].status == "partial"
    error = results["wx"].error or ""
    assert "截断.json" in error and "出错之前的文章已导入" in error
    assert "别的表.xlsx" in error and "需要「标题」列" in error
    assert "不是文章.html" in error and "不是微信文章页面" in error
    assert "oa-export.csv 第 8 行" in (results["oa"].error or "") and "2025-13-45" in (results["oa"].error or "")
    assert store.posts.count("wx") == len(WX) + 1 and store.posts.count("oa") == len(samples.OA_ROWS)


def test_table_exports_in_gbk_xlsx_and_json(tmp_path: Path, store_url: str, store: Store) -> None:
    oa = tmp_path / "oa"
    oa.mkdir()
    (oa / "gbk.csv").write_bytes("文号,标题,发布日期,发布部门\nA1,关于开展安全检查的通知,2025年03月02日,保卫处\n".encode("gbk"))
    from openpyxl import Workbook
    wb = Workbook()
    wb.active.append(["文号", "标题", "发布日期", "发布部门"])
    wb.active.append(["A2", "学校召开工作会议", datetime(2025, 3, 3, 9, 30), "党政办公室"])
    wb.active.append(["A3", "Excel 日期序号", 45719, "党政办公室"])
    wb.save(oa / "b.xlsx")
    (oa / "c.json").write_text(json.dumps([{"文号": "A4", "标题": "JSON 导出", "发布日期": "2025/03/04"}],
                                          ensure_ascii=False), encoding="utf-8")
    (tmp_path / "wx").mkdir()
    [r] = sync(config(store_url, tmp_path), store, ["oa"])  # type: ignore[arg-type]
    assert (r.status, r.new) == ("ok", 4), r.error
    posts = by_key(store, "oa")
    assert posts["A1"].title == "关于开展安全检查的通知" and posts["A1"].department == "保卫处"
    assert posts["A2"].published_at == datetime(2025, 3, 3, 9, 30)
    assert posts["A3"].published_at == datetime(2025, 3, 3)
    assert posts["A4"].published_at == datetime(2025, 3, 4)


def test_json_is_streamed_across_chunk_boundaries(tmp_path: Path) -> None:
    records = samples.exporter_json()
    path = tmp_path / "a.json"
    path.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    assert list(filelib.iter_json_records(path, chunk=7)) == records
    path.write_text(json.dumps({"data": records[:2]}, ensure_ascii=False), encoding="utf-8")
    assert list(filelib.iter_json_records(path, chunk=7)) == records[:2]


def test_wechat_links_normalise_to_one_key() -> None:
    long = samples.link(2651000990, 1)
    escaped = samples.link(2651000990, 1, escaped=True)
    assert article_key(long) == article_key(escaped) == f"{samples.BIZ}:2651000990:1"
    assert article_key(long.replace("&", "\\x26")) == article_key(long)
    assert article_key("https://mp.weixin.qq.com/s/Xq3vD9LkPzR1uAa2bC4dEw?from=timeline") == "s:Xq3vD9LkPzR1uAa2bC4dEw"
    assert canonical_link("https://mp.weixin.qq.com/s/AbC?scene=1") == "https://mp.weixin.qq.com/s/AbC"


@pytest.fixture
def feed_site() -> Iterator[SampleServer]:
    with SampleServer({"/feed/xxgk.xml": samples.rss_feed(),
                       "/robots.txt": Resource(b"User-agent: *\n", "text/plain")}) as server:
        yield server


def test_a_feed_is_read_and_a_quiet_poll_is_one_304(feed_site: SampleServer, tmp_path: Path, store_url: str,
                                                    store: Store) -> None:
    cfg = parse_config(f'[store]\nurl = "{store_url}"\n[http]\nper_host_interval = 0.0\n[[channel]]\nid = "rss"\n'
                       f'kind = "feed"\nurl = "{feed_site.url}/feed/xxgk.xml"\n', tmp_path / "c.toml")
    [first] = sync(cfg, store)
    assert (first.status, first.new) == ("ok", 3)
    post = store.posts.get("rss", "xxgk-feed-9501")
    assert post is not None and post.published_at == datetime(2025, 7, 1, 10, 0)
    assert post.title == f"{samples.SCHOOL}2025年部门预算公开" and post.item == 19
    feed_site.hits.clear()
    [second] = sync(cfg, store)
    assert (second.status, second.new, second.requests) == ("ok", 0, 1)
    assert feed_site.hits["/feed/xxgk.xml"] == 1
    feed_site.pages["/feed/xxgk.xml"] = Resource(b"<html><body>Site under maintenance</body></html>", "text/html")
    [broken] = sync(cfg, store)
    assert broken.status == "failed" and "不是 RSS 或 Atom 订阅源" in (broken.error or "")
    assert store.posts.count("rss") == 3


def test_captcha_and_deleted_pages_are_recognised_not_stored_as_empty_articles() -> None:
    from connectors.wechat import from_page

    captcha = ('<html><head><meta property="og:url" content="' + samples.link(2651000977, 1) + '"></head><body>'
               '<div class="weui-msg">环境异常</div><p>完成验证后即可继续访问</p>'
               '<script src="//res.wx.qq.com/wappoc_appmsgcaptcha/x.js"></script></body></html>')
    post = from_page(captcha)
    assert not isinstance(post, str) and post.extra["status"] == "captcha" and post.title == "（需验证，未能读取）"
    deleted = from_page(samples.DELETED_PAGE)
    assert not isinstance(deleted, str) and deleted.extra["status"] == "deleted"
    assert from_page("<html><body>学校主页</body></html>") == "不是微信文章页面（没有 mp.weixin.qq.com 的标记），未保存"
