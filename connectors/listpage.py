"""Reading a list page: its tree, its entries by the channel's selectors, what it says of its own
size, and where the next page is. Below the html connector, list detection (`connectors.discover`)
and `xxgk probe`, which all read lists the same way.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import lxml.html
from lxml import etree

from connectors.base import ChannelError
from connectors.dates import parse_date
from connectors.dom import Element, candidates, in_sidebar, node_text, select_node, select_value
from connectors.http import POST_MARK, Page
from connectors.listwalk import Entry, ListCount
from connectors.presets import Selectors
from connectors.urls import canonical_url

# A list anchor that wraps a heading, a date and an excerpt: the heading is the title.
_ANCHOR_HEADING = "h4, h3, h2, h5, .title, .tit"
# Page counts of JS pagers: ccgp `Pager({size:N, …})`, TRS `createPageHTML(N, cur, …)`.
_PAGER_SIZE = re.compile(r"(?:Pager\(\s*\{\s*size\s*:|createPageHTML\(|\bcountPage\s*=)\s*(\d+)")
_NOISE = ("script", "style", "noscript", "iframe", "input", "select", "button", "textarea")


def entry_key(url: str) -> str:
    """A list entry's key: its canonical URL without the scheme. VSB publishes
    one article as `info/{tree}/{news}.htm` and as `content.jsp?…wbtreeid=&wbnewsid=`;
    both key as the `info/` URL.

    >>> entry_key("https://www.example.edu.cn/content.jsp?urltype=news.NewsContentUrl&wbtreeid=1331&wbnewsid=30031")
    'www.example.edu.cn/info/1331/30031.htm'
    """
    parts = urlsplit(url)
    if parts.path.endswith("content.jsp"):
        q = parse_qs(parts.query)
        if "wbtreeid" in q and "wbnewsid" in q:
            root = parts.path.rsplit("/", 1)[0] + "/"
            url = f"{parts.scheme}://{parts.netloc}{root}info/{q['wbtreeid'][0]}/{q['wbnewsid'][0]}.htm"
    # Without the scheme: a site moving from http to https keeps its posts' keys.
    return canonical_url(url).split("://", 1)[-1]


# Hanweb JCMS lists carry a page's records as HTML inside `<script type="text/xml"><datastore>`,
# rendered by its jpage widget, and its `dataproxy.jsp` answers the next records as the same
# `<datastore>` XML: they are the list, so they are kept as elements.
_DATASTORE = re.compile(r"(?:<script[^>]*>\s*)?<datastore>(.*?)</datastore>(?:\s*</script>)?", re.S | re.I)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S | re.I)


def _datastore(m: re.Match[str]) -> str:
    return '<div class="datastore">' + "".join(_RECORD.findall(m.group(1))) + "</div>"


def parse_html(text: str) -> Element:
    """A page's tree, with scripts, styles and form controls removed (their text is never content)."""
    if "<datastore>" in text:
        text = _DATASTORE.sub(_datastore, _XML_DECLARATION.sub("", text, count=1))
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        root = lxml.html.document_fromstring("<html><body></body></html>")
    for el in list(root.iter(*_NOISE)):
        el.drop_tree()
    return root


def list_entries(root: Element, page_url: str, sel: Selectors) -> list[Entry]:
    """The entries of the main list, in page order; sidebars and filler rows dropped."""
    scope = root
    if sel.scope:
        found = select_node(root, sel.scope)
        if found is None:
            raise ChannelError(f"scope selector `{sel.scope}` matched nothing on {page_url} — did the site change?")
        scope = found
    nodes: list[Element] = []
    for n, _ in candidates(scope, sel.entry):  # alternatives may match the same rows twice
        if not any(n is m for m in nodes) and not in_sidebar(n):
            nodes.append(n)
    groups: dict[str, list[Element]] = {}
    tree = root.getroottree()
    for n in nodes:  # the main list is the largest group of siblings
        parent = n.getparent()
        groups.setdefault(tree.getpath(parent) if parent is not None else "", []).append(n)
    if len(groups) > 1:
        nodes = max(groups.values(), key=len)
    link_css = sel.link.rsplit("@", 1)[0] if "@" in sel.link else sel.link
    entries = []
    for node in nodes:
        href = select_value(node, sel.link)
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue  # separator rows, empty tables
        url = urljoin(page_url, href.strip())
        title = (select_value(node, sel.title) or select_value(node, f"{link_css} {_ANCHOR_HEADING}")
                 or (select_value(node, link_css) if link_css else node_text(node)) or "")
        dated = select_node(node, sel.date) if sel.date else None
        when = parse_date(select_value(node, sel.date))
        if dated is not None and dated is not node and title != node_text(dated) and node_text(dated) in title:
            # A link that holds its date too (`<a href><span>2025-06-30</span>标题</a>`, or an entry that is the link).
            title = " ".join(title.replace(node_text(dated), " ").split())
        if when is None:  # the date before the link, split over two elements, or bare text beside it
            when = parse_date(node_text(node).replace(title, " ")) if title else None
        entries.append(Entry(url, title, when, entry_key(url)))
    return entries


# What a list page says of its own size: VSB/WebPlus "共62条", "总记录数：62", "共7页", the pager's "1/7".
_TOTAL = re.compile(r"(?:共\s*(\d+)\s*条|总共\s*(\d+)\s*(?:条|记录|篇)|总(?:记录数|条数|数)\s*[:：]?\s*(\d+)"
                    r"|记录总数\s*[:：]?\s*(\d+))")
_PAGES = re.compile(r"(?:共\s*(\d+)\s*页|(?<![\d/.-])1\s*/\s*(\d+)(?![\d/.-]))")
_PAGER = etree.XPath("//*[contains(@class, 'pb_sys') or contains(@class, 'pag') or contains(@class, 'fanye')"
                     " or contains(@id, 'fanye') or contains(@class, 'p_t')]")


# The total a pager widget is configured with: Hanweb jpage `totalRecord: 95`, layui `laypage.render({count: 95`.
_WIDGET_TOTAL = re.compile(r"(?:\btotalRecord\s*[:=]|laypage\.render\(\s*\{[^}]*?\bcount\s*:)\s*(\d+)", re.S)


def list_count(root: Element, page_text: str) -> ListCount:
    """The size a list's first page states (the site's count is a check on ours).

    >>> list_count(parse_html('<div class="pb_sys_common"><span class="p_t">共62条</span>'
    ...            '<span class="p_t">1/7</span></div>'), "")
    ListCount(total=62, pages=7)
    """
    pager_text = " ".join(node_text(n) for n in _PAGER(root))
    total = pages = None
    m = _TOTAL.search(pager_text) or _TOTAL.search(node_text(root)[-3000:])
    if m:
        total = int(next(g for g in m.groups() if g))
    elif (js_total := _WIDGET_TOTAL.search(page_text)) is not None:
        total = int(js_total.group(1))
    m = _PAGES.search(pager_text)
    if m:
        pages = int(next(g for g in m.groups() if g))
    else:
        js = _PAGER_SIZE.search(page_text)
        pages = int(js.group(1)) if js else None
    return ListCount(total, pages)


def next_page(root: Element, page: Page, first_url: str, sel: Selectors, number: int,
              pages: int | None = None, *, size: int | None = None, total: int | None = None) -> str | None:
    """The URL of list page `number + 1`, or None after the last. A `pages` template numbers the
    page it names from 0 (`{n}`: TRS `index_1.html` is page 2), from 1 (`{p}`: `list2.htm`), down
    from the last (`{down}`: VSB's `xxyw/6.htm` is page 2 of 7), or by the records it holds
    (`{start}`/`{end}`, Hanweb's `dataproxy.jsp?startrecord=46&endrecord=90`, `size` records a page).
    `pages` and `total` are the list's own counts."""
    if sel.pages:
        js = _PAGER_SIZE.search(page.text)
        last = int(js.group(1)) if js else pages
        if last and number >= last:
            return None
        if "{down}" in sel.pages and not last:
            return None
        if "{start}" in sel.pages and (not size or (total is not None and number * size >= total)):
            return None
        size = size or 0
        return urljoin(first_url, sel.pages.format(n=number, p=number + 1, down=(last or 0) - number,
                                                   start=number * size + 1, end=(number + 1) * size))
    href = select_value(root, sel.next)
    if not href:
        return None
    if href.startswith("javascript:"):
        return postback(page, href)
    url = urljoin(page.url, href)
    return None if url == page.url else url


_POSTBACK = re.compile(r"__doPostBack\(\s*['\"]([^'\"]*)['\"]\s*,\s*['\"]([^'\"]*)['\"]\s*\)")


def postback(page: Page, href: str) -> str | None:
    """The address of the page an ASP.NET pager link (`javascript:__doPostBack('pager','2')`) opens:
    the page's form — its hidden `__VIEWSTATE`, `__EVENTVALIDATION` … — replayed with the link's event,
    as `connectors.http` POSTs it. None for any other script link."""
    m = _POSTBACK.search(href)
    if m is None:
        return None
    try:
        forms = lxml.html.document_fromstring(page.text).forms
    except (etree.ParserError, ValueError):
        return None
    form = next((f for f in forms if f.xpath(".//input[@name='__VIEWSTATE']")), forms[0] if forms else None)
    if form is None:
        return None
    fields = [(k, v) for k, v in _form_fields(form) if k not in ("__EVENTTARGET", "__EVENTARGUMENT")]
    fields += [("__EVENTTARGET", m[1]), ("__EVENTARGUMENT", m[2])]
    return urljoin(page.url, form.get("action") or page.url).split("#")[0] + POST_MARK + urlencode(fields)


def _form_fields(form: lxml.html.FormElement) -> list[tuple[str, str]]:
    """What a browser sends for a form submitted by script: every named field, empty ones too
    (lxml's `form_values` leaves out text fields without a value), no buttons, only checked boxes."""
    out: list[tuple[str, str]] = []
    for el in form.inputs:
        name = el.get("name")
        kind = (el.get("type") or "text").lower()
        if not name or kind in ("submit", "button", "image", "reset", "file"):
            continue
        if kind in ("checkbox", "radio") and el.get("checked") is None:
            continue
        value = el.value if isinstance(el.value, str) else ""
        out.append((name, value or ""))
    return out


def is_json(page: Page) -> bool:
    return page.text.lstrip()[:1] in ("{", "[")


_JSON_TITLE = ("title", "name", "subject", "headline", "biaoti", "标题")
_JSON_URL = ("url", "link", "href", "path", "linkurl", "link_url", "detailurl", "detail_url")
_JSON_DATE = ("date", "publishdate", "publish_date", "publishtime", "publish_time", "pubdate", "pubtime", "time",
              "releasetime", "release_time", "createtime", "create_time", "createdate", "addtime", "发布时间")


def json_entries(page: Page) -> list[Entry]:
    """The entries of a "load more" endpoint's JSON answer: the longest array of objects that each
    name a title and a link, wherever it sits (`{"data": {"list": […]}}`), in the array's order."""
    try:
        data = json.loads(page.text)
    except ValueError:
        return []
    rows = max(_arrays(data), key=len, default=[])
    entries = []
    for row in rows:
        fields = {str(k).lower(): v for k, v in row.items()}
        title = next((str(fields[k]) for k in _JSON_TITLE if fields.get(k)), "")
        href = next((str(fields[k]) for k in _JSON_URL if fields.get(k)), "")
        if not title or not href:
            continue
        url = urljoin(page.url, href)
        when = next((parse_date(str(fields[k])) for k in _JSON_DATE if fields.get(k)), None)
        entries.append(Entry(url, " ".join(lxml.html.fromstring(f"<p>{title}</p>").text_content().split()),
                             when, entry_key(url)))
    return entries


def _arrays(data: object) -> list[list[dict[str, object]]]:
    """Every array of objects in a JSON document, nested ones included."""
    found: list[list[dict[str, object]]] = []
    if isinstance(data, list):
        rows = [r for r in data if isinstance(r, dict)]
        if rows:
            found.append(rows)
        for item in data:
            found.extend(_arrays(item))
    elif isinstance(data, dict):
        for value in data.values():
            found.extend(_arrays(value))
    return found


def read_entries(page: Page, sel: Selectors) -> list[Entry]:
    """A list page's entries: by the selectors, or, for a JSON answer, by its fields."""
    return json_entries(page) if is_json(page) else list_entries(parse_html(page.text), page.url, sel)


_CRUMB_SPLIT = re.compile(r"\s*(?:>>|»|>|＞|→|/)\s*")
_CURRENT = etree.XPath("//*[text()[contains(., '当前位置')]]")
_CRUMB_CLASSES = etree.XPath(
    "//*[contains(@class, 'currentloc') or contains(@class, 'breadcrumb') or contains(@class, 'position')"
    " or contains(@class, 'location')]")


def breadcrumb(root: Element) -> str | None:
    """The page's breadcrumb, its parts joined by `>` (首页 and 正文 left out)."""
    found = _CURRENT(root)
    if found:
        node = found[0]
        if len(node_text(node)) < 8 and node.getparent() is not None:
            node = node.getparent()
    else:
        found = _CRUMB_CLASSES(root)
        if not found:
            return None
        node = found[0]
    text = re.sub(r"^.*?当前位置\s*[:：]?\s*", "", node_text(node))
    parts = [p.strip() for p in _CRUMB_SPLIT.split(text) if p.strip()]
    parts = [p for p in parts if p not in ("首页", "网站首页", "正文", "正文内容")]
    return ">".join(parts) or None


def column_name(root: Element) -> str | None:
    """The column's name as the page states it: the breadcrumb's last part, else `<title>`'s first."""
    crumb = breadcrumb(root)
    if crumb:
        return crumb.split(">")[-1].strip() or None
    head = root.find(".//title")
    if head is None:
        return None
    first = re.split(r"\s*[-_|｜—–]+\s*", node_text(head).strip())[0]
    return first or None


def page_title(root: Element) -> str:
    """The page's `<title>`, for messages that say which page was read."""
    head = root.find(".//title")
    return node_text(head) if head is not None else "无 <title>"
