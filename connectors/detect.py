"""Finding a list page's entries without being told where they are.

Used when a channel gives only its URL (a bare-URL channel), by `xxgk probe`, and by the html
connector when a configured list selector matches nothing (a redesign that moved the list).

The idea is feedless's: score groups of sibling elements that each hold a link, and keep the
best — adapted to Chinese lists: titles are measured in characters, not space-separated words,
and dates are read from the text beside each link, not only from `<time>`. A group scores by
the evidence that it is the list: a date beside most entries, distinct links that look like
articles under the list's own section, titles of article length, no menu or footer around it.
The strongest evidence is another page of the same site (page 2, or a detail page): a group
whose template and links repeat there is chrome — a menu, a sidebar, friend links — never the
list. CMS fingerprints (VSB, WebPlus, TRS, ccgp, …) are priors the page must confirm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urljoin, urlsplit

from connectors.dates import MonthDay, parse_date
from connectors.dom import Element, in_sidebar, node_text, select_value
from connectors.http import POST_MARK
from connectors.select import compile_css

# Markers each CMS leaves in its pages (docs/sites.md), strongest first. Only those with a
# preset choose selectors; the others are named in probe's report.
FINGERPRINTS: dict[str, tuple[str, ...]] = {
    "vsb-legacy": ('class="winstyle', "class=\"timestyle"),
    "vsb": ("_showDynClickBatch", "pb_sys_common", 'frag="窗口', "vsb_content", "/system/resource/", "line_u"),
    "webplus": ("wp_article_list", "wp_paging", "list.psp", "_sitegray", "Article_PublishDate"),
    "trs": ("createPageHTML", "TRS_Editor", "trs_", "Custom_UnionStyle"),
    "ccgp": ("c_list_bid", "ccgp.gov.cn", "vF_detail"),
    "epoint": ("ewb-", "/EpointWebBuilder/", "epoint"),
    "siteserver": ("stl_", "SiteServer", "siteserver"),
    "hanweb": ("jpage", "/jcms/", "hanweb", "dataproxy.jsp"),
    "dedecms": ("dedecms", "DedeCMS", "/plus/list.php", "/plus/view.php"),
    "phpcms": ("phpcms", "PHPCMS", "index.php?m=content"),
    "aspnet": ("__VIEWSTATE", "__doPostBack"),
}
_ENTRY_TAGS = ("li", "tr", "dl", "dd", "div", "p", "article", "section")
_NEXT_WORDS = ("下一页", "下页", "后页", "下一頁", "Next", "next")
_NEXT_SIGNS = ("›", "»", ">", "＞")
_NOT_ENTRY = ("nav", "header", "footer", "aside")
# Blocks named as chrome: menus (also the mobile ones), navigation, footers, friend links, banners.
_CHROME_NAME = re.compile(r"nav|menu|daohang|footer|foot\b|bottom|copyright|banner|yqlj|friend|mobile|topbar|header",
                          re.I)
_DETAIL_URL = re.compile(r"\d{3,}|/t\d{8}_|content|detail|article|/info/|show|view|art_|\?id=|&id=", re.I)


def fingerprint(text: str) -> str | None:
    """The CMS a page comes from: the family whose markers it carries most (None when none). A page
    of one family may carry another's stray marker (a WebPlus page linking `/system/resource/`).

    >>> fingerprint('<div class="pb_sys_common pb_sys_normal">')
    'vsb'
    >>> fingerprint('<div class="wp_article_list"><a href="/system/resource/x.js"></a><div class="wp_paging">')
    'webplus'
    """
    found = {cms: sum(m in text for m in marks) for cms, marks in FINGERPRINTS.items()}
    best = max(found, key=lambda cms: found[cms])  # the most markers; the earlier family on a tie
    return best if found[best] else None


@dataclass(frozen=True, slots=True)
class DetectedList:
    """A list found by its shape: selectors in the config's language, and how sure."""

    entry: str
    title: str | None  # `a@title` when the anchors carry whole titles
    date: str | None  # None: the date is read from the entry's text beside the link
    next: str | None
    entries: int
    dated: int
    link: str = "a@href"  # `@href` when each entry is itself the link
    pages: str | None = None
    chrome: tuple[str, ...] = ()  # groups set aside because they repeat on another page of the site

    def as_config(self) -> dict[str, str]:
        out = {"entry": self.entry, "link": self.link}
        for key in ("title", "date", "next", "pages"):
            value = getattr(self, key)
            if value:
                out[key] = value
        if self.pages:
            out.pop("next", None)
        return out


@dataclass(slots=True)
class Group:
    """Sibling elements that each hold a link: a candidate for the list."""

    members: list[Element]
    links: list[str]
    titles: list[str]
    shape: str  # the template: tags and classes of the entry and two ancestors (the same on every page)
    dated: int = 0
    score: float = 0.0
    chrome: bool = False
    notes: list[str] = field(default_factory=list)


def _css_class(el: Element) -> str:
    classes = [c for c in (el.get("class") or "").split()
               if c.isascii() and c.replace("-", "").replace("_", "").isalnum() and not c[0].isdigit()]
    return "." + classes[0] if classes else ""


def _step(node: Element) -> str:
    ident = node.get("id")
    if ident and ident.isascii() and ident.replace("-", "").replace("_", "").isalnum() \
            and not ident[0].isdigit() and not any(ch.isdigit() for ch in ident[-3:]):
        return f"{node.tag}#{ident}"
    return node.tag + _css_class(node)


def _css_for(el: Element) -> str:
    """A short CSS path to `el`: its nearest ancestor with an id or class, then tags down."""
    parts: list[str] = []
    node: Element | None = el
    while node is not None and isinstance(node.tag, str) and node.tag not in ("html", "body"):
        step = _step(node)
        parts.append(step)
        if "#" in step or ("." in step and len(parts) >= 2):
            break
        node = node.getparent()
    return " > ".join(reversed(parts))


def unique_css(el: Element, root: Element) -> str:
    """A CSS path that selects `el` and nothing else on its page (ancestors are added until it does;
    `:nth-of-type` when two blocks are built alike)."""
    parts: list[str] = []
    node: Element | None = el
    while node is not None and isinstance(node.tag, str) and node.tag not in ("html", "body"):
        parts.append(_step(node))
        css = " > ".join(reversed(parts))
        if len(parts) >= 2 or "#" in parts[-1] or "." in parts[-1]:
            found = compile_css(css)(root)
            if len(found) == 1 and found[0] is el:
                return css
        node = node.getparent()
    # Two blocks built alike: the path from <body>, each step with its place among its kind.
    steps: list[str] = []
    node = el
    while node is not None and isinstance(node.tag, str) and node.tag not in ("html", "body"):
        parent = node.getparent()
        same = [c for c in parent if c.tag == node.tag] if parent is not None else [node]
        index = next(i for i, c in enumerate(same, 1) if c is node)
        steps.append(f"{node.tag}:nth-of-type({index})" if len(same) > 1 else node.tag)
        node = parent
    return "body > " + " > ".join(reversed(steps))


def _entry_of(a: Element, stop: Element) -> Element | None:
    """The repeated element an anchor belongs to: its nearest ancestor (or itself) among
    siblings of the same tag."""
    node: Element | None = a
    while node is not None and node is not stop:
        parent = node.getparent()
        if parent is None:
            return None
        if node.tag in _ENTRY_TAGS or node.tag == "a":
            same = [c for c in parent if c.tag == node.tag]
            if len(same) >= 3:
                return node
        node = parent
    return None


def _date_in(text: str) -> bool:
    found = parse_date(text)
    return isinstance(found, (datetime, date, MonthDay))


def _anchor_title(entry: Element) -> str:
    a = entry if entry.tag == "a" else next(entry.iter("a"), None)
    if a is None:
        return ""
    return (a.get("title") or "").strip() or node_text(a)


def _shape(entry: Element) -> str:
    parts = [entry.tag + _css_class(entry)]
    node = entry.getparent()
    for _ in range(2):
        if node is None or node.tag in ("html", "body"):
            break
        parts.append(node.tag + _css_class(node))
        node = node.getparent()
    return " > ".join(reversed(parts))


def groups_of(root: Element, page_url: str) -> list[Group]:
    """Every group of ≥3 sibling entries with links, outside `<nav>`/`<header>`/`<footer>`/sidebars."""
    found: dict[tuple[str, str, str], list[Element]] = {}
    tree = root.getroottree()
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        if any(p.tag in _NOT_ENTRY for p in a.iterancestors()) or in_sidebar(a):
            continue
        entry = _entry_of(a, root)
        if entry is None:
            continue
        parent = entry.getparent()
        # Keyed by the parent's path, never by id(): lxml's proxies come and go, and a freed one's id
        # is soon another element's.
        place = tree.getpath(parent) if parent is not None else ""
        members = found.setdefault((place, entry.tag, _css_class(entry)), [])
        if not any(m is entry for m in members):
            members.append(entry)
    out = []
    for members in found.values():
        if len(members) < 3:
            continue
        anchors = [m if m.tag == "a" else next(m.iter("a")) for m in members]
        links = [urljoin(page_url, (a.get("href") or "").strip()) for a in anchors]
        titles = [_anchor_title(m) for m in members]
        out.append(Group(members, links, titles, _shape(members[0])))
    return out


def _score(group: Group, page_url: str) -> float:
    """How much a group looks like the page's main list (see the module's docstring)."""
    n = len(group.members)
    mean_chars = sum(len(t) for t in group.titles) / n
    if mean_chars < 6:
        return 0.0  # menus and pagers: short words
    group.dated = sum(_date_in(node_text(m).replace(t, " ")) for m, t in zip(group.members, group.titles, strict=True))
    distinct = len(set(group.links)) / n
    detail_like = sum(bool(_DETAIL_URL.search(u.split("://", 1)[-1].split("/", 1)[-1])) for u in group.links) / n
    section = urlsplit(page_url).path.rsplit("/", 1)[0]
    own = sum(urlsplit(u).path.startswith(section + "/") for u in group.links) / n if section else 0.0
    first = group.members[0]
    named = any(_CHROME_NAME.search(f"{p.get('class', '')} {p.get('id', '')}") for p in first.iterancestors())
    nested = sum(1 for m in group.members if m.find(".//ul") is not None or m.find(".//ol") is not None) / n
    if group.dated < n / 2 and detail_like < 0.5:
        return 0.0  # neither dated nor linking to articles: friend links, a column index, a menu
    return (n * (1 + 2 * group.dated / n) * min(mean_chars, 40) * distinct * (0.5 + detail_like)
            * (0.75 + 0.5 * own) * (0.25 if named else 1.0) * (1 - 0.8 * nested))


def mark_chrome(groups: list[Group], other: Element, other_url: str) -> None:
    """Groups that appear again on `other` (another page of the same site) — the same template
    holding (nearly) the same links — are the site's chrome: menus, sidebars, footers, friend
    links. The list itself changes from page to page, or is not on a detail page at all; a sidebar
    of the newest posts shares most of page 1's links, but is not the same size."""
    again: dict[str, list[set[str]]] = {}
    for g in groups_of(other, other_url):
        again.setdefault(g.shape, []).append(set(g.links))
    for g in groups:
        mine = set(g.links)
        if any(len(theirs) == len(mine) and len(mine & theirs) >= 0.8 * len(mine)
               for theirs in again.get(g.shape, [])):
            g.chrome = True
            g.score *= 0.05


def ranked_groups(root: Element, page_url: str) -> list[Group]:
    """The page's candidate lists, best first (score 0 dropped)."""
    groups = groups_of(root, page_url)
    for g in groups:
        g.score = _score(g, page_url)
    return sorted((g for g in groups if g.score > 0), key=lambda g: -g.score)


def describe(group: Group, root: Element, pager: tuple[str | None, str | None]) -> DetectedList:
    """The config selectors that read `group` (its entry path made unique on the page)."""
    members = group.members
    first = members[0]
    parent = first.getparent()
    assert parent is not None
    entry_css = f"{unique_css(parent, root)} > {first.tag}{_css_class(first)}"
    self_link = first.tag == "a"
    anchors = [m if self_link else next(m.iter("a"), None) for m in members]
    with_title = sum(1 for a in anchors if a is not None and (a.get("title") or "").strip())
    return DetectedList(
        entry=entry_css,
        title=("@title" if self_link else "a@title") if with_title >= 0.8 * len(members) else None,
        date=_date_selector(members),
        next=pager[0],
        entries=len(members),
        dated=group.dated,
        link="@href" if self_link else "a@href",
        pages=pager[1],
    )


def detect_list(root: Element, page_url: str = "", other: tuple[Element, str] | None = None,
                pager: tuple[str | None, str | None] | None = None) -> DetectedList | None:
    """The page's main list: the best-scoring group of ≥3 sibling entries with links; with
    `other` (another page of the site and its URL), groups that repeat there are set aside."""
    groups = ranked_groups(root, page_url)
    if other is not None:
        mark_chrome(groups, *other)
        groups.sort(key=lambda g: -g.score)
    if not groups:
        return None
    found = describe(groups[0], root, pager if pager is not None else (_next_selector(root), None))
    chrome = tuple(g.shape for g in groups if g.chrome)
    return DetectedList(**{**{k: getattr(found, k) for k in found.__dataclass_fields__}, "chrome": chrome})


def _date_selector(members: list[Element]) -> str | None:
    """A child selector that holds each entry's date on its own (`span.date`, `em`), or None
    when the date is spread over several elements or sits beside the link as bare text."""
    votes: dict[str, int] = {}
    for m in members:
        for el in m.iter():
            if el is m or not isinstance(el.tag, str) or el.tag == "a":
                continue
            if _date_in(node_text(el)) and len(node_text(el)) <= 25:
                for css in (el.tag + _css_class(el), f"{el.tag}:last-child"):
                    votes[css] = votes.get(css, 0) + 1
                break
    # A selector is kept only if its *first* match in each entry is the date (a bare `td`
    # would read the title's cell first).
    for css, _n in sorted(votes.items(), key=lambda kv: -kv[1]):
        if sum(_date_in(select_value(m, css) or "") for m in members) >= 0.8 * len(members):
            return css
    return None


def _next_selector(root: Element) -> str | None:
    return detect_pager(root, "", "")[0]


# Script pagers: TRS `createPageHTML(7, 0, "index", "html")`, ccgp `Pager({size: 5, current: 0,
# prefix: 'index', suffix: 'htm'})` — the pages other than the first are `{prefix}_{n}.{ext}`.
_SCRIPT_PAGERS = (
    re.compile(r"createPageHTML\(\s*(?P<size>\d+)\s*,\s*\d+\s*,\s*[\"'](?P<prefix>[\w-]+)[\"']\s*,"
               r"\s*[\"'](?P<ext>\w+)[\"']"),
    re.compile(r"Pager\(\s*\{[^}]*?size\s*:\s*(?P<size>\d+)[^}]*?prefix\s*:\s*[\"'](?P<prefix>[\w-]+)[\"']"
               r"[^}]*?suffix\s*:\s*[\"'](?P<ext>\w+)[\"']", re.S),
)
_NUMBER = re.compile(r"(\d+)")
# A pager widget's link pattern, as its script builds it: `location.href = 'list_' + obj.curr + '.html'`.
_WIDGET_LINK = re.compile(r"""["'](?P<prefix>[\w./-]*)["']\s*\+\s*(?:obj\.curr|curr|page|pageNo|pageNum|pageIndex)"""
                          r"""\s*\+\s*["'](?P<suffix>\.(?:s?html?|jsp|php|aspx?))["']""")
# A "load more" button's endpoint, as its script builds it: `'/news/more.json?page=' + page`.
_LOAD_MORE = re.compile(r"""["'](?P<url>[^"'\s]+[?&](?:page|pageNo|pageNum|pageIndex|pn|p)=)["']\s*\+\s*\(?\s*\w+""")


def detect_pager(root: Element, page_text: str, page_url: str,
                 pages: int | None = None) -> tuple[str | None, str | None, str | None]:
    """How the list goes on: a next-link selector, or a page-URL template (`{n}`/`{p}`/`{down}`, see
    `next_page`), and the URL of page 2 when the page names it. Tried in turn: a link named
    下一页/下页/后页/› (also an ASP.NET `__doPostBack` one), numbered links (2, 3) whose URLs differ
    only by the page's number, a script pager's call (`createPageHTML`, `Pager({…})`), a pager
    widget's link pattern (`'list_' + obj.curr + '.html'`), the endpoint a "load more" script reads
    (`'/news/more.json?page=' + n`)."""
    found = _next_link(root, page_url)
    if found is not None:
        return found
    numbered = {node_text(a).strip("[] "): urljoin(page_url, a.get("href", "").strip()) for a in root.iter("a")
                if node_text(a).strip("[] ") in ("2", "3") and not a.get("href", "").startswith(("javascript", "#"))
                and a.get("href")}
    if "2" in numbered:
        template = _number_template(page_url, numbered["2"], numbered.get("3"), pages)
        if template:
            return None, template, numbered["2"]
    for pattern in _SCRIPT_PAGERS:
        m = pattern.search(page_text)
        if m and int(m["size"]) > 1:
            template = f"{m['prefix']}_{{n}}.{m['ext']}"
            return None, template, urljoin(page_url, template.format(n=1))
    jpage = _jpage(page_text)
    if jpage is not None:
        return None, jpage[0], urljoin(page_url, jpage[1])
    widget = _WIDGET_LINK.search(page_text)
    if widget:  # a pager widget that builds its links from a pattern (layui laypage's `jump`, …)
        template = f"{widget['prefix']}{{p}}{widget['suffix']}"
        return None, template, urljoin(page_url, template.format(p=2))
    more = _LOAD_MORE.search(page_text)
    if more:  # "load more": page 1 is the HTML list, pages 2… come from the endpoint the script names
        template = more["url"] + "{p}"
        return None, template, urljoin(page_url, template.format(p=2))
    return None, None, None


_JPAGE = re.compile(r"jpage\(\s*\{(?P<config>.*?)\}\s*\)", re.S)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[\s*<a[^>]*href=[\"']([^\"']+)[\"']", re.S | re.I)


def _jpage(page_text: str) -> tuple[str, str] | None:
    """Hanweb JCMS's jpage widget: the first records sit in the page's `<datastore>`, the next ones
    come from its `proxyUrl` (`dataproxy.jsp?startrecord=46&endrecord=90&perpage=15`), POSTed with
    the parameters of the datastore's `<nextgroup>` link. The template and page 2's address."""
    m = _JPAGE.search(page_text)
    group = _NEXTGROUP.search(page_text)
    if m is None or group is None:
        return None
    config = m["config"]
    proxy = re.search(r"proxyUrl\s*:\s*[\"']([^\"']+)[\"']", config)
    per = re.search(r"perPage\s*:\s*(\d+)", config)
    if proxy is None:
        return None
    query = group.group(1).split("?", 1)[1] if "?" in group.group(1) else ""
    template = (f"{proxy.group(1)}?startrecord={{start}}&endrecord={{end}}&perpage={per.group(1) if per else 15}"
                f"{POST_MARK}{query}")
    size = page_text.count("<record>")
    return template, template.format(start=size + 1, end=2 * size)


def _next_link(root: Element, page_url: str) -> tuple[str | None, str | None, str | None] | None:
    for a in root.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith("#") or (href.startswith("javascript:") and "__doPostBack" not in href):
            continue
        text = node_text(a)
        word = next((w for w in _NEXT_WORDS if text == w or text.startswith(w) or a.get("title") == w), None)
        if word is not None:
            spec = f"a[title='{word}']@href" if a.get("title") == word else f"a:-soup-contains('{word}')@href"
        elif text in _NEXT_SIGNS:
            parent = a.getparent()
            scope = _css_for(parent) + " " if parent is not None else ""
            spec = f"{scope}a.{_css_class(a)[1:]}@href" if _css_class(a) else f"{scope}a:-soup-contains('{text}')@href"
        else:
            continue
        if href.startswith("javascript:"):
            return spec, None, None  # an ASP.NET pager: page 2 is a form post (`listpage.postback`)
        url = urljoin(page_url, href)
        return spec, None, url if url != page_url else None
    return None


def _number_template(first: str, second: str, third: str | None, pages: int | None) -> str | None:
    """A page-URL template from the URLs of pages 1, 2 (and 3): the one number that counts the pages.

    >>> _number_template("http://x/tzgg/index.html", "http://x/tzgg/index_1.html", "http://x/tzgg/index_2.html", None)
    '/tzgg/index_{n}.html'
    >>> _number_template("http://x/xwzx/xxyw.htm", "http://x/xwzx/xxyw/6.htm", "http://x/xwzx/xxyw/5.htm", 7)
    '/xwzx/xxyw/{down}.htm'
    >>> _number_template("http://x/list.htm", "http://x/list2.htm", None, None)
    '/list{p}.htm'
    """
    def local(url: str) -> str:
        parts = urlsplit(url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    a, b = _NUMBER.split(local(second)), _NUMBER.split(local(third) if third else local(first))
    if third is not None and len(a) == len(b):
        diff = [i for i in range(1, len(a), 2) if a[i] != b[i]]
        if len(diff) != 1 or any(a[i] != b[i] for i in range(0, len(a), 2)):
            return None
        at, v2, step = diff[0], int(a[diff[0]]), int(b[diff[0]]) - int(a[diff[0]])
    else:
        at = len(a) - 2  # the last number of page 2's URL is the page's
        if at < 1:
            return None
        v2, step = int(a[at]), 0
    if step in (0, 1) and v2 == 1:
        slot = "{n}"
    elif step in (0, 1) and v2 == 2:
        slot = "{p}"
    elif step in (0, -1) and (pages is None or v2 == pages - 1):
        slot = "{down}"
    else:
        return None
    return "".join(slot if i == at else part for i, part in enumerate(a))


_TEXT_TAGS = ("p", "td", "li", "span", "font", "div", "section", "article", "pre", "blockquote")


def detect_body(root: Element) -> str | None:
    """A CSS selector for the article text of a detail page the generic selectors miss (see
    `body_node`), unique on the page; None when no block holds 100 characters."""
    best = body_node(root)
    return unique_css(best, root) if best is not None else None


def body_node(root: Element) -> Element | None:
    """The element under which most paragraph text (not link text) gathers, outside sidebars,
    navigation and footers (Readability's idea, measured in characters). Text set straight into a
    cell or a div (lines split by `<br>`) counts for that block itself. None below 100 characters."""
    scores: dict[int, float] = {}
    nodes: dict[int, Element] = {}
    for el in root.iter("p", "br", "td", "li", "div", "span", "font"):
        if not isinstance(el.tag, str) or any(p.tag in _NOT_ENTRY for p in el.iterancestors()) or in_sidebar(el):
            continue
        own = "".join(el.xpath("text()")).strip()
        if el.tag == "p" or len(own) >= 20:
            weight = float(len(node_text(el)) if el.tag == "p" else len(own))
            weight -= sum(len(node_text(a)) for a in el.iter("a"))
            parent = el.getparent()
            here = (el, 1.0) if el.tag not in ("p", "br") else (None, 0.0)
            for up, share in (here, (parent, 1.0), (parent.getparent() if parent is not None else None, 0.5)):
                if up is not None and up.tag in _TEXT_TAGS + ("form",):
                    scores[id(up)] = scores.get(id(up), 0.0) + weight * share
                    nodes[id(up)] = up
    if not scores:
        return None
    best_id = max(scores, key=lambda k: scores[k])
    return nodes[best_id] if scores[best_id] >= 100 else None
