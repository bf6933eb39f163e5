"""`feed` channels: RSS 0.9x/1.0/2.0 and Atom (sites' own feeds, RSSHub and WeWe RSS
routes for WeChat accounts), fetched through the shared polite client with a
conditional GET and parsed by feedparser from the response text.

With `[channel.detail]` selectors, each new entry's page is fetched for the
full text, as for an `html` channel.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal

import feedparser
from pydantic import Field, field_validator

from connectors.base import ChannelError, Checkpoint, FetchContext, Item, RawPost, Skipped
from connectors.html import block_text, entry_key, parse_detail, parse_html
from connectors.http import FetchError, fetch_page, host_allowed
from connectors.listwalk import Entry
from connectors.presets import DetailSelectors, ListSelectors, known_preset, selectors_for
from connectors.settings import ChannelSettings, WebSettings


def _when(entry: Any) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            return datetime.fromtimestamp(calendar.timegm(value), UTC)
    return None


def _html_text(fragment: str) -> str:
    return block_text(parse_html(f"<div>{fragment}</div>")) if fragment else ""


class FeedSettings(WebSettings):
    """A `feed` channel: RSS or Atom; with `[channel.detail]` (or a preset) each new entry's page is read."""

    kind: Literal["feed"] = "feed"
    preset: str | None = None
    list_: ListSelectors | None = Field(default=None, alias="list")  # accepted, unused: a feed has no list page
    detail: DetailSelectors | None = None

    _p = field_validator("preset")(known_preset)


class FeedConnector:
    kind: ClassVar[str] = "feed"
    settings: ClassVar[type[ChannelSettings]] = FeedSettings

    def fetch(self, ctx: FetchContext) -> Iterator[Item]:
        channel = ctx.channel
        if not isinstance(channel, FeedSettings) or channel.url is None:
            raise ChannelError(f"渠道 {channel.id}：feed 渠道需要设置 url")
        url = channel.url
        hosts = channel.allowed_hosts
        try:
            page = fetch_page(ctx.http, url, hosts=hosts, max_bytes=ctx.max_bytes,
                              etag=None if ctx.full else ctx.state.etag,
                              last_modified=None if ctx.full else ctx.state.last_modified)
        except FetchError as exc:
            raise ChannelError(f"订阅源未能读取：{exc}", failure=exc.failure) from None
        if page.not_modified:
            yield Checkpoint(ctx.state)
            return
        if page.status == 404:
            raise ChannelError(f"订阅源 {url} 返回 HTTP 404：地址是否已更换？请检查渠道的 url",
                               failure="unreachable")
        parsed = feedparser.parse(page.text)
        # An empty body parses to a result without even a `version`: not a feed either.
        if not getattr(parsed, "version", "") and not parsed.get("entries"):  # '' = no RSS/RDF/Atom recognised
            reason = getattr(parsed, "bozo_exception", "no <rss>, <rdf:RDF> or <feed> element")
            raise ChannelError(f"{url} 不是 RSS 或 Atom 订阅源（{reason}）：地址是否已更换？")
        sel = selectors_for(channel) if channel.detail is not None else None
        for e in parsed.entries:
            link = e.get("link") or ""
            key = e.get("id") or e.get("guid") or (entry_key(link) if link else "")
            title = e.get("title") or ""
            if not key or not title:
                yield Skipped(link or url, "订阅源中的一条没有 id/链接或没有标题，未保存")
                continue
            content = (e.get("content") or [{}])[0].get("value") or e.get("summary") or ""
            post = RawPost(title=title, url=link or None, key=key, published_at=_when(e), body=_html_text(content),
                           department=e.get("author") or None)
            if sel is not None and link and (ctx.full or not ctx.is_known(key)):
                if not host_allowed(link, hosts):
                    post.extra["link_only"] = True  # e.g. a WeWe RSS entry pointing at mp.weixin.qq.com
                else:
                    try:
                        detail = fetch_page(ctx.http, link, hosts=hosts, max_bytes=ctx.max_bytes)
                        full = parse_detail(detail, Entry(link, title, post.published_at, key), sel)
                        post = replace(full, key=key, published_at=full.published_at or post.published_at)
                    except FetchError as exc:
                        yield Skipped(link, f"全文未能读取（{exc}）；已保存订阅源中的摘要")
            yield post
        yield Checkpoint(replace(ctx.state, etag=page.etag, last_modified=page.last_modified))
