"""`html` channels: a CMS list page plus detail pages (VSB, WebPlus, TRS, ccgp, …).

Walks the list newest first, fetches detail pages only for entries the store
does not have, and stops at the first page that brings nothing new
(`--full` walks every page, resumable from its last checkpoint). See
SITES.md for the page shapes this reads. Pages are parsed by lxml and read
with compiled selectors (`connectors.select`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import ClassVar, Literal, TypeAlias
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html
import nh3
from lxml import etree
from pydantic import Field, field_validator

from aggregator.clock import local_now
from connectors.base import (
    Attachment,
    ChannelError,
    ChannelState,
    Checkpoint,
    FetchContext,
    Item,
    RawPost,
    Skipped,
)
from connectors.dates import MonthDay, parse_date, resolve_month_day
from connectors.http import FetchError, Page, fetch_page, host_allowed
from connectors.presets import DetailSelectors, ListSelectors, Selectors, known_preset, preset_problem, selectors_for
from connectors.select import compile_spec
from connectors.settings import ChannelSettings, WebSettings
from connectors.urls import canonical_url

Element: TypeAlias = lxml.html.HtmlElement
_ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|zip|rar|7z|wps|et|txt|csv|ofd)$", re.I)
# The value stays on the label's line and is not itself the next label: an empty
# "来源：" followed by "发布日期：…" or a body sentence names no department.
_DEPARTMENT = re.compile(r"(?:来源|发布部门|发布单位|供稿单位|供稿)[ \t\u3000\xa0]*[:：][ \t\u3000\xa0]*"
                         r"([^\s|｜:：]+)(?=[\s|｜]|$)")
# Page counts of JS pagers: ccgp `Pager({size:N, …})`, TRS `createPageHTML(N, cur, …)`.
_PAGER_SIZE = re.compile(r"(?:Pager\(\s*\{\s*size\s*:|createPageHTML\()\s*(\d+)")
_NOISE = ("script", "style", "noscript", "iframe", "input", "select", "button", "textarea")
_SIDEBAR = ("aside", "nav", "header", "footer")
_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
                     "section", "article", "blockquote", "pre", "dd", "dt", "hr"})
_CRUMB_SPLIT = re.compile(r"\s*(?:>>|»|>|＞|→|/)\s*")
_CURRENT = etree.XPath("//*[text()[contains(., '当前位置')]]")
_CRUMB_CLASSES = etree.XPath(
    "//*[contains(@class, 'currentloc') or contains(@class, 'breadcrumb') or contains(@class, 'position')"
    " or contains(@class, 'location')]")


@dataclass(slots=True)
class Entry:
    url: str
    title: str
    date: datetime | date | MonthDay | None
    key: str


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


def parse_html(text: str) -> Element:
    """A page's tree, with scripts, styles and form controls removed (their text is never content)."""
    try:
        root = lxml.html.document_fromstring(text)
    except (etree.ParserError, ValueError):
        root = lxml.html.document_fromstring("<html><body></body></html>")
    for el in list(root.iter(*_NOISE)):
        el.drop_tree()
    return root


def _text(node: Element) -> str:
    return " ".join(node.text_content().split())


def block_text(node: Element) -> str:
    """Text with a line break at every block element (paragraphs survive)."""
    parts: list[str] = []

    def walk(el: Element) -> None:
        if not isinstance(el.tag, str):  # comments, processing instructions
            if el.tail:
                parts.append(el.tail)
            return
        block = el.tag in _BLOCKS
        if block:
            parts.append("\n")
        if el.text:
            parts.append(el.text)
        for child in el:
            walk(child)
        if block:
            parts.append("\n")
        if el.tail:
            parts.append(el.tail)

    parts.append(node.text or "")
    for child in node:
        walk(child)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    return "\n".join(line for line in lines if line)


def _candidates(root: Element, spec: str) -> Iterator[tuple[Element, str | None]]:
    for xpath, attr in compile_spec(spec):
        if xpath is None:
            yield root, attr
        else:
            for node in xpath(root):
                yield node, attr


def select_value(root: Element, spec: str | None) -> str | None:
    """The first alternative of `spec` that yields non-empty text or attribute."""
    if not spec:
        return None
    for node, attr in _candidates(root, spec):
        value = node.get(attr) if attr else _text(node)
        if value and value.strip():
            return value.strip()
    return None


def select_node(root: Element, spec: str | None) -> Element | None:
    if not spec:
        return None
    return next((node for node, _ in _candidates(root, spec)), None)


# "side", "sidebar", "leftside", "right_side" — but not "inside" (`insideCon` is a common main column).
_SIDE_NAME = re.compile(r"(?<!in)side", re.I)


def _in_sidebar(node: Element) -> bool:
    for parent in node.iterancestors():
        if parent.tag in _SIDEBAR:
            return True
        if _SIDE_NAME.search(f"{parent.get('class', '')} {parent.get('id', '')}"):
            return True
    return False


def list_entries(root: Element, page_url: str, sel: Selectors) -> list[Entry]:
    """The entries of the main list, in page order; sidebars and filler rows dropped."""
    scope = root
    if sel.scope:
        found = select_node(root, sel.scope)
        if found is None:
            raise ChannelError(f"scope selector `{sel.scope}` matched nothing on {page_url} — did the site change?")
        scope = found
    nodes: list[Element] = []
    for n, _ in _candidates(scope, sel.entry):  # alternatives may match the same rows twice
        if not any(n is m for m in nodes) and not _in_sidebar(n):
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
        title = select_value(node, sel.title) or select_value(node, link_css) or ""
        entries.append(Entry(url, title, parse_date(select_value(node, sel.date)), entry_key(url)))
    return entries


def next_page(root: Element, page: Page, first_url: str, sel: Selectors, number: int) -> str | None:
    """The URL of list page `number + 1`, or None after the last."""
    if sel.pages:
        size = _PAGER_SIZE.search(page.text)
        if size and number >= int(size.group(1)):
            return None
        return urljoin(first_url, sel.pages.format(n=number))
    href = select_value(root, sel.next)
    if not href or href.startswith("javascript:"):
        return None
    url = urljoin(page.url, href)
    return None if url == page.url else url


def _breadcrumb(root: Element) -> str | None:
    found = _CURRENT(root)
    if found:
        node = found[0]
        if len(_text(node)) < 8 and node.getparent() is not None:
            node = node.getparent()
    else:
        found = _CRUMB_CLASSES(root)
        if not found:
            return None
        node = found[0]
    text = re.sub(r"^.*?当前位置\s*[:：]?\s*", "", _text(node))
    parts = [p.strip() for p in _CRUMB_SPLIT.split(text) if p.strip()]
    parts = [p for p in parts if p not in ("首页", "网站首页", "正文", "正文内容")]
    return ">".join(parts) or None


def _attachments(root: Element, page_url: str, spec: str) -> list[Attachment]:
    """Attachment links: those the spec names (VSB `download.jsp`, ccgp `ul.fjxx`) and
    any link to an office/PDF file. VSB links have no extension: the name is the
    anchor text ("附件1 …docx")."""
    anchors: list[Element] = []
    for node, _ in _candidates(root, spec) if spec else ():
        anchors.extend([node] if node.tag == "a" else node.iter("a"))
    anchors.extend(a for a in root.iter("a") if _ATTACHMENT_EXT.search(urlsplit(a.get("href", "")).path))
    found: dict[str, Attachment] = {}
    for a in anchors:
        href = (a.get("href") or "").strip()
        if not href or href.startswith("javascript:"):
            continue
        url = urljoin(page_url, href)
        name = _text(a).strip("【】[] ") or url.rsplit("/", 1)[-1]
        found.setdefault(url, Attachment(name=name, url=url))
    return list(found.values())


def sanitize(fragment: str) -> str:
    """Scraped HTML as the web page may show it: no scripts, no handlers, no styles."""
    return nh3.clean(fragment, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def parse_detail(page: Page, entry: Entry, sel: Selectors) -> RawPost:
    """A detail page → RawPost. The detail page's title and date win over the list's."""
    root = parse_html(page.text)
    title = select_value(root, sel.detail.get("title"))
    if not title or (entry.title and len(title) < 4 <= len(entry.title)):
        title = entry.title
    info = select_value(root, sel.detail.get("date"))
    published = parse_date(info)
    if published is None or isinstance(published, MonthDay):
        published = entry.date if not isinstance(entry.date, MonthDay) or published is None else published
    body_node = select_node(root, sel.detail.get("body"))
    body = block_text(body_node) if body_node is not None else ""
    department = select_value(root, sel.detail.get("department"))
    if not department:
        m = _DEPARTMENT.search(info or "") or _DEPARTMENT.search(block_text(root)[:3000])
        department = m.group(1) if m else None
    extra: dict[str, object] = {}
    if not body and "NewsvoteDWR.getNewsLinkUrl" in page.text:
        extra["link_only"] = True  # VSB link-type news: the article lives elsewhere
    body_html = None
    if body_node is not None:
        body_html = sanitize(lxml.html.tostring(body_node, encoding="unicode", with_tail=False))
    return RawPost(
        title=title,
        url=entry.url,
        key=entry.key,
        published_at=published if not isinstance(published, MonthDay) else None,
        body=body,
        body_html=body_html,
        department=department,
        attachments=_attachments(root, page.url, sel.detail.get("attachments", "")),
        column=_breadcrumb(root),
        extra=extra,
    )


class HtmlSettings(WebSettings):
    """An `html` channel: a CMS list page plus detail pages, by `preset` and/or selectors."""

    kind: Literal["html"] = "html"
    preset: str | None = None
    list_: ListSelectors | None = Field(default=None, alias="list")
    detail: DetailSelectors | None = None

    _p = field_validator("preset")(known_preset)

    def problems(self) -> list[str]:
        found = super().problems()
        lacking = preset_problem(self.preset, self.list_)
        return [*found, lacking] if lacking else found


def html_settings(ctx: FetchContext) -> HtmlSettings:
    if not isinstance(ctx.channel, HtmlSettings):
        raise ChannelError(f"channel {ctx.channel.id}: kind `{ctx.channel.kind}` is not read by the html connector")
    return ctx.channel


class HtmlConnector:
    kind: ClassVar[str] = "html"
    settings: ClassVar[type[ChannelSettings]] = HtmlSettings

    def hosts(self, ctx: FetchContext) -> list[str]:
        assert ctx.channel.url is not None
        return [urlsplit(ctx.channel.url).hostname or "", *ctx.channel.hosts]

    def enrich(self, post: RawPost, page: Page | None, entry: Entry, ctx: FetchContext) -> RawPost:
        """Hook for kinds that read more from a page (procurement)."""
        return post

    def _detail(self, ctx: FetchContext, sel: Selectors, entry: Entry) -> RawPost | Skipped:
        hosts = self.hosts(ctx)
        if not host_allowed(entry.url, hosts):
            # A link-type entry (e.g. to mp.weixin.qq.com): stored as a link, never fetched across hosts.
            post = RawPost(title=entry.title, url=entry.url, key=entry.key, extra={"link_only": True},
                           published_at=entry.date if not isinstance(entry.date, MonthDay) else None)
            return self.enrich(post, None, entry, ctx)
        try:
            page = fetch_page(ctx.http, entry.url, hosts=hosts, max_bytes=ctx.max_bytes)
        except FetchError as exc:
            return Skipped(entry.url, f"detail page not read: {exc}")
        if page.status == 404:
            return Skipped(entry.url, "detail page answered HTTP 404 (deleted or moved); the list still links it")
        return self.enrich(parse_detail(page, entry, sel), page, entry, ctx)

    def _details(self, ctx: FetchContext, sel: Selectors, entries: list[Entry]) -> Iterator[RawPost | Skipped]:
        """Detail pages in list order, up to [http] concurrency in flight."""
        workers = min(ctx.concurrency, len(entries))
        if workers <= 1:
            yield from (self._detail(ctx, sel, e) for e in entries)
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield from pool.map(lambda e: self._detail(ctx, sel, e), entries)

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        channel = html_settings(ctx)
        assert channel.url is not None
        sel = selectors_for(channel)
        hosts = self.hosts(ctx)
        state = ctx.state
        today = local_now().date()
        backfill_from = state.data.get("backfill_next") if ctx.full else None
        url, number = (backfill_from, int(state.data.get("backfill_page", 1))) if backfill_from else (channel.url, 1)
        seen: set[str] = set()
        first: Page | None = None
        while url:
            conditional = number == 1 and not ctx.full
            try:
                page = fetch_page(ctx.http, url, hosts=hosts, max_bytes=ctx.max_bytes,
                                  etag=state.etag if conditional else None,
                                  last_modified=state.last_modified if conditional else None)
            except FetchError as exc:
                if number == 1 or exc.blocked:
                    raise ChannelError(f"list page {exc}") from None
                yield Skipped(url, f"list page not read, walk stopped here: {exc}")
                # Keep the resume point and the old validators: the next sync must retry this page.
                yield Checkpoint(state)
                return
            if page.not_modified:
                yield Checkpoint(state)  # 304: nothing new since the last sync
                return
            if page.status == 404:
                if number == 1:
                    raise ChannelError(f"list page {url} answered HTTP 404 — has the column moved? "
                                       "Check the channel url")
                break  # archives end with a 404
            if number == 1 or first is None:
                first = page
            root = parse_html(page.text)
            entries = list_entries(root, page.url, sel)
            if not entries:
                if number == 1:
                    found = root.find(".//title")
                    title = _text(found) if found is not None else "no <title>"
                    raise ChannelError(
                        f"list selector `{sel.entry}` matched 0 entries on {page.url} (page title: {title!r}) "
                        "— did the site change? Check [channel.list] entry"
                    )
                break
            ceiling: date | None = None  # [MM-DD] list dates: newest first, so never after the entry above
            for e in entries:
                if isinstance(e.date, MonthDay):
                    e.date = resolve_month_day(e.date, ceiling, today)
                if isinstance(e.date, datetime):
                    ceiling = e.date.date()
                elif isinstance(e.date, date):
                    ceiling = e.date
            # A backfill re-reads every page (that is how it records revisions);
            # an incremental sync reads only what the store does not hold.
            fresh, reached = _walk_page(entries, seen, ctx)
            if channel.since:
                fresh = [e for e in fresh if not _before(e.date, channel.since)]
            for result in self._details(ctx, sel, fresh):
                if isinstance(result, RawPost) and channel.since and _before(result.published_at, channel.since):
                    continue
                yield result
            nxt = next_page(root, page, channel.url, sel, number)
            all_old = channel.since is not None and all(_before(e.date, channel.since) for e in entries)
            if ctx.full:
                state = replace(state, data={**state.data, "backfill_next": nxt, "backfill_page": number + 1})
                yield Checkpoint(state)  # a killed backfill resumes after this page
                if all_old:
                    break
            elif reached or all_old:
                break
            url, number = nxt, number + 1
        data = {k: v for k, v in state.data.items() if k not in ("backfill_next", "backfill_page")}
        if backfill_from or first is None:
            yield Checkpoint(replace(state, data=data))
        else:
            yield Checkpoint(ChannelState(cursor=state.cursor, etag=first.etag, last_modified=first.last_modified,
                                          seen=state.seen, data=data))


def _before(value: object, since: date) -> bool:
    if isinstance(value, datetime):
        return value.date() < since
    if isinstance(value, date):
        return value < since
    return False


def _walk_page(entries: list[Entry], seen: set[str], ctx: FetchContext) -> tuple[list[Entry], bool]:
    """One list page against the walk so far: the entries to read, and whether an
    incremental walk has reached what the store already held.

    The walk rules (DESIGN.md): an entry seen earlier in this run (a pinned 置顶 notice
    recurring at its own date, a repeated or re-dated entry) is neither read again nor
    taken for the store's edge — it never stops a walk. An incremental walk stops on a
    page where an entry the store held before this run follows a new one (known
    entries *above* the new ones are pinned items), or where nothing is new and some
    entry was already held. `--full` reads every entry and never stops here.
    """
    fresh: list[Entry] = []
    reached = met_new = held = False
    for e in entries:
        if e.key in seen:
            continue
        seen.add(e.key)
        if ctx.full or not ctx.is_known(e.key):
            fresh.append(e)
            met_new = True
        else:
            held = True
            reached = reached or met_new
    return fresh, not ctx.full and (reached or (held and not fresh))
