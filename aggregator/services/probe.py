"""`xxgk probe URL`: onboarding a column in one command.

Reads a list page the office pastes in, recognises the CMS, finds the list
(the CMS's preset when it already finds it, else the list found by its shape),
the pager and the site's own count, reads the first two or three detail pages
as a sync would, and writes a `[[channel]]` block that syncs the same posts —
every selector in it still a person's to edit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

import connectors.messages as msg
from aggregator.clock import iso_local, to_store
from aggregator.config import HttpConfig
from aggregator.pipeline.sync import RequestCounter, make_http_client
from connectors.base import ChannelError
from connectors.discover import discover
from connectors.dom import Element, select_node
from connectors.html import HtmlSettings, parse_detail
from connectors.http import FetchError, Page, fetch_page, fetch_page_or_none, host_allowed, site_host
from connectors.listpage import column_name, list_count, list_entries, page_title, parse_html
from connectors.listwalk import Entry
from connectors.presets import Selectors, selectors_for

DETAILS_READ = 3


@dataclass(slots=True)
class ProbeResult:
    """What `probe` found (the contract's `probe --json`)."""

    url: str
    cms: str | None
    channel: dict[str, Any]
    entries: list[dict[str, Any]]
    site_total: int | None = None
    next_page: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"cms": self.cms, "channel": self.channel, "entries": self.entries, "site_total": self.site_total,
                "next_page": self.next_page, "notes": self.notes}

    def toml(self) -> str:
        """The `[[channel]]` block, ready to paste into config.toml."""
        lines = ["[[channel]]"]
        tables = {k: v for k, v in self.channel.items() if isinstance(v, dict)}
        for key, value in self.channel.items():
            if not isinstance(value, dict):
                lines.append(f"{key} = {_toml_value(value)}")
        for name, table in tables.items():
            lines.append(f"  [channel.{name}]")
            lines.extend(f"  {k} = {_toml_value(v)}" for k, v in table.items())
        return "\n".join(lines) + "\n"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


_GENERIC_STEMS = frozenset({"index", "list", "default", "moreinfo", "more", "main", "channels", "channel", "col",
                            "lists", "page", "home", "content", "article", "articles", "category"})


def channel_id_for(url: str, name: str | None = None) -> str:
    """A config id a person would choose: the list's own path word (`…/xwzx/tzgg.htm` → `tzgg`), else
    the initials of the column's name in pinyin (通知公告 → `tzgg`); never a host or a long number.

    >>> channel_id_for("https://yz.example.edu.cn/zsxx/sszs.htm")
    'sszs'
    >>> channel_id_for("http://127.0.0.1:8000/channels/12.html", "通知公告")
    'tzgg'
    """
    segments = [s.split(".", 1)[0].lower() for s in urlsplit(url).path.split("/") if s]
    for word in reversed(segments[-2:]):
        if re.fullmatch(r"[a-z][a-z-]{1,19}", word) and word not in _GENERIC_STEMS:
            return word
    if name:
        from pypinyin import Style, lazy_pinyin

        initials = "".join(lazy_pinyin(name, style=Style.FIRST_LETTER, errors="ignore")).lower()
        initials = re.sub(r"[^a-z0-9]+", "", initials)
        if len(initials) >= 2:
            return initials[:20]
    return "channel"


def probe(url: str, *, kind: str = "html", http: HttpConfig | None = None) -> ProbeResult:
    """Probe a list page; raises `ChannelError` with a readable reason when it cannot be read.

    The block proposed is the one a bare-URL channel would record (`connectors.discover`), tried
    here: what it reads on page 1 (and page 2) is what `entries` shows."""
    http = http or HttpConfig()
    host = site_host(url)
    with make_http_client(http, RequestCounter()) as client:
        def fetch(address: str) -> Page | None:
            return fetch_page_or_none(client, address, hosts=[host], max_bytes=http.max_bytes)

        try:
            page = fetch_page(client, url, hosts=[host], max_bytes=http.max_bytes)
        except FetchError as exc:
            raise ChannelError(msg.list_unread(str(exc))) from None
        if page.status == 404:
            raise ChannelError(f"{url} 返回 HTTP 404：请检查网址")
        root = parse_html(page.text)
        found = discover(page, fetch)
        if found is None or not found.entries:
            raise ChannelError(msg.list_not_found(url, page_title(root)))
        name = column_name(root)
        channel: dict[str, Any] = {"id": channel_id_for(url, name), **({"name": name} if name else {}),
                                   "kind": kind, "url": url, **found.config()}
        notes = list(found.notes)
        sel = _tried(channel, root, page, found.entries)
        pages = _detail_pages(client, found.entries[:DETAILS_READ], host, http, notes)
        _detail_selectors(pages, found.entries[:DETAILS_READ], sel, channel, notes)
        if "detail" in channel:
            sel = _tried(channel, root, page, found.entries)
        out = _sample(found.entries, pages, sel, notes)
    count = list_count(root, page.text)
    return ProbeResult(url=url, cms=found.cms, channel=channel, entries=out, site_total=count.total,
                       next_page=found.page2, notes=notes)


def _tried(channel: dict[str, Any], root: Element, page: Page, expected: list[Entry]) -> Selectors:
    """The block's selectors, run on the page: they must read exactly what discovery found."""
    block = {k: v for k, v in channel.items() if k != "name"}
    sel = selectors_for(HtmlSettings.model_validate({**block, "id": "probe", "kind": "html"}))
    read = [e.url for e in list_entries(root, page.url, sel)]
    if read != [e.url for e in expected]:
        raise ChannelError(f"{page.url}：按页面结构找到的列表无法用选择器复现（{len(read)} ≠ {len(expected)} 条）："
                           "请手工设置 [channel.list] entry")
    return sel


def _sample(entries: list[Entry], pages: dict[str, Page], sel: Selectors, notes: list[str]) -> list[dict[str, Any]]:
    """What a sync would store from the list: the first entries read from their detail pages."""
    out: list[dict[str, Any]] = []
    for entry in entries[:DETAILS_READ]:
        post_title, when, detail, body = entry.title, entry.date, "list", None
        detail_page = pages.get(entry.url)
        if detail_page is not None:
            post = parse_detail(detail_page, entry, sel)
            post_title, when, detail, body = post.title, post.published_at, "detail", post.body
            if not post.body:
                notes.append(f"{entry.url} 上没有找到正文：请设置 [channel.detail] body")
        out.append({"title": post_title, "url": entry.url, "read_from": detail, "published_at": _iso(when),
                    **({"body": body[:200]} if body else {})})
    out.extend({"title": e.title, "url": e.url, "read_from": "list", "published_at": _iso(e.date)}
               for e in entries[DETAILS_READ:])
    if not any(e["published_at"] for e in out):
        notes.append("列表和详情页上都没有找到日期：请设置 [channel.list] date 或 "
                     "[channel.detail] date")
    return out


def _detail_pages(client: Any, entries: list[Any], host: str, http: HttpConfig,
                  notes: list[str]) -> dict[str, Page]:
    """The sampled detail pages that answered, by URL (each fetched once)."""
    pages: dict[str, Page] = {}
    for entry in entries:
        if not host_allowed(entry.url, [host]):
            continue
        try:
            page = fetch_page(client, entry.url, hosts=[host], max_bytes=http.max_bytes)
        except FetchError as exc:
            notes.append(msg.detail_unread(str(exc)))
            continue
        if page.status == 200:
            pages[entry.url] = page
    return pages


def _detail_selectors(pages: dict[str, Page], entries: list[Any], sel: Any, channel: dict[str, Any],
                      notes: list[str]) -> None:
    """When the generic detail selectors find no article text on the sampled detail pages, find the
    block that holds it on each and, if the pages agree, write it as `[channel.detail] body`."""
    from connectors.detect import body_node, detect_body

    found: list[str | None] = []
    for entry in entries:
        page = pages.get(entry.url)
        if page is None:
            continue
        root = parse_html(page.text)
        node = select_node(root, sel.detail.get("body"))
        if node is not None and node is body_node(root):
            return  # the generic selectors read this site's articles
        found.append(detect_body(root))
    agreed = {f for f in found if f}
    if len(agreed) == 1 and all(found):
        body = agreed.pop()
        channel["detail"] = {"body": body}
        notes.append(f"在 {len(found)} 个详情页上按页面结构找到正文：`{body}`")


def _iso(value: object) -> str | None:
    """A list or page date as the contract writes it; a yearless `[MM-DD]` has none yet."""
    return iso_local(to_store(value)) if isinstance(value, (datetime, date)) else None
