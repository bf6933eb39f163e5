"""Sample export files and a feed, shaped like what offices really get (docs/sites.md):

- wechat-article-exporter JSON (`aid`, `link`, `create_time`, `readNum`, `oldLikeNum`, …),
- its XLSX (sheet 微信公众号文章, Chinese headers) exported later, with newer counts,
- saved article pages: raw server HTML (`og:title`, `var ct`, hidden `#js_content`,
  `data-src` images) and a browser-rendered save (`#publish_time` filled),
  plus a deleted article and a captcha page,
- an OA export CSV (UTF-8 with BOM, 文号/标题/发布日期/发布部门/正文/链接),
- an RSS 2.0 feed (as a site or an RSSHub route serves it).
"""

from __future__ import annotations

import html
import json
import os
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from aggregator.demo.server import Resource

SCHOOL = "东湖科技大学"
BIZ = "MzA5NjQ1MTE2Mw=="
CST = timezone(timedelta(hours=8))

ARTICLES = [
    (2651001001, 1, "开学季｜欢迎2025级新同学来到东湖科大！", "2025-09-01 10:00", 52310, 1203),
    (2651001001, 2, "新生入学须知：报到流程一图读懂", "2025-09-01 10:00", 18320, 406),
    (2651000990, 1, f"{SCHOOL}2025年本科招生章程发布", "2025-06-10 18:30", 30121, 770),
    (2651000975, 1, "权威发布｜2025年硕士研究生拟录取名单公示", "2025-04-11 09:00", 9021, 150),
    (2651000960, 1, "校长寄语2025届毕业生：向光而行", "2025-06-22 20:00", 41230, 2310),
    (2651000951, 1, "关于2025年端午节放假安排的通知", "2025-05-28 17:00", 6120, 88),
    (2651000940, 1, f"{SCHOOL}2024—2025学年信息公开工作年度报告", "2025-10-20 09:30", 2410, 31),
    (2651000933, 1, "图说｜樱花季的东湖校园", "2025-03-21 12:00", 25510, 1320),
]


def _ts(text: str) -> int:
    return int(datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=CST).timestamp())


def link(mid: int, idx: int, *, escaped: bool = False) -> str:
    amp = "&amp;" if escaped else "&"
    return (f"https://mp.weixin.qq.com/s?__biz={BIZ}{amp}mid={mid}{amp}idx={idx}{amp}sn=3f9d{mid % 10000:04d}{idx}"
            f"{amp}chksm=8b1a2c{amp}scene=27#wechat_redirect")


def exporter_json(scale: float = 1.0) -> list[dict[str, Any]]:
    out = []
    for mid, idx, title, when, reads, likes in ARTICLES:
        out.append({
            "aid": f"{mid}_{idx}", "title": title, "link": link(mid, idx), "digest": title[:20],
            "create_time": _ts(when), "update_time": _ts(when) + 60, "author_name": "党委宣传部",
            "item_show_type": 8 if title.startswith("图说") else 0, "_accountName": f"{SCHOOL}",
            "readNum": int(reads * scale), "oldLikeNum": int(likes * scale), "shareNum": int(reads * scale) // 20,
            "commentNum": 12, "content": "" if title.startswith("图说") else f"<p>{html.escape(title)}。</p>"
                                                                           "<p>（来源：党委宣传部）</p>",
        })
    return out


def write_exporter_xlsx(path: Path, scale: float) -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "微信公众号文章"
    ws.append(["公众号", "ID", "链接", "标题", "封面", "摘要", "创建时间", "发布时间", "阅读", "点赞", "分享", "喜欢", "留言",
               "作者", "是否原创", "文章类型", "所属合集"])
    for mid, idx, title, when, reads, likes in ARTICLES[:6]:
        t = datetime.strptime(when, "%Y-%m-%d %H:%M")
        ws.append([SCHOOL, f"{mid}_{idx}", link(mid, idx), title, "https://mmbiz.qpic.cn/cover.jpg", title[:20], t, t,
                   int(reads * scale), int(likes * scale), int(reads * scale) // 20, 3, 12, "党委宣传部", "是", "文章", ""])
    wb.save(path)


def raw_article_page(mid: int, idx: int, title: str, when: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<meta property="og:title" content="{html.escape(title)}" /><meta property="og:url" content="{link(mid, idx, escaped=True)}" />
<meta property="og:site_name" content="微信公众平台" /><meta property="og:type" content="article" />
<script>var biz = ""||"{BIZ}"; var mid = "" || "{mid}"; var idx = "" || "{idx}"; var ct = "{_ts(when)}";
var msg_link = "{link(mid, idx)}";</script></head>
<body id="activity-detail"><div id="js_article" class="rich_media"><div class="rich_media_inner"><div id="page-content" class="rich_media_area_primary">
<div id="img-content"><h1 class="rich_media_title" id="activity-name">
      {html.escape(title)}
    </h1><div id="meta_content" class="rich_media_meta_list"><span class="rich_media_meta_nickname" id="profileBt"><a id="js_name">{SCHOOL}</a></span>
<em id="publish_time" class="rich_media_meta_text"></em></div>
<div class="rich_media_content" id="js_content" style="visibility: hidden; opacity: 0;">
<section><p>{html.escape(title)}。</p><p><img data-src="https://mmbiz.qpic.cn/mmbiz_jpg/abc/0?wx_fmt=jpeg" data-ratio="0.66" data-w="1080"></p>
<p>（来源：党委宣传部）</p></section></div></div></div></div></div>
<script>document.write('<img src="https://evil.example.com/t.gif">')</script></body></html>"""


def rendered_article_page(mid: int, idx: int, title: str, when: str) -> str:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta property="og:title" content="{html.escape(title)}" /><meta property="og:url" content="{link(mid, idx)}" /></head>
<body><div class="rich_media_area_primary"><h1 class="rich_media_title" id="activity-name">{html.escape(title)}</h1>
<span class="wx_follow_nickname">{SCHOOL}</span><em id="publish_time">{when}</em>
<div class="rich_media_content" id="js_content"><p>{html.escape(title)}。</p><p><img src="https://mmbiz.qpic.cn/x.jpg"></p></div>
</div></body></html>"""


DELETED_PAGE = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><meta property="og:url" content="{link(2651000900, 1)}" /></head>
<body><div class="weui-msg"><p class="weui-msg__title">该内容已被发布者删除</p></div><script>var biz = ""||"{BIZ}";</script>
<!-- mp.weixin.qq.com --></body></html>"""


def write_wechat_exports(folder: Path) -> list[Path]:
    """One account's exports: a JSON in September, an XLSX a month later with higher
    counts, and saved pages (the same article as in both exports, raw and rendered)."""
    folder.mkdir(parents=True, exist_ok=True)
    first = folder / "2025-09-导出.json"
    first.write_text(json.dumps(exporter_json(1.0), ensure_ascii=False, indent=1), encoding="utf-8")
    later = folder / "2025-10-导出.xlsx"
    write_exporter_xlsx(later, 1.5)
    pages = folder / "网页"
    pages.mkdir(exist_ok=True)
    mid, idx, title, when, *_ = ARTICLES[2]
    (pages / "招生章程-原始网页.html").write_text(raw_article_page(mid, idx, title, when), encoding="utf-8")
    mid, idx, title, when, *_ = ARTICLES[4]
    (pages / "校长寄语-浏览器保存.html").write_text(rendered_article_page(mid, idx, title, when), encoding="utf-8")
    (pages / "已删除.html").write_text(DELETED_PAGE, encoding="utf-8")
    base = datetime(2025, 9, 30, 12, 0).timestamp()
    os.utime(first, (base, base))
    os.utime(later, (base + 30 * 86400, base + 30 * 86400))  # the XLSX is the newer export
    for p in pages.iterdir():
        os.utime(p, (base - 86400, base - 86400))
    return [first, later, *sorted(pages.iterdir())]


def follower_days(first: date = date(2024, 9, 1), last: date = date(2025, 10, 31),
                  start: int = 152_300) -> list[tuple[date, int, int, int]]:
    """(day, 新关注, 取消关注, 累积关注) for the official account: freshmen follow in September,
    graduates leave in June and July, a steady trickle otherwise (deterministic, no randomness)."""
    out, total, day = [], start, first
    while day <= last:
        wave = {9: 380, 10: 120, 6: 60, 7: 40}.get(day.month, 70)
        gained = wave + (day.toordinal() * 37) % 41
        lost = {6: 150, 7: 140}.get(day.month, 25) + (day.toordinal() * 17) % 19
        total += gained - lost
        out.append((day, gained, lost, total))
        day += timedelta(days=1)
    return out


def write_follower_export(path: Path) -> Path:
    """公众号后台「用户分析 → 用户增长」as it downloads: one row a day, the cumulative count last."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "用户增长"
    ws.append(["时间", "新关注人数", "取消关注人数", "净增关注人数", "累积关注人数"])
    for day, gained, lost, total in follower_days():
        ws.append([day.isoformat(), gained, lost, gained - lost, total])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


VIDEOS = [
    ("欢迎2024级新同学！东湖科大等你好久了", "2024-09-02 18:00", 186_420, 9_310, 512, 2_204),
    ("国庆特辑｜我和我的祖国 快闪", "2024-10-01 09:00", 98_210, 6_120, 233, 1_510),
    ("第一场雪落在东湖校园", "2024-12-15 20:30", 152_800, 11_040, 640, 3_120),
    ("新春快乐｜校长送祝福", "2025-01-28 10:00", 45_300, 2_310, 188, 640),
    ("樱花开了，来东湖科大看花吧", "2025-03-20 12:00", 231_560, 15_620, 1_120, 6_480),
    ("实验室的一天：光电学院", "2025-04-18 17:00", 23_410, 980, 64, 210),
    ("2025届毕业典礼全程回顾", "2025-06-22 21:00", 310_200, 20_480, 2_310, 8_920),
    ("录取通知书开箱｜今年的通知书有点不一样", "2025-07-15 19:00", 128_900, 7_840, 905, 3_460),
    ("开学第一课", "2025-09-01 19:30", 88_700, 4_120, 310, 1_280),
]


def write_video_export(path: Path) -> Path:
    """视频号助手「数据中心 → 动态数据」downloaded as XLSX: a note row above the header, as it comes."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "动态数据"
    ws.append([f"{SCHOOL}视频号 动态数据（数据截至 2025-10-31）"])
    ws.append(["视频描述", "发表时间", "完播率", "平均播放时长", "播放量", "推荐", "喜欢", "评论量", "分享量", "关注量"])
    for i, (text, when, views, likes, comments, shares) in enumerate(VIDEOS):
        ws.append([text, when, f"{28 + i * 3}%", f"{21 + i}秒", views, likes // 3, likes, comments, shares, views // 400])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    stamp = datetime(2025, 10, 31, 18, 0).timestamp()
    os.utime(path, (stamp, stamp))
    return path


OA_ROWS = [
    ("东科发〔2025〕1号", f"关于印发《{SCHOOL}2025年工作要点》的通知", "2025-02-20", "党政办公室"),
    ("东科发〔2025〕7号", f"关于印发《{SCHOOL}国有资产管理办法》的通知", "2025/03/15", "国有资产管理处"),
    ("东科发〔2025〕12号", "关于公布2025年校级教学成果奖的决定", "2025年4月2日", "教务处"),
    ("东科人〔2025〕3号", "关于拟任干部任前公示的公告", "2025-05-08", "党委组织部"),
    ("东科研〔2025〕5号", f"{SCHOOL}研究生学业奖学金评定办法", "2025-06-01", "研究生院"),
    ("东科学〔2025〕2号", f"{SCHOOL}学生申诉处理办法（2025年修订）", "2025-06-18", "学生工作部"),
]


def write_oa_export(path: Path, bad_row: bool = False) -> Path:
    import csv

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["文号", "标题", "发布日期", "发布部门", "正文", "链接"])
        for no, title, when, dept in OA_ROWS:
            w.writerow([no, title, when, dept, f"{title}。各单位：现将有关事项通知如下。", ""])
        if bad_row:
            w.writerow(["东科发〔2025〕99号", "日期写错的一行", "2025-13-45", "党政办公室", "", ""])
    return path


def rss_feed(base_url: str = "") -> Resource:
    items = "".join(
        f"""<item><title>{html.escape(t)}</title><link>{base_url}/portal/info/1010/{n}.htm</link>
<guid isPermaLink="false">xxgk-feed-{n}</guid><pubDate>{d}</pubDate><author>xxgk@dhust.edu.cn (党政办公室)</author>
<description>{html.escape(f"<p>{t}。</p>")}</description></item>"""
        for n, t, d in [
            (9501, f"{SCHOOL}2025年部门预算公开", "Tue, 01 Jul 2025 02:00:00 GMT"),
            (9502, "巡视整改进展情况的通报", "Mon, 30 Jun 2025 08:30:00 GMT"),
            (9503, "关于做好2025年暑期安全工作的通知", "Fri, 27 Jun 2025 01:00:00 GMT"),
        ])
    return Resource(f"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>{SCHOOL}信息公开网</title><link>{base_url}/xxgk/</link>
<description>信息公开网最新公开信息</description>{items}</channel></rss>""".encode(), "application/rss+xml; charset=utf-8")
