"""`html` channels: a CMS list page plus detail pages (VSB, WebPlus, TRS, ccgp, …).

Walks the list newest first, fetches detail pages only for entries the store
does not have, and stops at the first page that brings nothing new
(`--full` walks every page, resumable from its last checkpoint). See
SITES.md for the page shapes this reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import parse_qs, urljoin, urlsplit

import nh3
from bs4 import BeautifulSoup, Tag

from aggregator.config import selector_alternatives
from connectors.base import Attachment, ChannelError, ChannelState, Checkpoint, FetchContext, Item, RawPost, Skipped
from connectors.dates import MonthDay, parse_date, resolve_month_day
from connectors.http import FetchError, Page, fetch_page, host_allowed
from connectors.presets import Selectors, selectors_for
from connectors.urls import canonical_url
from storage.times import local_now

_VSB_INFO = re.compile(r"^(?P<root>.*?/)info/(?P<tree>\d+)/(?P<news>\d+)\.htm$")
_TRUNCATED = re.compile(r"(\.\.\.|…|\.\.)\s*$")
_ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|zip|rar|7z|wps|et|txt|csv|ofd)$", re.I)
_DEPARTMENT = re.compile(r"(?:来源|发布部门|发布单位|供稿单位|供稿)\s*[:：]\s*([^\s|｜]+)")
_PAGER_SIZE = re.compile(r"Pager\(\s*\{\s*size\s*:\s*(\d+)")
_NOISE = ("script", "style", "noscript", "iframe", "form input")
_SIDEBAR = ("aside", "nav", "header", "footer")


@dataclass(slots=True)
class Entry:
    url: str
    title: str
    date: datetime | date | MonthDay | None
    key: str


def entry_key(url: str) -> str:
    """VSB publishes one article as `info/{tree}/{news}.htm` and as
    `content.jsp?…wbtreeid=&wbnewsid=`; both key as the `info/` URL."""
    parts = urlsplit(url)
    if parts.path.endswith("content.jsp"):
        q = parse_qs(parts.query)
        if "wbtreeid" in q and "wbnewsid" in q:
            root = parts.path.rsplit("/", 1)[0] + "/"
            url = f"{parts.scheme}://{parts.netloc}{root}info/{q['wbtreeid'][0]}/{q['wbnewsid'][0]}.htm"
    return canonical_url(url)


def _text(node: Tag) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


def select_value(root: Tag, spec: str | None) -> str | None:
    """The first alternative of `spec` that yields non-empty text or attribute."""
    if not spec:
        return None
    for css, attr in selector_alternatives(spec):
        nodes = [root] if not css else root.select(css, limit=3)
        for node in nodes:
            value = node.get(attr) if attr else _text(node)
            if isinstance(value, list):
                value = " ".join(value)
            if value and value.strip():
                return value.strip()
    return None


def select_node(root: Tag, spec: str | None) -> Tag | None:
    if not spec:
        return None
    for css, _attr in selector_alternatives(spec):
        node = root.select_one(css) if css else root
        if node is not None:
            return node
    return None


def _in_sidebar(node: Tag) -> bool:
    for parent in node.parents:
        if parent.name in _SIDEBAR:
            return True
        classes = " ".join(parent.get("class") or []) + " " + str(parent.get("id") or "")
        if "side" in classes.lower():
            return True
    return False


def list_entries(soup: BeautifulSoup, page_url: str, sel: Selectors) -> list[Entry]:
    """The entries of the main list, in page order; sidebars and filler rows dropped."""
    root: Tag = soup
    if sel.scope:
        scoped = select_node(soup, sel.scope)
        if scoped is None:
            raise ChannelError(f"scope selector `{sel.scope}` matched nothing on {page_url} — did the site change?")
        root = scoped
    nodes = [n for n in root.select(sel.entry) if not _in_sidebar(n)]
    groups: dict[int, list[Tag]] = {}
    for n in nodes:  # the main list is the largest group of siblings
        groups.setdefault(id(n.parent), []).append(n)
    if len(groups) > 1:
        nodes = max(groups.values(), key=len)
    entries = []
    for node in nodes:
        href = select_value(node, sel.link)
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue  # separator rows, empty tables
        url = urljoin(page_url, href.strip())
        title = select_value(node, sel.title) or ""
        link_text = select_value(node, sel.link.split("@")[0] if "@" in sel.link else sel.link) or ""
        if not title or (link_text and len(link_text) > len(title) and not _TRUNCATED.search(link_text)):
            title = link_text or title
        entries.append(Entry(url, title, parse_date(select_value(node, sel.date)), entry_key(url)))
    return entries


def next_page(soup: BeautifulSoup, page: Page, first_url: str, sel: Selectors, number: int) -> str | None:
    """The URL of list page `number + 1`, or None after the last."""
    if sel.pages:
        size = _PAGER_SIZE.search(page.text)
        if size and number >= int(size.group(1)):
            return None
        return urljoin(first_url, sel.pages.format(n=number))
    href = select_value(soup, sel.next)
    if not href or href.startswith("javascript:"):
        return None
    url = urljoin(page.url, href)
    return None if url == page.url else url


def _breadcrumb(soup: BeautifulSoup) -> str | None:
    marker = soup.find(string=re.compile("当前位置"))
    if marker is None:
        node = soup.select_one(".vF_deail_currentloc, .breadcrumb, .position, .location")
        if node is None:
            return None
        text = _text(node)
    else:
        parent = marker.parent
        text = _text(parent.parent if parent is not None and len(_text(parent)) < 8 and parent.parent else parent)
    text = re.sub(r"^.*?当前位置\s*[:：]?\s*", "", text)
    parts = [p.strip() for p in re.split(r"\s*(?:>>|»|>|＞|→|/)\s*", text) if p.strip()]
    parts = [p for p in parts if p not in ("首页", "网站首页", "正文", "正文内容")]
    return ">".join(parts) or None


def _attachments(soup: BeautifulSoup, page_url: str, spec: str) -> list[Attachment]:
    found: dict[str, Attachment] = {}
    anchors: list[Tag] = []
    for css, _ in selector_alternatives(spec):
        for node in soup.select(css):
            anchors.extend([node] if node.name == "a" else node.find_all("a"))
    anchors.extend(a for a in soup.find_all("a", href=True) if _ATTACHMENT_EXT.search(urlsplit(str(a["href"])).path))
    for a in anchors:
        href = a.get("href")
        if not href or str(href).startswith("javascript:"):
            continue
        url = urljoin(page_url, str(href))
        name = _text(a).strip("【】[] ") or url.rsplit("/", 1)[-1]
        found.setdefault(url, Attachment(name=name, url=url))
    return list(found.values())


def sanitize(fragment: str) -> str:
    """Scraped HTML as the web page may show it: no scripts, no handlers, no styles."""
    return nh3.clean(fragment, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


def parse_detail(page: Page, entry: Entry, sel: Selectors) -> RawPost:
    """A detail page → RawPost. The detail page's title and date win over the list's."""
    soup = BeautifulSoup(page.text, "lxml")
    for tag in soup.select(", ".join(_NOISE)):
        tag.decompose()
    title = select_value(soup, sel.detail.get("title"))
    if not title or (entry.title and len(title) < 4 <= len(entry.title)):
        title = entry.title
    info = select_value(soup, sel.detail.get("date"))
    published = parse_date(info)
    if published is None or isinstance(published, MonthDay):
        published = entry.date if not isinstance(entry.date, MonthDay) or published is None else published
    body_node = select_node(soup, sel.detail.get("body"))
    body = body_node.get_text("\n", strip=True) if body_node is not None else ""
    department = select_value(soup, sel.detail.get("department"))
    if not department:
        m = _DEPARTMENT.search(info or "") or _DEPARTMENT.search(soup.get_text(" ", strip=True)[:3000])
        department = m.group(1) if m else None
    extra: dict[str, object] = {}
    if not body and "NewsvoteDWR.getNewsLinkUrl" in page.text:
        extra["link_only"] = True  # VSB link-type news: the article lives elsewhere
    return RawPost(
        title=title,
        url=entry.url,
        key=entry.key,
        published_at=published if not isinstance(published, MonthDay) else None,
        body=body,
        body_html=sanitize(str(body_node)) if body_node is not None else None,
        department=department,
        attachments=_attachments(soup, page.url, sel.detail.get("attachments", "")),
        column=_breadcrumb(soup),
        extra=extra,
    )


class HtmlConnector:
    kind = "html"

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

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        channel = ctx.channel
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
                break
            if page.not_modified:
                yield Checkpoint(state)  # 304: nothing new since the last sync
                return
            if page.status == 404:
                if number == 1:
                    raise ChannelError(f"list page {url} answered HTTP 404 — has the column moved? Check the channel url")
                break  # archives end with a 404
            if number == 1 or first is None:
                first = page
            soup = BeautifulSoup(page.text, "lxml")
            entries = list_entries(soup, page.url, sel)
            if not entries:
                if number == 1:
                    title = soup.title.get_text(strip=True) if soup.title else "no <title>"
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
            fresh = [e for e in entries if e.key not in seen and not ctx.is_known(e.key)]
            if channel.since:
                fresh = [e for e in fresh if not _before(e.date, channel.since)]
            seen.update(e.key for e in entries)
            workers = max(1, min(ctx.concurrency, len(fresh)))
            with ThreadPoolExecutor(max_workers=workers) as pool:
                for result in pool.map(lambda e: self._detail(ctx, sel, e), fresh):
                    if isinstance(result, RawPost) and channel.since and _before(result.published_at, channel.since):
                        continue
                    yield result
            nxt = next_page(soup, page, channel.url, sel, number)
            all_old = channel.since is not None and all(_before(e.date, channel.since) for e in entries)
            if ctx.full:
                state = replace(state, data={**state.data, "backfill_next": nxt, "backfill_page": number + 1})
                yield Checkpoint(state)  # a killed backfill resumes after this page
                if all_old:
                    break
            elif not fresh or _reached_known(entries, fresh) or all_old:
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


def _reached_known(entries: list[Entry], fresh: list[Entry]) -> bool:
    """True when a known entry follows a new one on this page: the walk has met
    what the store already holds. Known entries *above* the new ones are
    pinned (置顶) items and do not count."""
    fresh_keys = {e.key for e in fresh}
    met_new = False
    for e in entries:
        if e.key in fresh_keys:
            met_new = True
        elif met_new:
            return True
    return False
