"""List and detail selectors of the CMSs university and government sites run on
(SITES.md), so that most real channels need only a URL and `preset = "…"`.

A selector is CSS as soupsieve reads it, optionally `@attr`; a comma list
means "the first of these that matches". Explicit `[channel.list]` and
`[channel.detail]` keys override a preset key by key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aggregator.config import ChannelConfig

# Fields a detail page is read for, with generic fallbacks any preset may extend.
GENERIC_DETAIL = {
    "title": "meta[name=ArticleTitle]@content, form[name=_newscontent_fromname] h1, "
             "form[name=_newscontent_fromname] h2, form[name=_newscontent_fromname] h3, [class^=titlestyle], h1, "
             "meta[property='og:title']@content",
    "date": "meta[name=PubDate]@content, meta[name=publishdate]@content, [class^=timestyle], "
            ".info, .date, .time, .arti_update",
    "body": "#vsb_content .v_news_content, .v_news_content, [id^=vsb_content], .TRS_Editor, "
            ".Custom_UnionStyle, #zoom, .wp_articlecontent, .Article_Content, .vF_detail_content, "
            "form[name=_newscontent_fromname], article, .content, #content",
    "department": "meta[name=ContentSource]@content",
    "attachments": "a[href*=DownloadAttachUrl], a[href*='download.jsp'], ul.fjxx a, [id^=nattach]",
}


@dataclass(frozen=True, slots=True)
class Selectors:
    entry: str
    scope: str | None
    link: str
    title: str | None
    date: str | None
    next: str | None
    pages: str | None
    detail: dict[str, str]


PRESETS: dict[str, dict[str, dict[str, str | None]]] = {
    # 博达 VSB family A: li#line_u{comp}_{i} lists with a pb_sys pager (pages numbered backwards).
    "vsb": {
        "list": {
            "entry": "li[id^=line_u]",
            "link": "a@href",
            "title": "a@title",
            "date": "span.date, p.date, span.time, .date, .time, span:last-child",
            "next": "span.p_next a@href, a:-soup-contains('下页')@href, a:-soup-contains('下一页')@href",
        },
        "detail": {},
    },
    # VSB family B: legacy table.winstyle{id} with a.c{id} anchors and timestyle dates.
    "vsb-legacy": {
        "list": {
            "entry": "table[class^=winstyle] tr",
            "link": "a[class^=c]@href",
            "title": "a[class^=c]@title",
            "date": "[class^=timestyle], [class^=c][class$=_date]",
            "next": "a.Next:-soup-contains('下页')@href, a:-soup-contains('下一页')@href",
        },
        "detail": {},
    },
    # 苏迪 WebPlus: .list_item with .Article_PublishDate; /{col}/list{n}.htm counts forwards.
    "webplus": {
        "list": {
            "entry": ".list_item, ul.news_list li, .wp_article_list li",
            "link": "a@href",
            "title": "a@title",
            "date": ".Article_PublishDate, .news_meta, span.date",
            "next": "a.next@href, .wp_paging a:-soup-contains('下一页')@href",
        },
        "detail": {"title": ".Article_Title, h1.arti_title", "date": ".Article_PublishDate, .arti_update"},
    },
    # TRS WCM: ul.list li with "[YYYY-MM-DD]" spans; JS pager, so index_{n}.html.
    "trs": {
        "list": {
            "entry": "ul.list li, .list ul li",
            "link": "a@href",
            "title": "a@title",
            "date": "span",
            "pages": "index_{n}.html",
        },
        "detail": {"title": "meta[name=ArticleTitle]@content", "date": "meta[name=PubDate]@content"},
    },
    # 中国政府采购网 channel lists: ul.c_list_bid, JS Pager({size:N}), index_{n}.htm.
    "ccgp": {
        "list": {
            "entry": "ul.c_list_bid > li",
            "link": "a@href",
            "title": "a@title",
            "date": "em",
            "pages": "index_{n}.htm",
        },
        "detail": {
            "title": ".vF_detail_header h2, h2.tc, meta[name=ArticleTitle]@content",
            "date": "#pubTime, meta[name=PubDate]@content",
            "body": ".vF_detail_content, .vT_detail_content",
            "department": "#sourceName",
        },
    },
}


def selectors_for(channel: ChannelConfig) -> Selectors:
    """The channel's effective selectors: preset, overridden key by key by the config."""
    preset = PRESETS.get(channel.preset or "", {"list": {}, "detail": {}})
    lst: dict[str, str | None] = dict(preset["list"])
    if channel.list_ is not None:
        lst.update({k: v for k, v in channel.list_.model_dump().items() if v is not None})
    detail = {k: v for k, v in GENERIC_DETAIL.items()}
    detail.update({k: v for k, v in preset["detail"].items() if v})
    if channel.detail is not None:
        detail.update({k: v for k, v in channel.detail.model_dump().items() if v is not None})
    if not lst.get("entry") and channel.kind in ("html", "procurement"):
        raise ValueError(f"channel {channel.id}: no list entry selector")  # config validation prevents this
    return Selectors(
        entry=str(lst.get("entry") or ""),
        scope=lst.get("scope"),
        link=lst.get("link") or "a@href",
        title=lst.get("title"),
        date=lst.get("date"),
        next=lst.get("next"),
        pages=lst.get("pages"),
        detail=detail,
    )
