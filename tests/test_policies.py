"""Pure policies, tested without a network: dates, charsets, walls, retries, types, amounts, keys."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from connectors.dates import MonthDay, parse_date, resolve_month_day
from connectors.html import entry_key
from connectors.http import blocked_reason, decode_html, host_allowed, retry_delay
from connectors.procurement import amount_yuan, procurement_type, type_from_title
from connectors.urls import canonical_url


@pytest.mark.parametrize("text, expected", [
    ("2023-05-12", date(2023, 5, 12)),
    ("2023-05-12 10:20", datetime(2023, 5, 12, 10, 20)),
    ("2023/05/12\u00a0", date(2023, 5, 12)),
    ("2023/05/12&nbsp;", date(2023, 5, 12)),
    ("2023年05月12日", date(2023, 5, 12)),
    ("2023年5月2日 09:05", datetime(2023, 5, 2, 9, 5)),
    ("发布时间：2023-05-12 10:20  作者：张三  来源：党委宣传部", datetime(2023, 5, 12, 10, 20)),
    ("发布日期：2023年05月12日", date(2023, 5, 12)),
    ("2023.05.14 16:00:19", datetime(2023, 5, 14, 16, 0, 19)),
    ("05/12 2023", date(2023, 5, 12)),  # split elements: <p>05/12</p><span>2023</span>
    ("12 2023.05", date(2023, 5, 12)),  # DD + YYYY.MM
    ("May 12, 2023", date(2023, 5, 12)),
    ("1683858000", datetime(2023, 5, 12, 10, 20)),  # Unix seconds, Shanghai time
    ("[05-12]", MonthDay(5, 12)),
    ("2023-13-45", None),
    ("点击数：", None),
])
def test_dates_as_sites_write_them(text: str, expected: object) -> None:
    assert parse_date(text) == expected


def test_month_day_takes_the_latest_year_not_after_the_entry_above() -> None:
    assert resolve_month_day(MonthDay(12, 30), None, date(2026, 1, 5)) == date(2025, 12, 30)
    assert resolve_month_day(MonthDay(1, 3), date(2026, 1, 4), date(2026, 3, 1)) == date(2026, 1, 3)
    assert resolve_month_day(MonthDay(2, 29), None, date(2026, 3, 1)) is None  # no 29 Feb in 2026 or 2025


def test_charset_header_then_meta_then_utf8_then_gb18030() -> None:
    text = "<meta charset=gb2312><p>采购公告 ￥56.98 万元</p>"
    gbk = text.encode("gbk")
    assert decode_html(gbk, "text/html") == text
    assert decode_html(gbk, None) == text
    assert decode_html("<p>招生</p>".encode("gbk"), None) == "<p>招生</p>"  # no declaration at all
    assert decode_html("<p>招生</p>".encode(), "text/html; charset=utf-8") == "<p>招生</p>"
    # A page that claims UTF-8 but is GBK is still read right.
    assert "采购" in decode_html('<meta charset="utf-8">采购'.encode("gbk"), None)


def test_walls_are_recognised() -> None:
    assert "瑞数" in (blocked_reason(412, "<script>$_ts=window['$_ts'];</script>") or "")
    assert "488" in (blocked_reason(488, "") or "")
    assert "频繁访问" in (blocked_reason(200, "<p>您的访问过于频繁，频繁访问会被限制</p>") or "")
    assert "防火墙" in (blocked_reason(403, "<h1>服务器拒绝执行该请求</h1> 云防护") or "")
    assert "仅限校内访问" in (blocked_reason(200, "<title>系统提示</title>本页面仅限校内访问") or "")
    assert blocked_reason(200, "<ul><li>通知</li></ul>") is None


def test_retry_delay_is_capped_and_honours_retry_after() -> None:
    assert [retry_delay(a) for a in (1, 2, 3)] == [0.5, 1.0, 2.0]
    assert retry_delay(10) == 30.0
    assert retry_delay(1, "7") == 7.0
    assert retry_delay(1, "3600") == 30.0
    assert retry_delay(1, "Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0


def test_hosts_and_wildcards() -> None:
    hosts = ["www.kmust.edu.cn", "*.kust.edu.cn"]
    assert host_allowed("https://www.kmust.edu.cn/x.htm", hosts)
    assert host_allowed("https://lib.kust.edu.cn/x.htm", hosts)
    assert not host_allowed("https://jwc.kmust.edu.cn/x.htm", hosts)
    assert not host_allowed("https://kust.edu.cn.evil.com/", hosts)


def test_keys_and_canonical_urls() -> None:
    assert entry_key("https://www.x.edu.cn/content.jsp?urltype=news.NewsContentUrl&wbtreeid=1331&wbnewsid=30031") \
        == entry_key("http://www.x.edu.cn/info/1331/30031.htm") == "www.x.edu.cn/info/1331/30031.htm"
    assert canonical_url("HTTP://Www.X.edu.cn:80/a.htm?utm_source=wx&id=3#p") == "http://www.x.edu.cn/a.htm?id=3"
    assert canonical_url("../info/1/2.htm", "https://x.edu.cn/xwzx/xxyw/3.htm") == "https://x.edu.cn/xwzx/info/1/2.htm"


@pytest.mark.parametrize("title, kind", [
    ("XX学院实验设备采购项目公开招标公告", "招标公告"),
    ("XX项目邀请招标公告", "招标公告"),
    ("XX项目资格预审公告", "招标公告"),
    ("XX项目竞争性谈判公告", "磋商谈判公告"),
    ("XX项目竞争性磋商公告（第二次）", "磋商谈判公告"),
    ("XX项目询价公告", "询价公告"),
    ("XX项目单一来源采购公示", "单一来源公示"),
    ("XX项目中标(成交)结果公告", "中标成交公告"),
    ("XX项目中标候选人公示", "中标成交公告"),
    ("XX项目成交结果公示", "中标成交公告"),
    ("关于XX项目公开招标公告的更正公告", "更正公告"),
    ("XX项目澄清公告", "更正公告"),
    ("XX项目流标公告", "终止公告"),
    ("XX项目废标终止公告", "终止公告"),
    ("XX项目合同公示", "合同公告"),
    ("XX项目履约验收结果公告", "验收公告"),
    ("2025年7月政府采购意向公开", "采购意向"),
])
def test_procurement_types_from_title_endings(title: str, kind: str) -> None:
    assert type_from_title(title) == kind


def test_procurement_type_falls_back_to_column_then_body() -> None:
    assert procurement_type("XX服务采购项目", "采购公告>中标公示") == "中标成交公告"
    assert procurement_type("XX服务采购项目", None, url="http://www.ccgp.gov.cn/cggg/dfgg/gzgg/202505/t1.htm") == "更正公告"
    assert procurement_type("关于XX项目的公告", None, "一、项目编号：X 询价采购公告 …") == "询价公告"
    assert procurement_type("关于召开采购工作会议的通知", None, "会议") == "其他"


@pytest.mark.parametrize("text, yuan", [
    ("￥56.980000 万元（人民币）", 569800.0),
    ("￥56.98 万元", 569800.0),
    ("总价形式报价:569800.00(元)", 569800.0),
    ("预算金额35000元", 35000.0),
    ("1,234,567.8元", 1234567.8),
    ("0.12亿元", 12000000.0),
    ("详见附件", None),
])
def test_amounts_in_yuan(text: str, yuan: float | None) -> None:
    assert amount_yuan(text) == yuan


def test_a_main_column_named_inside_is_not_a_sidebar() -> None:
    from connectors.html import HtmlSettings, list_entries, parse_html
    from connectors.presets import selectors_for

    rows = "".join(f'<li id="line_u8_{i}"><a href="../info/1010/{i}.htm" title="通知{i}">通知{i}</a>'
                   f'<span class="date">2025-06-0{i + 1}</span></li>' for i in range(3))
    page = (f'<html><body><div class="insideCon"><ul>{rows}</ul></div>'
            '<div class="leftside"><ul><li id="line_u9_0"><a href="../info/1/9.htm">热点</a></li></ul></div>'
            '</body></html>')
    sel = selectors_for(HtmlSettings(id="x", url="https://a.edu.cn/x.htm", preset="vsb"))
    found = list_entries(parse_html(page), "https://a.edu.cn/xwzx/x.htm", sel)
    assert [e.title for e in found] == ["通知0", "通知1", "通知2"]


@pytest.mark.parametrize(("info", "department"), [
    ("发布时间：2025-03-10　来源：教务处　浏览：12", "教务处"),
    ("来源：<br>发布日期：2025-03-10", None),
    ("来源：</p><p>为进一步规范学校信息公开工作，现将有关事项通知如下。", None),
    ("来源：发布日期：2025-03-10", None),
    ("供稿单位： 党委宣传部 | 点击：", "党委宣传部"),
])
def test_department_comes_from_its_own_line_only(info: str, department: str | None) -> None:
    from connectors.html import HtmlSettings, parse_detail
    from connectors.http import Page
    from connectors.listwalk import Entry
    from connectors.presets import selectors_for

    html = f'<html><body><h1>关于开展安全检查的通知</h1><div class="byline"><p>{info}</p></div>' \
           '<div class="v_news_content"><p>正文。</p></div></body></html>'
    sel = selectors_for(HtmlSettings(id="x", url="https://a.edu.cn/x.htm", preset="vsb"))
    post = parse_detail(Page("https://a.edu.cn/info/1/2.htm", 200, html),
                        Entry("https://a.edu.cn/info/1/2.htm", "关于开展安全检查的通知", None, "k"), sel)
    assert post.department == department
