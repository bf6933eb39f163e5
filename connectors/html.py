"""`html` channels: a CMS list page plus detail pages (VSB, WebPlus, TRS, ccgp, …).

Walks the list newest first, fetches detail pages only for entries the store
does not have, and stops at the first page that brings nothing new
(`--full` walks every page, resumable from its last checkpoint). See
docs/sites.md for the page shapes this reads. Pages are parsed by lxml and read
with compiled selectors (`connectors.select`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime
from functools import cache
from typing import Any, ClassVar, Literal
from urllib.parse import urljoin, urlsplit

import lxml.html
import nh3
from pydantic import Field, field_validator

import connectors.messages as msg
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
from connectors.dom import Element, candidates, in_sidebar, node_text, select_node, select_value
from connectors.http import FetchError, Page, fetch_page, fetch_page_or_none, host_allowed
from connectors.listpage import (
    breadcrumb,
    is_json,
    json_entries,
    list_count,
    list_entries,
    next_page,
    page_title,
    parse_html,
)
from connectors.listpage import entry_key as entry_key
from connectors.listwalk import Entry, ListCount, RetryQueue, WalkState, before, count_gap, walk_page
from connectors.presets import DetailSelectors, ListSelectors, Selectors, known_preset, selectors_for, selectors_from
from connectors.settings import ChannelSettings, WebSettings

_ATTACHMENT_EXT = re.compile(r"\.(pdf|docx?|xlsx?|pptx?|zip|rar|7z|wps|et|txt|csv|ofd)$", re.I)
# The value stays on the label's line and is not itself the next label: an empty
# "来源：" followed by "发布日期：…" or a body sentence names no department.
_DEPARTMENT = re.compile(r"(?:来源|发布部门|发布单位|供稿单位|供稿)[ \t\u3000\xa0]*[:：][ \t\u3000\xa0]*"
                         r"([^\s|｜:：]+)(?=[\s|｜]|$)")
_BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol",
                     "section", "article", "blockquote", "pre", "dd", "dt", "hr"})


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



def _attachments(root: Element, page_url: str, spec: str) -> list[Attachment]:
    """Attachment links: those the spec names (VSB `download.jsp`, ccgp `ul.fjxx`) and
    any link to an office/PDF file. VSB links have no extension: the name is the
    anchor text ("附件1 …docx")."""
    anchors: list[Element] = []
    for node, _ in candidates(root, spec) if spec else ():
        anchors.extend([node] if node.tag == "a" else node.iter("a"))
    anchors.extend(a for a in root.iter("a") if _ATTACHMENT_EXT.search(urlsplit(a.get("href", "")).path))
    found: dict[str, Attachment] = {}
    for a in anchors:
        href = (a.get("href") or "").strip()
        if not href or href.startswith("javascript:"):
            continue
        url = urljoin(page_url, href)
        name = node_text(a).strip("【】[] ") or url.rsplit("/", 1)[-1]
        found.setdefault(url, Attachment(name=name, url=url))
    return list(found.values())


def sanitize(fragment: str) -> str:
    """Scraped HTML as the web page may show it: no scripts, no handlers, no styles."""
    return nh3.clean(fragment, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")


# Labels a page puts before its publication date, strongest first. The bare 日期/时间 are
# read only outside the article body (a body's 考试时间：… is not when the page was published).
_DATE_LABELS = "|".join(("发布日期", "发布时间", "发表时间", "信息时间", "信息日期", "发文日期", "成文日期", "印发日期",
                         "公布日期", "公开日期", "发稿时间", "上传时间", "录入时间", "添加时间", "更新时间"))
_LABELLED_DATE = re.compile(rf"(?:^|[\s|｜【】\[\]/])(?:{_DATE_LABELS})\s*[:：]\s*(?P<value>[^\n]{{6,30}})", re.M)
_WEAK_DATE = re.compile(r"(?:^|[\s|｜【】\[\]/])(?:日期|时间)\s*[:：]\s*(?P<value>[^\n]{6,30})", re.M)
# Dates CMSs write into article URLs: TRS `t20230105_123.html`, `/2023/0105/`, `/2023-01-05/`, `/art/2023/1/5/`.
# VSB's `info/1010/2023.htm` is a news id, never a date.
_URL_DATES = (
    re.compile(r"/t((?:19|20)\d\d)(\d\d)(\d\d)_\d+"),
    re.compile(r"/((?:19|20)\d\d)[-/]?(\d\d)[-/]?(\d\d)/"),
    re.compile(r"/art/((?:19|20)\d\d)/(\d{1,2})/(\d{1,2})/"),
)
_ELLIPSIS = re.compile(r"(?:\.{2,}|…+|．{2,}|。。+)\s*$")
_CUT = re.compile(r"\.{3,}|…+|．{2,}|。。+")
_TITLE_SPLIT = re.compile(r"\s*[-_|｜—–]+\s*")
_FOLD = re.compile(r"[\s\u3000\xa0]+")


def labelled_date(text: str, body: str = "") -> datetime | date | None:
    """The date after a label such as 发布日期： (any line) or 日期：/时间： (lines outside `body`).

    >>> labelled_date("首页>通知公告\\n日期：2021年04月15日 10:00 浏览次数：12", body="报名时间：2021年05月01日")
    datetime.datetime(2021, 4, 15, 10, 0)
    """
    body_lines = set(body.split("\n")) if body else set()
    for pattern, strong in ((_LABELLED_DATE, True), (_WEAK_DATE, False)):
        for m in pattern.finditer(text):
            if not strong:
                line_start = text.rfind("\n", 0, m.start("value")) + 1
                line_end = text.find("\n", m.start("value"))
                if text[line_start:line_end if line_end >= 0 else None] in body_lines:
                    continue
            found = parse_date(m["value"])
            if isinstance(found, (datetime, date)):
                return found
    return None


def url_date(url: str) -> date | None:
    """A date the URL itself states (`t20230105_`, `/2023/0105/`); None for VSB's `info/{tree}/{id}.htm`.

    >>> url_date("https://www.example.gov.cn/zwgk/202301/t20230105_123.html")
    datetime.date(2023, 1, 5)
    >>> url_date("https://www.example.edu.cn/info/1010/2023.htm") is None
    True
    """
    path = urlsplit(url).path
    for pattern in _URL_DATES:
        m = pattern.search(path)
        if m:
            try:
                return date(int(m[1]), int(m[2]), int(m[3]))
            except ValueError:
                continue
    return None


def meta_date(page_text: str, url: str) -> datetime | date | None:
    """htmldate's reading of `<meta>` publication tags, `<time>` and JSON-LD (no guessing in the text)."""
    from htmldate import find_date  # imported on first use: the CLI starts without it

    try:
        found = find_date(page_text, url=url, extensive_search=False, original_date=True,
                          outputformat="%Y-%m-%d %H:%M:%S")
    except (ValueError, TypeError):
        return None
    if not found:
        return None
    parsed = datetime.strptime(found, "%Y-%m-%d %H:%M:%S")
    return parsed.date() if parsed.time() == datetime.min.time() else parsed


def _fold(text: str) -> str:
    return _FOLD.sub("", text).strip("【】[]")


def page_labels(root: Element) -> set[str]:
    """What a detail title must never be: the column names of the breadcrumb and the parts of `<title>`."""
    found: set[str] = set()
    crumb = breadcrumb(root)
    if crumb:
        found.update(_fold(p) for p in crumb.split(">"))
    head = root.find(".//title")
    if head is not None:
        parts = _TITLE_SPLIT.split(node_text(head))
        if len(parts) > 1:  # "文章标题-通知公告-某某大学": every part but the first is a column or the site
            found.update(_fold(p) for p in parts[1:])
    for node in root.iter("h1", "h2", "h3"):  # a sidebar's heading is its column
        if in_sidebar(node):
            found.add(_fold(node_text(node)))
    found.discard("")
    return found


def agree(detail: str, listed: str) -> bool:
    """Does the detail page's title name the same post as the list's? A cut list title
    (`…`) must be a prefix; otherwise one contains most of the other.

    >>> agree("关于2025年暑假放假安排的通知", "关于2025年暑假放假...")
    True
    >>> agree("通知公告", "关于2025年暑假放假安排的通知")
    False
    """
    d, lst = _fold(detail), _fold(listed)
    if not lst or d == lst:
        return True
    cut = _CUT.search(lst)
    if cut:  # the list shows the start of the title only
        prefix = lst[: cut.start()]
        return d.startswith(prefix) or (len(d) >= 8 and prefix.startswith(d))
    if len(d) >= 8 and lst.startswith(d):  # a list anchor holding title, date and an excerpt
        return True
    shorter, longer = sorted((d, lst), key=len)
    if shorter in longer and len(shorter) >= 0.6 * len(longer):
        return True
    from difflib import SequenceMatcher

    return SequenceMatcher(None, d, lst, autojunk=False).ratio() >= 0.75


def choose_title(detail: str | None, listed: str, labels: set[str]) -> str:
    """The detail page's title when it agrees with the list's and is no column or site name;
    else the list's (README.md: titles)."""
    if not detail:
        return listed
    if not listed:
        return detail
    if _fold(detail) in labels or not agree(detail, listed):
        return listed
    return detail


_TITLE_TAGS = ("h1", "h2", "h3", "h4", "div", "p", "td", "span", "strong", "b")


def whole_title(root: Element, listed: str) -> str:
    """A list title cut short (`关于公布…结果的...`) made whole from the detail page when the page
    has no title the selectors take: the first heading-sized text that starts with the shown part,
    else the part of `<title>` that does. The list's own (cut) title when neither is found."""
    cut = _CUT.search(listed)
    if not cut or cut.start() < 4:
        return listed
    prefix = _fold(listed[: cut.start()])
    for node in root.iter(*_TITLE_TAGS):
        text = node_text(node).strip()
        if len(text) <= len(prefix) + 60 and _fold(text).startswith(prefix) and len(_fold(text)) > len(prefix):
            return text
    head = root.find(".//title")
    for part in _TITLE_SPLIT.split(node_text(head)) if head is not None else ():
        if _fold(part).startswith(prefix) and len(_fold(part)) > len(prefix):
            return part.strip()
    return listed


def detail_date(page: Page, info: str | None, page_text: Callable[[], str], body: str,
                listed: object) -> tuple[datetime | date | None, str]:
    """The publication date and where it came from, in the documented order: the detail
    selectors (`info`, what they found), labelled text, `<meta>`/`<time>`/JSON-LD (htmldate),
    the URL, the list. `page_text` gives the page's text when labelled text is needed."""
    found = parse_date(info)
    if isinstance(found, (datetime, date)):
        return found, "selector"
    found = labelled_date(page_text(), body)
    if found is not None:
        return found, "label"
    found = meta_date(page.text, page.url)
    if found is not None:
        return found, "meta"
    found = url_date(page.url)
    if found is not None:
        return found, "url"
    if isinstance(listed, (datetime, date)):
        return listed, "list"
    return None, "none"


_LINK_TYPE = "NewsvoteDWR.getNewsLinkUrl"
_ENTRY_TAGS = ("li", "tr", "dd", "dt")


def page_value(root: Element, spec: str | None) -> str | None:
    """The first value of `spec` that belongs to the page itself: a match inside a list entry that
    holds a link (a 热点 or 相关文章 block's title or date) is passed over while another match is left."""
    if not spec:
        return None
    fallback = None
    for node, attr in candidates(root, spec):
        value = (node.get(attr) if attr else node_text(node)) or ""
        if not value.strip():
            continue
        entry = next((p for p in node.iterancestors() if p.tag in _ENTRY_TAGS), None)
        if entry is not None and entry.find(".//a[@href]") is not None and node.tag != "meta":
            fallback = fallback or value.strip()
            continue
        return value.strip()
    return fallback


def article(root: Element, page: Page, sel: Selectors) -> tuple[Element | None, str]:
    """The article's element (None when only its text was found) and text. The detail selectors
    first — unless what they match is mostly the text of many links (a wrapper around menus); then the block where
    paragraph text gathers (`detect.body_node`); then trafilatura's main text. A VSB link-type page
    has no article of its own."""
    node = select_node(root, sel.detail.get("body"))
    if node is not None:
        text = block_text(node)
        anchors = list(node.iter("a"))
        linked = sum(len(node_text(a)) for a in anchors)
        # A body of one or two attachment links is a body; a block of many links is a menu's wrapper.
        if text and (len(anchors) < 5 or linked <= 0.5 * len(text.replace("\n", ""))):
            return node, text
    if _LINK_TYPE in page.text:
        return None, ""
    from connectors.detect import body_node

    found = body_node(root)
    if found is not None:
        return found, block_text(found)
    return None, _main_text(page.text)


def _main_text(page_text: str) -> str:
    """trafilatura's reading of the page's main text ("" when it finds none)."""
    import trafilatura  # imported on first use: most pages never need it

    try:
        return trafilatura.extract(page_text, include_comments=False, include_tables=True,
                                   favor_precision=True) or ""
    except (ValueError, TypeError):
        return ""


def parse_detail(page: Page, entry: Entry, sel: Selectors) -> RawPost:
    """A detail page → RawPost. The detail page's title and date win over the list's
    when they agree with it (`choose_title`, `detail_date`)."""
    root = parse_html(page.text)
    title = choose_title(page_value(root, sel.detail.get("title")), entry.title, page_labels(root))
    if title == entry.title:
        title = whole_title(root, title)
    body_node, body = article(root, page, sel)
    info = page_value(root, sel.detail.get("date"))
    page_text = cache(lambda: block_text(root))  # the whole page's text, made once if a fallback needs it
    published, _source = detail_date(page, info, page_text, body, entry.date)
    department = select_value(root, sel.detail.get("department"))
    if not department:
        m = _DEPARTMENT.search(info or "") or _DEPARTMENT.search(page_text()[:3000])
        department = m.group(1) if m else None
    extra: dict[str, object] = {}
    if _LINK_TYPE in page.text and (body_node is None or not body):
        extra["link_only"] = True  # VSB link-type news: the article lives elsewhere
    body_html = None
    if body_node is not None:
        body_html = sanitize(lxml.html.tostring(body_node, encoding="unicode", with_tail=False))
    return RawPost(
        title=title,
        url=entry.url,
        key=entry.key,
        published_at=published,
        body=body,
        body_html=body_html,
        department=department,
        attachments=_attachments(root, page.url, sel.detail.get("attachments", "")),
        column=breadcrumb(root),
        extra=extra,
    )


class HtmlSettings(WebSettings):
    """An `html` channel: a CMS list page plus detail pages, by `preset` and/or selectors."""

    kind: Literal["html"] = "html"
    preset: str | None = None
    list_: ListSelectors | None = Field(default=None, alias="list")
    detail: DetailSelectors | None = None
    # Days a detail page that failed is retried before it is given up (the post stays stored from its list entry).
    retry_days: int = Field(default=30, ge=1, le=3650)

    _p = field_validator("preset")(known_preset)

    @property
    def bare(self) -> bool:
        """Neither a preset nor an entry selector: the list is found by its shape (`connectors.discover`)."""
        return self.preset is None and (self.list_ is None or self.list_.entry is None)


def html_settings(ctx: FetchContext) -> HtmlSettings:
    if not isinstance(ctx.channel, HtmlSettings):
        raise ChannelError(f"channel {ctx.channel.id}: kind `{ctx.channel.kind}` is not read by the html connector")
    return ctx.channel


class HtmlConnector:
    kind: ClassVar[str] = "html"
    settings: ClassVar[type[ChannelSettings]] = HtmlSettings

    def hosts(self, ctx: FetchContext) -> list[str]:
        assert ctx.channel.url is not None
        return ctx.channel.allowed_hosts

    def count(self, ctx: FetchContext) -> ListCount:
        """What the channel's list says of its own size, from its first page only (`xxgk audit`)."""
        channel = html_settings(ctx)
        assert channel.url is not None
        try:
            page = fetch_page(ctx.http, channel.url, hosts=self.hosts(ctx), max_bytes=ctx.max_bytes)
        except FetchError as exc:
            raise ChannelError(msg.list_unread(str(exc)), failure=exc.failure) from None
        if page.status == 404:
            raise ChannelError(msg.list_gone(channel.url), failure="unreachable")
        return list_count(parse_html(page.text), page.text)

    def enrich(self, post: RawPost, page: Page | None, entry: Entry, ctx: FetchContext) -> RawPost:
        """Hook for kinds that read more from a page (procurement)."""
        return post

    def from_list(self, ctx: FetchContext, entry: Entry, reason: str) -> RawPost:
        """A post as its list entry shows it, for when its detail page cannot be read:
        stored (title, date, URL) and marked, never dropped (README.md: degrade, never drop)."""
        post = RawPost(title=_ELLIPSIS.sub("", entry.title) or entry.title, url=entry.url, key=entry.key,
                       published_at=entry.date if not isinstance(entry.date, MonthDay) else None,
                       complete=False,  # never overwrites a post an earlier sync read whole
                       extra={"detail": "missing", "detail_error": reason})
        return self.enrich(post, None, entry, ctx)

    def _detail(self, ctx: FetchContext, sel: Selectors, entry: Entry) -> tuple[RawPost, str | None]:
        """The entry's post and, when its detail page could not be read, why (the post then comes from the list)."""
        hosts = self.hosts(ctx)
        if not host_allowed(entry.url, hosts):
            # A link-type entry (e.g. to mp.weixin.qq.com): stored as a link, never fetched across hosts.
            post = RawPost(title=entry.title, url=entry.url, key=entry.key, extra={"link_only": True},
                           published_at=entry.date if not isinstance(entry.date, MonthDay) else None)
            return self.enrich(post, None, entry, ctx), None
        try:
            page = fetch_page(ctx.http, entry.url, hosts=hosts, max_bytes=ctx.max_bytes)
        except FetchError as exc:
            reason = msg.detail_unread(str(exc))
            return self.from_list(ctx, entry, reason), reason
        if page.status == 404:
            reason = msg.detail_gone()
            return self.from_list(ctx, entry, reason), reason
        return self.enrich(parse_detail(page, entry, sel), page, entry, ctx), None

    def _details(self, ctx: FetchContext, sel: Selectors,
                 entries: list[Entry]) -> Iterator[tuple[Entry, RawPost, str | None]]:
        """Detail pages in list order, up to [http] concurrency in flight."""
        workers = min(ctx.concurrency, len(entries))
        if workers <= 1:
            yield from ((e, *self._detail(ctx, sel, e)) for e in entries)
            return
        with ThreadPoolExecutor(max_workers=workers) as pool:
            yield from ((e, *r) for e, r in zip(entries, pool.map(lambda e: self._detail(ctx, sel, e), entries),
                                                 strict=True))

    def _read(self, ctx: FetchContext, sel: Selectors, entries: list[Entry], queue: RetryQueue) -> Iterator[Item]:
        """Read the entries' detail pages: each post is yielded (from the list when its page
        failed, with a note saying so) and the retry queue is kept in step."""
        for entry, post, failed in self._details(ctx, sel, entries):
            if failed is None:
                queue.done(entry.key)
            else:
                note, retried = queue.failed(entry, failed)
                yield Skipped(entry.url, note)
                if not retried:
                    continue  # given up: stored earlier from its list entry, no longer retried
            yield post

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        walk = ListWalk(self, ctx)
        yield from walk.start()
        while walk.url and walk.url not in walk.visited:
            page = yield from walk.load(walk.url)
            if page is None:
                return  # stopped where it could not read on; the state says where to resume
            if not (yield from walk.step(page)):
                break
        yield from walk.finish()


class ListWalk:
    """One sync's walk down a channel's list, one page per `step`.

    What it keeps between syncs is a `WalkState` (`saved`); the rest is this walk's own:
    the page it is on, the keys it has met, what page 1 said of the list's size.
    """

    def __init__(self, connector: HtmlConnector, ctx: FetchContext) -> None:
        self.connector, self.ctx = connector, ctx
        self.channel = html_settings(ctx)
        assert self.channel.url is not None
        self.home: str = self.channel.url
        self.sel, self.fingerprint = effective_selectors(self.channel, ctx.state.data)
        self.hosts = connector.hosts(ctx)
        self.queue = RetryQueue(ctx.state.data.get("retry"), give_up_days=self.channel.retry_days)
        self.state = ctx.state
        self.saved = WalkState.of(ctx.state.data)
        # What the last parse of page 1 found wrong with the selectors stands until a parse shows
        # it gone: a list page answering 304 re-checks nothing. A changed config (or selectors the
        # office accepted) is read afresh, never answered from the validators of the old one.
        self.standing = list(self.saved.findings)
        self.findings: list[str] = []
        self.detected: dict[str, str | None] | None = None
        self.auto: dict[str, Any] | None = None  # a bare-URL channel's discovery, as page 1 confirmed it
        self.parsed_first = False
        self.today = local_now().date()
        # Until one walk has reached the end of the list (`walked`), every sync walks on to the end —
        # resuming where an interrupted first sync stopped — however much of it the store holds:
        # a first sync stopped by SIGTERM or a crash must not leave the archive's tail unread.
        self.complete = ctx.full or not self.saved.walked
        self.backfill_from = self.saved.backfill_next if self.complete else None
        self.url: str | None = self.backfill_from or self.home
        self.number = self.saved.backfill_page if self.backfill_from else 1
        # An incremental walk interrupted after page k must reach page k + 1 this time (see `_committed`).
        self.resume_to = 0 if self.complete else self.saved.walk_to
        self.must_reach = self.resume_to
        self.seen: set[str] = set()
        self.visited: set[str] = set()
        self.empty_run = 0
        self.rows = self.pages_read = 0  # list rows read (a pinned entry each time it shows) and pages read
        self.count: ListCount | None = None
        self.page_size: int | None = None
        self.ended = False  # the walk reached the pager's end (not stopped early by the walk rules or an error)
        self.first: Page | None = None

    def _checkpoint(self) -> Checkpoint:
        return Checkpoint(self.queue.into(replace(self.state, data=self.saved.into(self.state.data))))

    def start(self) -> Iterator[Item]:
        """Details that failed on earlier syncs come first: a 304 on the list must not hide them."""
        due = self.queue.due()
        if due:
            yield from self.connector._read(self.ctx, self.sel, due, self.queue)
        for retry in self.queue.waiting():
            yield Skipped(retry.url, msg.detail_waiting(retry.next_at.replace("T", " ")))
        yield self._checkpoint()

    def load(self, url: str) -> Generator[Item, None, Page | None]:
        """List page `number`, or None when the walk must stop here (said so, resumable)."""
        self.visited.add(url)
        conditional = (self.number == 1 and not self.complete and not self.resume_to
                       and self.saved.parsed_with == self.fingerprint)
        try:
            page = fetch_page(self.ctx.http, url, hosts=self.hosts, max_bytes=self.ctx.max_bytes,
                              etag=self.state.etag if conditional else None,
                              last_modified=self.state.last_modified if conditional else None)
        except FetchError as exc:
            if self.number == 1 or exc.blocked:
                raise ChannelError(msg.list_unread(str(exc)), failure=exc.failure) from None
            yield Skipped(url, msg.list_walk_stopped(str(exc)))
            # Keep the resume point and the old validators: the next sync must retry this page.
            yield self._checkpoint()
            return None
        if page.not_modified:  # 304: nothing new since the last sync — and nothing re-checked
            for finding in self.standing:
                yield Skipped(page.url, msg.not_rechecked(finding))
            yield self._checkpoint()
            return None
        if page.status == 404 and self.number == 1:
            raise ChannelError(msg.list_gone(url), failure="unreachable")
        return page

    def step(self, page: Page) -> Generator[Item, None, bool]:
        """Read one list page and its new entries' details; False when the walk ends here."""
        if page.status == 404:
            self.ended = True
            return False  # archives end with a 404
        if self.number == 1 or self.first is None:
            self.first = page
        root = parse_html(page.text)
        entries = yield from self._entries(root, page)
        if entries and self.page_size is None:
            self.page_size = len(entries)  # records a page holds, for pagers that count records
        nxt = next_page(root, page, self.home, self.sel, self.number, self.count.pages if self.count else None,
                        size=self.page_size, total=self.count.total if self.count else None)
        self.pages_read += 1
        self.rows += len(entries)
        if not entries and is_json(page):  # a "load more" endpoint with nothing more: the list's end
            self.ended = True
            return False
        if not entries:
            # A page of separators or filler does not end a walk whose pager goes on —
            # but a numbered pager past the archive's end (three empty pages) does.
            self.empty_run += 1
            yield Skipped(page.url, msg.page_without_entries())
            if nxt is None or (self.sel.pages and self.empty_run >= 3):
                self.ended = True
                return False
            self.url, self.number = nxt, self.number + 1
            return True
        self.empty_run = 0
        if self.number > 1 and all(e.key in self.seen for e in entries):
            # A page past the list's end that answers with a page already read (`?page=9` served as
            # page 1 or as the last page, a form pager that wraps around): the list ends here.
            self.ended = True
            return False
        self._resolve_month_days(entries)
        go_on = yield from self._read_page(entries, nxt)
        if go_on:
            self.ended = nxt is None
            self.url, self.number = nxt, self.number + 1
        return go_on

    def _entries(self, root: Element, page: Page) -> Generator[Item, None, list[Entry]]:
        """The page's list entries; on page 1, the list found by its shape when the selector finds none."""
        if self.number == 1:
            self.count = list_count(root, page.text)
            self.parsed_first = True
        if self.channel.bare and self.number == 1:
            return (yield from self._bare_entries(root, page))
        if self.number > 1 and is_json(page):
            return json_entries(page)  # a "load more" endpoint's answer
        entries = list_entries(root, page.url, self.sel)
        if entries or self.number != 1:
            return entries
        found, note = _redetect(root, page.url, self.sel)
        if note:
            configured, self.sel = self.sel.entry_configured, found
            entries = list_entries(root, page.url, self.sel)
            if configured:
                self.findings.append(note)
                self.detected = {k: getattr(found, k) for k in DETECTED_FIELDS}
                yield Skipped(page.url, note)
        if not entries:
            raise ChannelError(msg.list_empty(self.sel.entry or "", page.url, page_title(root)))
        return entries

    def _bare_entries(self, root: Element, page: Page) -> Generator[Item, None, list[Entry]]:
        """Page 1 of a bare-URL channel: read with what the last discovery recorded while the page
        still matches it (at least half the entries it found then); else discovered afresh — and,
        when a recorded list stopped matching, the run says what changed."""
        from connectors.discover import discover

        recorded = self.saved.auto
        entries = list_entries(root, page.url, self.sel) if self.sel.entry else []
        had = int(recorded.get("entries") or 0) if recorded else 0
        if recorded and entries and len(entries) >= had // 2:
            self.auto = recorded
            return entries
        found = discover(page, self._other_page)
        if found is None or not found.entries:
            raise ChannelError(msg.list_not_found(page.url, page_title(root)))
        if recorded:
            before = str(recorded.get("entry") or f"预设 {recorded.get('preset')}")
            now = found.selectors.get("entry") or f"预设 {found.preset}"
            # Said once, in this run: the new record is what this very parse confirmed, so it is not
            # a finding that stands (a 304 next time has nothing to repeat).
            yield Skipped(page.url, msg.list_changed(before, had, len(entries), now, len(found.entries)))
        self.auto = found.as_record()
        self.sel = auto_selectors(self.channel, self.auto)
        self.fingerprint = _bare_fingerprint(self.channel, self.sel)
        return list_entries(root, page.url, self.sel)

    def _other_page(self, url: str) -> Page | None:
        """One more page of the site for discovery (None when it cannot be read: detection goes on without it)."""
        return fetch_page_or_none(self.ctx.http, url, hosts=self.hosts, max_bytes=self.ctx.max_bytes)

    def _resolve_month_days(self, entries: list[Entry]) -> None:
        ceiling: date | None = None  # [MM-DD] list dates: newest first, so never after the entry above
        for e in entries:
            if isinstance(e.date, MonthDay):
                e.date = resolve_month_day(e.date, ceiling, self.today)
            if isinstance(e.date, datetime):
                ceiling = e.date.date()
            elif isinstance(e.date, date):
                ceiling = e.date

    def _read_page(self, entries: list[Entry], nxt: str | None) -> Generator[Item, None, bool]:
        """Store what is new on the page and checkpoint; False when the walk may stop here."""
        since = self.channel.since
        # A backfill re-reads every page (that is how it records revisions);
        # an incremental sync reads only what the store does not hold.
        fresh, reached = walk_page(entries, self.seen, self.ctx, self.complete)
        if since:
            fresh = [e for e in fresh if not before(e.date, since)]
        if fresh and not self.complete:
            # How far the walk must go is stored before any of the page's posts can be (a batch may be
            # committed mid-page): a sync killed after storing them, before the page's checkpoint,
            # left page 1 all "known" and the next walk stopped there, short of the page's rest
            # (tests/test_crash.py, PostgreSQL, about one run in four).
            self.must_reach = max(self.must_reach, self.number + 1)
            self.saved.walk_to = self.must_reach
            yield self._checkpoint()
        for item in self.connector._read(self.ctx, self.sel, fresh, self.queue):
            if isinstance(item, RawPost) and since and before(item.published_at, since):
                continue
            yield item
        all_old = since is not None and all(before(e.date, since) for e in entries)
        if self.complete:
            self.saved.backfill_next, self.saved.backfill_page = nxt, self.number + 1
            yield self._checkpoint()  # a killed walk resumes after this page
            if all_old:
                self.ended = True
            return not all_old
        # The page's posts are committed now (a stopped or killed sync keeps them); the
        # state keeps its old validators until the walk is done, and says how far this walk
        # must go: a walk killed after page k has stored new posts the next walk will find
        # "known" on page 1 — it must still read on to page k + 1 before it may stop.
        self.must_reach = max(self.must_reach, self.number + 1)
        self.saved.walk_to = self.must_reach
        yield self._checkpoint()
        return not ((reached and self.number >= self.resume_to) or all_old)

    def finish(self) -> Iterator[Item]:
        """The list's own count checked against the walk, and the state the next sync starts from."""
        if self.ended and self.count is not None and not self.backfill_from and not self.channel.since:
            gap = count_gap(self.count, self.rows, self.pages_read)
            if gap:
                yield Skipped(self.home, gap)
        saved = self.saved
        saved.backfill_next, saved.backfill_page, saved.walk_to = None, 1, 0
        saved.walked = saved.walked or self.ended
        if self.parsed_first:  # page 1 read afresh: its findings replace the standing ones
            saved.findings, saved.parsed_with, saved.detected = self.findings, self.fingerprint, self.detected
            saved.auto = self.auto
        if self.count is not None:
            saved.site_total = self.count.total if self.count.total is not None else saved.site_total
            saved.site_pages = self.count.pages if self.count.pages is not None else saved.site_pages
        data = saved.into(self.queue.into(self.state).data)
        if self.backfill_from or self.first is None:
            yield Checkpoint(replace(self.state, data=data))
        else:
            yield Checkpoint(ChannelState(cursor=self.state.cursor, etag=self.first.etag,
                                          last_modified=self.first.last_modified, seen=self.state.seen, data=data))


# What list detection decides, as `state.data["detected"]` records it and `accepted` applies it.
DETECTED_FIELDS = ("entry", "scope", "link", "title", "date", "next")


def effective_selectors(channel: HtmlSettings, data: dict[str, object]) -> tuple[Selectors, str]:
    """The channel's selectors — for a bare-URL channel, those its last discovery recorded (`auto`);
    else with the detected ones the office accepted (`xxgk accept`), while the config is the one
    they were accepted for — and a fingerprint of what they were made from."""
    auto = data.get("auto")
    if channel.bare and isinstance(auto, dict):
        sel = auto_selectors(channel, auto)
        return sel, _bare_fingerprint(channel, sel)
    sel = selectors_for(channel)
    configured = _digest(sel)
    accepted = data.get("accepted")
    if isinstance(accepted, dict) and accepted.get("for") == configured:
        def text(name: str) -> str | None:
            value = accepted.get(name)
            return str(value) if value else None

        sel = replace(sel, entry=text("entry") or sel.entry, scope=text("scope"), link=text("link") or sel.link,
                      title=text("title"), date=text("date"), next=text("next"))
        return sel, f"{configured}+{_digest(sel)}"
    return sel, configured


def _bare_fingerprint(channel: HtmlSettings, sel: Selectors) -> str:
    """What a bare-URL channel's list was read with: its config and the selectors discovery recorded."""
    return f"{_digest(selectors_for(channel))}~{_digest(sel)}"


def _digest(sel: Selectors) -> str:
    import hashlib

    return hashlib.sha1(repr(sel).encode()).hexdigest()[:16]


def auto_selectors(channel: HtmlSettings, record: dict[str, Any]) -> Selectors:
    """A bare-URL channel's selectors: what discovery recorded, under any key the config gives itself."""
    from connectors.discover import LIST_KEYS

    lst = {k: str(record[k]) for k in LIST_KEYS if record.get(k)}
    if channel.list_ is not None:
        lst.update({k: v for k, v in channel.list_.model_dump().items() if v is not None})
    detail = {k: v for k, v in channel.detail.model_dump().items() if v is not None} if channel.detail else None
    preset = record.get("preset")
    return selectors_from(str(preset) if isinstance(preset, str) and preset else None, lst, detail)


def _redetect(root: Element, page_url: str, sel: Selectors) -> tuple[Selectors, str | None]:
    """When the configured list selector finds nothing: the list found by its shape, and a
    note saying so (the run is partial until the config names the list again)."""
    from connectors.detect import detect_list

    found = detect_list(root, page_url)
    if found is None:
        return sel, None
    new = replace(sel, entry=found.entry, scope=None, link=found.link, title=found.title,
                  date=found.date, next=sel.next or found.next)
    return new, msg.list_found_by_shape(sel.entry or "", found.entry, found.entries)
