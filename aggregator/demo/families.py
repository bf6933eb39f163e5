"""List sites of CMS families no preset knows, for bare-URL channels and `xxgk probe`.

Each family is built from what that CMS is documented to emit (its list and pager markup, its
detail page), with a site template around it: a top menu that a phone shows as nested lists, a
sidebar built from the same template as the main list (hot posts), friend links in the footer.
The expected posts are the `SamplePost`s each site is built from — its titles, dates and
paragraphs — never what our parser reads.

- `epoint`: Epoint WebBuilder (公共资源交易平台): `ul.ewb-list` rows, `ewb-page` pager to `2.html`.
- `siteserver`: SiteServer CMS: `channels/12.html`, `channels/12_2.html`, 下一页 links.
- `hanweb`: Hanweb JCMS: the first records inside `<script type="text/xml"><datastore>`, the rest
  POSTed for to `dataproxy.jsp?startrecord=…` by its jpage widget.
- `dedecms`: DedeCMS: `list_5_2.html` pages, `dede_pages` pager with 共N页M条.
- `tables`: a government CMS laid out in nested tables, "[下一页]" text links.
- `anchors`: a small school CMS whose entries are the anchors themselves, `?page=2` pages.
- `aspnet`: ASP.NET WebForms: a GridView whose pager posts the form back (`__doPostBack`, `__VIEWSTATE`).
- `loadmore`: page 1 in HTML, then a "加载更多" button whose script reads `/xwzx/list.json?page=N`.
- `widget`: a layui laypage pager that builds `list_N.html` links at run time from a total.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from aggregator.demo.server import Resource, html
from aggregator.demo.sites import SCHOOL, SamplePost, cut, esc

_TITLES = [
    "关于做好{y}年国庆节放假安排的通知", "{s}{y}年度部门预算公开", "关于公布{y}年校级教学成果奖评审结果的通知",
    "{s}实验楼改造工程竞争性磋商公告", "关于开展{y}年度教职工年度考核工作的通知", "{s}图书采购项目中标结果公告",
    "关于{y}年学生违纪处分决定的公示", "{s}{y}年本科招生章程", "关于组织申报{y}年度科研项目的通知",
    "{s}关于拟任干部任前公示的公告", "{s}{y}年收费项目及标准公示", "关于调整部分校区校园巴士运行时间的通知",
    "{s}学术委员会{y}年度工作报告", "关于{y}年国家助学金获得者名单的公示", "{s}网络设备采购项目公开招标公告",
    "关于做好{y}年寒假学生离校及安全稳定工作的通知", "{s}{y}年信息公开工作年度报告", "关于印发《{s}科研经费管理办法》的通知",
]
_BODY = [
    "根据上级有关文件精神，结合学校实际，现将有关事项通知如下。",
    "各单位要高度重视，认真组织，确保各项工作按时完成，有关情况请及时报送。",
    "联系人：王老师，联系电话：027-87650000，电子邮箱：xxgk@example.edu.cn。",
    "本公告同时在学校信息公开网发布，公示期内如有异议，请以书面形式向学校纪委办公室反映。",
]
MENU = [("学校概况", ["学校简介", "现任领导", "历史沿革"]), ("信息公开", ["信息公开指南", "信息公开目录", "年度报告"]),
        ("通知公告", ["学校通知", "部门通知"]), ("招标采购", ["采购公告", "结果公告"])]


@dataclass(slots=True)
class Family:
    """One sample site: its list's address, its pages, and the posts it lists (newest first)."""

    name: str
    list_path: str
    pages: dict[str, Resource]
    posts: list[SamplePost]
    total: int  # what the site states of its list's size (the check on a complete walk)
    forms: dict[str, Callable[[dict[str, str]], Resource]] = field(default_factory=dict)  # what POSTs answer


def family_posts(n: int, first_id: int, start: datetime = datetime(2025, 6, 30, 9, 0)) -> list[SamplePost]:
    posts = []
    for i in range(n):
        when = start - timedelta(hours=41 * i)
        title = _TITLES[i % len(_TITLES)].format(s=SCHOOL, y=when.year)
        if i >= len(_TITLES):
            title += f"（第{i // len(_TITLES) + 1}批）"
        posts.append(SamplePost(first_id + n - i, title, when, [_BODY[(i + k) % len(_BODY)] for k in range(3)]))
    return posts


def _menu(prefix: str) -> str:
    """A top menu and its phone twin (nested lists) — links every page of the site repeats."""
    items = "".join(f'<li><a href="{prefix}/{k}/index.html">{esc(name)}</a><ul>'
                    + "".join(f'<li><a href="{prefix}/{k}/{j}.html">{esc(sub)}</a></li>' for j, sub in enumerate(subs))
                    + "</ul></li>" for k, (name, subs) in enumerate(MENU))
    return (f'<div class="top-nav"><ul class="nav-list">{items}</ul></div>'
            f'<div class="m-menu" id="mobileMenu"><ul>{items}</ul></div>')


def _footer(prefix: str) -> str:
    friends = ["教育部", "湖北省教育厅", "中国政府采购网", "湖北省公共资源交易中心", "全国高校信息公开平台"]
    links = "".join(f'<li><a href="http://{prefix.strip("/") or "www"}.example.gov.cn/{i}">{f}</a></li>'
                    for i, f in enumerate(friends))
    return f'<div class="links"><h4>友情链接</h4><ul>{links}</ul></div><p class="copy">版权所有 © {SCHOOL}</p>'


def _paras(p: SamplePost) -> str:
    return "".join(f"<p>{esc(t)}</p>" for t in p.paragraphs)


def _chunks(posts: list[SamplePost], per_page: int) -> list[list[SamplePost]]:
    return [posts[i : i + per_page] for i in range(0, len(posts), per_page)]


# -- Epoint WebBuilder -----------------------------------------------------------------------------
def epoint(posts: list[SamplePost] | None = None, per_page: int = 8) -> Family:
    posts = posts or family_posts(19, 500)
    base = "/jyxx/003001"
    out: dict[str, Resource] = {}
    chunks = _chunks(posts, per_page)

    def row(p: SamplePost) -> str:
        return (f'<li class="ewb-list-node clearfix"><a href="{base}/{p.published:%Y%m%d}/{p.news_id:08x}-ea3f.html" '
                f'class="ewb-list-name" title="{esc(p.title)}" target="_blank">{esc(cut(p.title, 26))}</a>'
                f'<span class="ewb-list-date">{p.published:%Y-%m-%d}</span></li>')

    hot = "".join(row(p) for p in posts[:5])
    for k, items in enumerate(chunks, 1):
        pager = "".join(f'<li{" class=active" if j == k else ""}><a href="{base}/{j}.html">{j}</a></li>'
                        for j in range(1, len(chunks) + 1))
        nxt = f'<li><a class="wb-page-next" href="{base}/{k + 1}.html">下一页</a></li>' if k < len(chunks) else ""
        out[f"{base}/{'moreinfo' if k == 1 else k}.html"] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>工程建设-{SCHOOL}公共资源交易平台</title><link rel="stylesheet" href="/EpointWebBuilder/css/ewb.css"></head><body>
<div class="ewb-header">{_menu("/jyxx")}</div><div class="ewb-container clearfix">
<div class="ewb-left"><div class="ewb-block"><h4 class="ewb-block-tt">热门公告</h4><ul class="ewb-list">{hot}</ul></div></div>
<div class="ewb-right"><div class="ewb-location">当前位置：<a href="/">首页</a> &gt; <a href="/jyxx">交易信息</a> &gt; 工程建设</div>
<div class="ewb-block"><h4 class="ewb-block-tt">工程建设</h4><ul class="ewb-list" id="showList">{"".join(row(p) for p in items)}</ul>
<div class="ewb-page"><ul class="m-pagination-page">{pager}{nxt}</ul><span>共 {len(posts)} 条</span></div></div></div></div>
<div class="ewb-footer">{_footer("/ggzy")}</div></body></html>""")
    for p in posts:
        out[f"{base}/{p.published:%Y%m%d}/{p.news_id:08x}-ea3f.html"] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(p.title)}</title></head><body><div class="ewb-header">{_menu("/jyxx")}</div>
<div class="ewb-container"><div class="ewb-left"><ul class="ewb-list">{hot}</ul></div>
<div class="ewb-article"><h3 class="ewb-article-tt">{esc(p.title)}</h3>
<p class="ewb-article-sources">【信息时间：<span id="infodate">{p.published:%Y-%m-%d}</span>&nbsp;&nbsp;阅读次数：<span>12</span>】</p>
<div class="ewb-article-info" id="mainContent">{_paras(p)}</div></div></div>
<div class="ewb-footer">{_footer("/ggzy")}</div></body></html>""")
    return Family("epoint", f"{base}/moreinfo.html", out, posts, len(posts))


# -- SiteServer CMS --------------------------------------------------------------------------------
def siteserver(posts: list[SamplePost] | None = None, per_page: int = 7) -> Family:
    posts = posts or family_posts(17, 700)
    out: dict[str, Resource] = {}
    chunks = _chunks(posts, per_page)

    def row(p: SamplePost) -> str:
        return (f'<li><a href="/contents/12/{p.news_id}.html" target="_blank">{esc(p.title)}</a>'
                f'<span>{p.published:%Y-%m-%d}</span></li>')

    for k, items in enumerate(chunks, 1):
        path = "/channels/12.html" if k == 1 else f"/channels/12_{k}.html"
        links = ['<a href="/channels/12.html">首页</a>']
        if k > 1:
            links.append(f'<a href="{"/channels/12.html" if k == 2 else f"/channels/12_{k - 1}.html"}">上一页</a>')
        if k < len(chunks):
            links.append(f'<a href="/channels/12_{k + 1}.html">下一页</a>')
        links.append(f'<a href="/channels/12_{len(chunks)}.html">末页</a>')
        out[path] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>通知公告_{SCHOOL}</title>
<script src="/sitefiles/assets/jquery/jquery-1.9.1.min.js"></script></head><body>{_menu("")}
<div class="main"><div class="left"><div class="box"><h3>最新动态</h3><ul class="list">{"".join(row(p) for p in posts[:6])}</ul></div></div>
<div class="right"><div class="box"><h3>通知公告</h3><ul class="list">{"".join(row(p) for p in items)}</ul>
<div class="pagination">{"".join(links)} 第{k}/{len(chunks)}页</div></div></div></div>{_footer("")}</body></html>""")
    for p in posts:
        out[f"/contents/12/{p.news_id}.html"] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(p.title)}_{SCHOOL}</title></head><body>{_menu("")}<div class="main"><div class="left"><ul class="list">
{"".join(row(q) for q in posts[:6])}</ul></div><div class="right"><div class="article"><h1>{esc(p.title)}</h1>
<div class="info">发布时间：{p.published:%Y-%m-%d %H:%M} 来源：党政办公室</div><div class="article-body">{_paras(p)}</div></div></div></div>
{_footer("")}</body></html>""")
    return Family("siteserver", "/channels/12.html", out, posts, len(posts))


# -- Hanweb JCMS -----------------------------------------------------------------------------------
def hanweb(posts: list[SamplePost] | None = None, per_page: int = 5, group: int = 3) -> Family:
    """The page carries its first `group` pages of records in a `<datastore>`; jpage asks the rest of
    `dataproxy.jsp?startrecord=&endrecord=&perpage=` by POST, with the `<nextgroup>` link's parameters."""
    posts = posts or family_posts(38, 900)

    def href(p: SamplePost) -> str:
        return f"/art/{p.published.year}/{p.published.month}/{p.published.day}/art_4380_{p.news_id}.html"

    def records(items: list[SamplePost]) -> str:
        return "".join(f'<record><![CDATA[<li><a href="{href(p)}" target="_blank" title="{esc(p.title)}">'
                       f'{esc(cut(p.title, 24))}</a><span class="bt-data-time">{p.published:%Y-%m-%d}</span></li>]]>'
                       "</record>" for p in items)

    params = "col=1&appid=1&webid=1&path=%2F&columnid=4380&sourceContentType=1&unitid=12345&webname=x&permissiontype=0"
    first = per_page * group
    out: dict[str, Resource] = {"/col/col4380/index.html": html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>通知公告 {SCHOOL}</title><script src="/module/jslib/jquery/jpage/jquery.jpage.js"></script></head><body>{_menu("/col")}
<div class="bt-box"><div class="bt-left"><ul class="hot">{"".join(f'<li><a href="/col/col{4381 + i}/index.html">{esc(n)}</a></li>' for i, (n, _s) in enumerate(MENU))}</ul></div>
<div class="bt-right"><div class="bt-position">当前位置：首页 &gt; 通知公告</div><div id="12345"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&{params}"></a>]]></nextgroup>
<recordset>{records(posts[:first])}</recordset></datastore></script></div>
<script>$(document).ready(function(){{ $('#12345').jpage({{ dataStore: dataStore, perPage: {per_page}, groupSize: {group},
  totalRecord: {len(posts)}, proxyUrl: '/module/web/jpage/dataproxy.jsp', barPosition: 'bottom' }}); }});</script>
</div></div>{_footer("/col")}</body></html>""")}

    def proxy(fields: dict[str, str]) -> Resource:
        if fields.get("columnid") != "4380" or fields.get("unitid") != "12345":
            return Resource(b"<datastore><recordset></recordset></datastore>", "text/xml; charset=utf-8")
        start, end = int(fields["startrecord"]), int(fields["endrecord"])
        body = f'<?xml version="1.0" encoding="UTF-8"?><datastore><recordset>{records(posts[start - 1:end])}</recordset></datastore>'
        return Resource(body.encode(), "text/xml; charset=utf-8")

    for p in posts:
        out[href(p)] = html(
            f"""<!DOCTYPE html><html><head><meta charset="utf-8"><meta name="ArticleTitle" content="{esc(p.title)}">
<meta name="PubDate" content="{p.published:%Y-%m-%d %H:%M}"><title>{esc(p.title)}</title></head><body>{_menu("/col")}
<div class="bt-article"><h2>{esc(p.title)}</h2><div id="zoom">{_paras(p)}</div></div>{_footer("/col")}</body></html>""")
    fam = Family("hanweb", "/col/col4380/index.html", out, posts, len(posts))
    fam.forms = {"/module/web/jpage/dataproxy.jsp": proxy}
    return fam


# -- DedeCMS ---------------------------------------------------------------------------------------
def dedecms(posts: list[SamplePost] | None = None, per_page: int = 6) -> Family:
    posts = posts or family_posts(15, 1100)
    out: dict[str, Resource] = {}
    chunks = _chunks(posts, per_page)

    def href(p: SamplePost) -> str:
        return f"/a/tzgg/{p.published:%Y/%m%d}/{p.news_id}.html"

    for k, items in enumerate(chunks, 1):
        rows = "".join(f'<li><a href="{href(p)}" class="title">{esc(p.title)}</a><span class="info"><small>日期：</small>'
                       f'{p.published:%Y-%m-%d %H:%M:%S}</span><p class="intro">{esc(p.paragraphs[0])}</p></li>'
                       for p in items)
        pager = "".join(f'<li{" class=thisclass" if j == k else ""}>' + (str(j) if j == k else f"<a href='list_5_{j}.html'>{j}</a>")
                        + "</li>" for j in range(1, len(chunks) + 1))
        nxt = f"<li><a href='list_5_{k + 1}.html'>下一页</a></li>" if k < len(chunks) else ""
        out[f"/a/tzgg/{'index' if k == 1 else f'list_5_{k}'}.html"] = html(f"""<!DOCTYPE html><html><head>
<meta charset="utf-8"><title>通知公告_{SCHOOL}</title><meta name="generator" content="DedeCMS"></head><body>{_menu("/a")}
<div class="w960 center"><div class="pleft"><div class="place"><strong>当前位置:</strong> <a href="/">主页</a> &gt; <a href="/a/tzgg/">通知公告</a></div>
<div class="listbox"><ul class="e2">{rows}</ul></div><div class="dede_pages"><ul class="pagelist">{pager}{nxt}
<span class="pageinfo">共 <strong>{len(chunks)}</strong>页<strong>{len(posts)}</strong>条</span></ul></div></div>
<div class="pright"><div class="commend"><dl class="tbox"><dt><strong>推荐内容</strong></dt><dd><ul class="e2">
{"".join(f'<li><a href="{href(p)}" class="title">{esc(p.title)}</a></li>' for p in posts[:4])}</ul></dd></dl></div></div></div>
{_footer("/a")}</body></html>""")
    for p in posts:
        out[href(p)] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(p.title)}_{SCHOOL}</title></head>
<body>{_menu("/a")}<div class="w960 center"><div class="pleft"><div class="viewbox"><div class="title"><h2>{esc(p.title)}</h2></div>
<div class="info"><small>时间:</small>{p.published:%Y-%m-%d %H:%M}<small>来源:</small>党政办公室<small>点击:</small>12 次</div>
<div class="content"><table width="100%"><tr><td>{_paras(p)}</td></tr></table></div></div></div>
<div class="pright"><ul class="e2">{"".join(f'<li><a href="{href(q)}" class="title">{esc(q.title)}</a></li>' for q in posts[:4])}</ul></div></div>
{_footer("/a")}</body></html>""")
    return Family("dedecms", "/a/tzgg/index.html", out, posts, len(posts))


# -- a government CMS in nested tables -------------------------------------------------------------
def tables(posts: list[SamplePost] | None = None, per_page: int = 9) -> Family:
    posts = posts or family_posts(20, 1300)
    out: dict[str, Resource] = {}
    chunks = _chunks(posts, per_page)

    def href(p: SamplePost) -> str:
        return f"/zwgk/tzgg/{p.published:%Y%m}/content_{p.news_id}.html"

    for k, items in enumerate(chunks, 1):
        rows = "".join(f'<tr><td width="12"><img src="/images/dot.gif"></td><td align="left"><a href="{href(p)}" '
                       f'target="_blank">{esc(p.title)}</a></td><td width="90" class="font12">{p.published:%Y-%m-%d}</td></tr>'
                       f'<tr><td colspan="3" height="1" bgcolor="#dddddd"></td></tr>' for p in items)
        prev = f'[<a href="{"index" if k == 2 else f"index_{k - 1}"}.html">上一页</a>]' if k > 1 else "[上一页]"
        nxt = f'[<a href="index_{k + 1}.html">下一页</a>]' if k < len(chunks) else "[下一页]"
        left = "".join(f'<tr><td><a href="/zwgk/{i}/index.html">{esc(n)}</a></td></tr>' for i, (n, _s) in enumerate(MENU))
        out[f"/zwgk/tzgg/{'index' if k == 1 else f'index_{k}'}.html"] = html(f"""<html><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>通知公告</title></head><body>
<table width="1000" align="center"><tr><td>{_menu("/zwgk")}</td></tr></table>
<table width="1000" align="center"><tr><td width="220" valign="top"><table width="100%">{left}</table></td>
<td valign="top"><table width="100%"><tr><td class="lm">通知公告</td></tr><tr><td><table width="100%" cellpadding="0">{rows}</table></td></tr>
<tr><td align="center">共{len(posts)}条 第{k}页/共{len(chunks)}页 {prev} {nxt}</td></tr></table></td></tr></table>
<table width="1000" align="center"><tr><td>{_footer("/zwgk")}</td></tr></table></body></html>""")
    for p in posts:
        out[href(p)] = html(f"""<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8">
<title>{esc(p.title)}</title></head><body><table width="1000" align="center"><tr><td>{_menu("/zwgk")}</td></tr></table>
<table width="1000" align="center"><tr><td align="center" class="bt"><b>{esc(p.title)}</b></td></tr>
<tr><td align="center">发布日期：{p.published:%Y-%m-%d}　　浏览次数：8</td></tr>
<tr><td class="zw">{"<br>".join(esc(t) for t in p.paragraphs)}</td></tr></table>
<table width="1000" align="center"><tr><td>{_footer("/zwgk")}</td></tr></table></body></html>""")
    return Family("tables", "/zwgk/tzgg/index.html", out, posts, len(posts))


# -- a small school CMS: each entry is the anchor itself -------------------------------------------
def anchors(posts: list[SamplePost] | None = None, per_page: int = 6) -> Family:
    posts = posts or family_posts(14, 1500)
    out: dict[str, Resource] = {}
    chunks = _chunks(posts, per_page)
    for k, items in enumerate(chunks, 1):
        rows = "".join(f'<a class="item" href="/news/show.php?id={p.news_id}"><span class="d">{p.published:%Y-%m-%d}</span>'
                       f'{esc(p.title)}</a>' for p in items)
        nums = "".join(f'<a href="/news/list.php?page={j}">{j}</a>' if j != k else f"<b>{j}</b>"
                       for j in range(1, len(chunks) + 1))
        key = "/news/list.php" if k == 1 else f"/news/list.php?page={k}"
        out[key] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>学院新闻</title></head><body>
{_menu("/news")}<div class="wrap"><h2>学院新闻</h2><div class="items">{rows}</div><div class="pages">{nums}</div></div>
{_footer("/news")}</body></html>""")
    for p in posts:
        out[f"/news/show.php?id={p.news_id}"] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(p.title)}</title></head><body>{_menu("/news")}<div class="wrap"><h1>{esc(p.title)}</h1>
<div class="meta">发布时间：{p.published:%Y-%m-%d %H:%M}</div><div class="text">{_paras(p)}</div></div>{_footer("/news")}</body></html>""")
    return Family("anchors", "/news/list.php", out, posts, len(posts))


# -- ASP.NET WebForms: a GridView whose pager posts the page's form back ----------------------------
def aspnet(posts: list[SamplePost] | None = None, per_page: int = 8) -> Family:
    """Pages 2… exist only as answers to `__doPostBack('gvNews','Page$Next')`: the form must come back
    whole (`__VIEWSTATE` says which page it is on, `__EVENTVALIDATION` must be there)."""
    import base64

    posts = posts or family_posts(21, 1700)
    chunks = _chunks(posts, per_page)

    def page(k: int) -> Resource:
        rows = "".join(f'<tr><td><a href="Show.aspx?id={p.news_id}" target="_blank">{esc(p.title)}</a></td>'
                       f'<td align="center">{p.published:%Y-%m-%d}</td></tr>' for p in chunks[k - 1])
        nums = "".join(f"<td><span>{j}</span></td>" if j == k else
                       f"<td><a href=\"javascript:__doPostBack('gvNews','Page${j}')\">{j}</a></td>"
                       for j in range(1, len(chunks) + 1))
        nxt = ("<a href=\"javascript:__doPostBack('gvNews','Page$Next')\">下一页</a>" if k < len(chunks)
               else '<a disabled="disabled">下一页</a>')
        state = base64.b64encode(f"gvNews|page={k}|{'x' * 200}".encode()).decode()
        return html(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>新闻公告 - {SCHOOL}</title></head><body>
{_menu("/news")}<form method="post" action="./List.aspx" id="form1"><div class="aspNetHidden">
<input type="hidden" name="__EVENTTARGET" id="__EVENTTARGET" value="" /><input type="hidden" name="__EVENTARGUMENT" id="__EVENTARGUMENT" value="" />
<input type="hidden" name="__VIEWSTATE" id="__VIEWSTATE" value="{state}" /></div>
<script type="text/javascript">function __doPostBack(t, a) {{ var f = document.forms['form1']; f.__EVENTTARGET.value = t; f.__EVENTARGUMENT.value = a; f.submit(); }}</script>
<div class="aspNetHidden"><input type="hidden" name="__VIEWSTATEGENERATOR" value="C2EE9ABB" /><input type="hidden" name="__EVENTVALIDATION" value="/wEdAAk{k}" /></div>
<div class="search"><input name="txtKey" type="text" id="txtKey" /></div>
<div class="main"><h2>新闻公告</h2><table class="GridView" id="gvNews" cellspacing="0" border="0"><tr><th>标题</th><th>发布日期</th></tr>{rows}
<tr class="pager"><td colspan="2"><table><tr>{nums}</tr></table></td></tr></table>
<div class="pagebar">共{len(posts)}条记录 {nxt}</div></div></form>{_footer("/news")}</body></html>""")

    def answer(fields: dict[str, str]) -> Resource:
        if "__EVENTVALIDATION" not in fields or "txtKey" not in fields:
            return html("<html><body>Invalid postback or callback argument.</body></html>", status=500)
        current = int(base64.b64decode(fields.get("__VIEWSTATE", "")).decode().split("page=")[1].split("|")[0])
        arg = fields.get("__EVENTARGUMENT", "")
        k = current + 1 if arg == "Page$Next" else int(arg.removeprefix("Page$"))
        return page(k) if 1 <= k <= len(chunks) else html("<html><body>Index out of range</body></html>", status=500)

    out: dict[str, Resource] = {"/news/List.aspx": page(1)}
    for p in posts:
        out[f"/news/Show.aspx?id={p.news_id}"] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(p.title)} - {SCHOOL}</title></head><body>{_menu("/news")}<div id="divTitle"><h2>{esc(p.title)}</h2></div>
<div class="info">发布日期：{p.published:%Y-%m-%d} 点击：3</div><div id="divContent">{_paras(p)}</div>{_footer("/news")}</body></html>""")
    fam = Family("aspnet", "/news/List.aspx", out, posts, len(posts))
    fam.forms = {"/news/List.aspx": answer}
    return fam


# -- a "load more" list: page 1 in HTML, the rest from the JSON endpoint its script reads --------------
def loadmore(posts: list[SamplePost] | None = None, per_page: int = 8) -> Family:
    import json

    posts = posts or family_posts(22, 1900)
    chunks = _chunks(posts, per_page)

    def href(p: SamplePost) -> str:
        return f"/xwzx/{p.published:%Y/%m%d}/c{p.news_id}.html"

    items = "".join(f'<div class="news-item"><a href="{href(p)}"><div class="news-title">{esc(p.title)}</div>'
                    f'<div class="news-date">{p.published:%Y-%m-%d}</div></a></div>' for p in chunks[0])
    out: dict[str, Resource] = {"/xwzx/index.html": html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>新闻动态 | {SCHOOL}</title><script src="/static/js/jquery.min.js"></script></head><body>{_menu("/xwzx")}
<div class="container"><h2 class="col-title">新闻动态</h2><div class="news-list" id="newsList">{items}</div>
<a class="more" id="loadMore" href="javascript:;">加载更多</a></div>
<script>var page = 1; $('#loadMore').on('click', function () {{ page++;
  $.getJSON('/xwzx/list.json?page=' + page, function (res) {{ render(res.data.list); if (!res.data.list.length) $('#loadMore').hide(); }}); }});</script>
{_footer("/xwzx")}</body></html>""")}
    for k in range(2, len(chunks) + 2):  # one page past the end answers an empty list
        rows = [{"id": p.news_id, "title": p.title, "url": href(p), "publishTime": f"{p.published:%Y-%m-%d %H:%M:%S}",
                 "views": 10} for p in (chunks[k - 1] if k <= len(chunks) else [])]
        body = json.dumps({"code": 0, "data": {"total": len(posts), "page": k, "list": rows}}, ensure_ascii=False)
        out[f"/xwzx/list.json?page={k}"] = Resource(body.encode(), "application/json; charset=utf-8")
    for p in posts:
        out[href(p)] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{esc(p.title)} | {SCHOOL}</title>
</head><body>{_menu("/xwzx")}<div class="container"><h1 class="art-title">{esc(p.title)}</h1>
<div class="art-meta">发布时间：{p.published:%Y-%m-%d %H:%M}</div><div class="art-body">{_paras(p)}</div></div>{_footer("/xwzx")}</body></html>""")
    return Family("loadmore", "/xwzx/index.html", out, posts, len(posts))


# -- a pager widget: layui laypage builds the page links at run time from a total and a pattern -------
def widget(posts: list[SamplePost] | None = None, per_page: int = 8) -> Family:
    posts = posts or family_posts(23, 2100)
    out: dict[str, Resource] = {}
    chunks = _chunks(posts, per_page)
    for k, items in enumerate(chunks, 1):
        rows = "".join(f'<dl><dt><a href="/xsgz/detail/{p.news_id}.html" title="{esc(p.title)}">{esc(cut(p.title, 20))}</a>'
                       f'</dt><dd>{p.published:%Y年%m月%d日}</dd></dl>' for p in items)
        out["/xsgz/index.html" if k == 1 else f"/xsgz/list_{k}.html"] = html(f"""<!DOCTYPE html><html><head>
<meta charset="utf-8"><title>学生工作通知 - {SCHOOL}学生工作部</title><script src="/layui/layui.js"></script></head><body>
{_menu("/xsgz")}<div class="layui-container"><div class="lm-title">学生工作通知</div><div class="news-box">{rows}</div>
<div id="pager"></div></div><script>layui.use('laypage', function () {{ var laypage = layui.laypage;
laypage.render({{ elem: 'pager', count: {len(posts)}, limit: {per_page}, curr: {k},
  jump: function (obj, first) {{ if (!first) location.href = obj.curr == 1 ? 'index.html' : 'list_' + obj.curr + '.html'; }} }}); }});</script>
{_footer("/xsgz")}</body></html>""")
    for p in posts:
        out[f"/xsgz/detail/{p.news_id}.html"] = html(f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<title>{esc(p.title)} - {SCHOOL}学生工作部</title></head><body>{_menu("/xsgz")}<div class="layui-container">
<h3 class="d-title">{esc(p.title)}</h3><p class="d-info">作者：学生工作部　时间：{p.published:%Y-%m-%d}</p>
<div class="d-content">{_paras(p)}</div></div>{_footer("/xsgz")}</body></html>""")
    return Family("widget", "/xsgz/index.html", out, posts, len(posts))


FAMILIES = (epoint, siteserver, hanweb, dedecms, tables, anchors, aspnet, loadmore, widget)


# -- the preset families, dressed in a site template -------------------------------------------------
# Where each sample list keeps its entries (what the sample site was built with, not what we detect).
SAMPLE_LISTS: dict[str, tuple[str, str, str]] = {
    "portal-news": ("html", "/portal/xwzx/xxyw.htm", "div.list-con > ul"),
    "zsb-undergrad": ("html", "/zsb/zsxx.htm", "table[class^=winstyle] > tbody"),
    "yjsy-admissions": ("html", "/yjsy/zsgz/sszs.htm", "div.list > ul"),
    "xxgk-notices": ("html", "/xxgk/gsgg/index.html", "ul.list"),
    "jwc-notices": ("html", "/jwc/2891/list.htm", "ul.news_list"),
    "procurement-centre": ("procurement", "/cgzx/cggg.htm", "div.list-con > ul"),
    "ccgp-results": ("procurement", "/ccgp/cggg/dfgg/zbgg/index.htm", "ul.c_list_bid"),
}


def with_chrome(pages: dict[str, Resource]) -> dict[str, Resource]:
    """The sample sites with a top menu and its phone twin on every page, and, on every page of a
    list's section, a 热点 block copied from the list's own first five entries — the same template,
    so the same class names, as the list beside it."""
    import lxml.html
    from lxml.cssselect import CSSSelector

    out = dict(pages)
    for _kind, list_path, container in SAMPLE_LISTS.values():
        first = lxml.html.document_fromstring(pages[list_path].body)
        found = CSSSelector(container)(first)
        hot = lxml.html.fromstring(lxml.html.tostring(found[0]))  # a copy, with the first five entries
        for extra in list(hot)[5 * (2 if hot.tag == "tbody" else 1):]:
            hot.remove(extra)
        hot.make_links_absolute("http://sample" + list_path)  # the block links alike from every page
        for a in hot.iter("a"):
            a.set("href", a.get("href", "").removeprefix("http://sample"))
        section = "/" + list_path.split("/")[1] + "/"
        for path, res in pages.items():
            if not path.startswith(section) or not res.content_type.startswith("text/html") or res.status != 200:
                continue
            doc = lxml.html.document_fromstring(res.body)
            body = doc.find("body")
            if body is None:
                continue
            menu = lxml.html.fragment_fromstring(_menu(section.rstrip("/")), create_parent="div")
            block = lxml.html.fragment_fromstring('<div class="hot-news"><h3>热点</h3></div>')
            wrapper = lxml.html.fromstring(lxml.html.tostring(hot))
            if wrapper.tag == "tbody":  # table rows need their table
                table = lxml.html.fragment_fromstring(f'<table class="{found[0].getparent().get("class")}"></table>')
                table.append(wrapper)
                wrapper = table
            block.append(wrapper)
            body.insert(0, block)
            body.insert(0, menu)
            charset = "gbk" if b"charset=gbk" in res.body.lower() or b"charset=gb2312" in res.body.lower() else "utf-8"
            out[path] = Resource(lxml.html.tostring(doc, encoding=charset, doctype="<!DOCTYPE html>"),
                                 res.content_type, res.status, dict(res.headers), res.last_modified)
    return out
