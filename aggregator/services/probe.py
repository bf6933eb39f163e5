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
from connectors.detect import detect_list, fingerprint
from connectors.dom import Element
from connectors.html import HtmlSettings, list_count, list_entries, next_page, parse_detail, parse_html
from connectors.http import FetchError, Page, fetch_page, host_allowed, site_host
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


def channel_id_for(url: str) -> str:
    """A config id from the URL: `https://www.x.edu.cn/xwzx/tzgg.htm` → `tzgg`.

    >>> channel_id_for("https://yz.example.edu.cn/zsxx/sszs.htm")
    'sszs'
    """
    parts = urlsplit(url)
    stem = parts.path.rstrip("/").rsplit("/", 1)[-1].split(".", 1)[0].lower()
    stem = re.sub(r"[^a-z0-9-]+", "-", stem).strip("-")
    if not stem or stem in ("index", "list", "default"):
        stem = re.sub(r"[^a-z0-9-]+", "-", (parts.hostname or "site").split(".")[0].lower()).strip("-")
    return stem or "channel"


def probe(url: str, *, kind: str = "html", http: HttpConfig | None = None) -> ProbeResult:
    """Probe a list page; raises `ChannelError` with a readable reason when it cannot be read."""
    http = http or HttpConfig()
    host = site_host(url)
    with make_http_client(http, RequestCounter()) as client:
        try:
            page = fetch_page(client, url, hosts=[host], max_bytes=http.max_bytes)
        except FetchError as exc:
            raise ChannelError(msg.list_unread(str(exc))) from None
        if page.status == 404:
            raise ChannelError(f"{url} 返回 HTTP 404：请检查网址")
        root = parse_html(page.text)
        cms = fingerprint(page.text)
        notes: list[str] = []
        channel, sel, entries = _list_block(root, page, url, kind, cms, notes)
        nxt = next_page(root, page, url, sel, 1)
        count = list_count(root, page.text)
        if nxt is None and count.pages not in (None, 1):
            notes.append(f"列表自报共 {count.pages} 页，但没有找到“下一页”链接："
                         "请设置 [channel.list] next 或 pages")
        pages = _detail_pages(client, entries[:DETAILS_READ], host, http, notes)
        _detail_selectors(pages, entries[:DETAILS_READ], sel, channel, notes)
        if "detail" in channel:
            sel = selectors_for(HtmlSettings.model_validate({**channel, "id": "probe", "kind": "html"}))
        out = _sample(entries, pages, sel, notes)
    return ProbeResult(url=url, cms=cms, channel=channel, entries=out, site_total=count.total, next_page=nxt,
                       notes=notes)


def _list_block(root: Element, page: Page, url: str, kind: str, cms: str | None,
                notes: list[str]) -> tuple[dict[str, Any], Selectors, list[Entry]]:
    """The channel block for the list (the preset's, when it finds at least three entries; else the
    list found by its shape), its selectors, and the entries they read."""
    channel: dict[str, Any] = {"id": channel_id_for(url), "kind": kind, "url": url}
    sel = selectors_for(HtmlSettings(id="probe", kind="html", url=url, preset=cms))
    entries = list_entries(root, page.url, sel) if sel.entry else []
    if cms:
        channel["preset"] = cms
    if len(entries) >= 3:
        notes.append(f"预设 {cms} 找到了列表（{len(entries)} 条）")
        return channel, sel, entries
    found = detect_list(root)
    if found is None:
        raise ChannelError(f"{url} 上没有找到带标题的链接列表：这是栏目的列表页吗？"
                           "少于三条的列表无法与菜单区分")
    listed = found.as_config()
    if cms and sel.next:
        listed.pop("next", None)  # the preset's pager already reads this CMS's pager
    channel["list"] = listed
    sel = selectors_for(HtmlSettings.model_validate({**channel, "id": "probe", "kind": "html"}))
    notes.append(f"按页面结构找到列表 `{found.entry}`：{found.entries} 条，其中 {found.dated} 条链接旁有日期")
    return channel, sel, list_entries(root, page.url, sel)


def _sample(entries: list[Entry], pages: dict[str, Page], sel: Selectors, notes: list[str]) -> list[dict[str, Any]]:
    """What a sync would store from the list: the first entries read from their detail pages."""
    out: list[dict[str, Any]] = []
    for entry in entries[:DETAILS_READ]:
        post_title, when, detail = entry.title, entry.date, "list"
        detail_page = pages.get(entry.url)
        if detail_page is not None:
            post = parse_detail(detail_page, entry, sel)
            post_title, when, detail = post.title, post.published_at, "detail"
            if not post.body:
                notes.append(f"{entry.url} 上没有找到正文：请设置 [channel.detail] body")
        out.append({"title": post_title, "url": entry.url, "read_from": detail, "published_at": _iso(when)})
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
    from connectors.detect import detect_body

    found: list[str | None] = []
    for entry in entries:
        page = pages.get(entry.url)
        if page is None:
            continue
        if parse_detail(page, entry, sel).body:
            return  # the generic selectors read this site's articles
        found.append(detect_body(parse_html(page.text)))
    agreed = {f for f in found if f}
    if len(agreed) == 1 and all(found):
        body = agreed.pop()
        channel["detail"] = {"body": body}
        notes.append(f"在 {len(found)} 个详情页上按页面结构找到正文：`{body}`")


def _iso(value: object) -> str | None:
    """A list or page date as the contract writes it; a yearless `[MM-DD]` has none yet."""
    return iso_local(to_store(value)) if isinstance(value, (datetime, date)) else None
