"""List and detail selectors of the CMSs university and government sites run on
(docs/sites.md), so that most real channels need only a URL and `preset = "…"`.

A selector is CSS (cssselect, plus soupsieve's `:-soup-contains('…')` through
`connectors.select`), optionally `@attr`; a comma list means "the first of
these that matches". Explicit `[channel.list]` and `[channel.detail]` keys
override a preset key by key. A new preset is one more entry in `PRESETS`:
the config accepts its name from there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Protocol

from pydantic import Field, field_validator

from connectors.messages import not_a_selector
from connectors.select import check_spec
from connectors.settings import Strict


def _check_selector(spec: str | None) -> str | None:
    if spec is None:
        return None
    try:
        check_spec(spec)
    except ValueError as exc:
        raise ValueError(not_a_selector(spec, exc)) from None
    return spec


Selector = Annotated[str | None, Field(default=None)]


class ListSelectors(Strict):
    """`[channel.list]`: where a list page's entries, links, titles, dates and pager are."""

    entry: Selector = None  # required unless a preset gives it
    scope: Selector = None  # the main column; sidebars repeat the list's markup
    link: Selector = None
    title: Selector = None
    date: Selector = None
    next: Selector = None
    pages: str | None = None

    _v = field_validator("entry", "scope", "link", "title", "date", "next")(_check_selector)

    @field_validator("pages")
    @classmethod
    def _pages_template(cls, v: str | None) -> str | None:
        if v is not None:
            wanted = '应为含 "{n}"、"{p}"、"{down}" 或 "{start}"/"{end}" 的翻页网址模板（不能有别的花括号）'
            try:
                v.format(n=1, p=2, down=3, start=16, end=30)
            except (KeyError, IndexError, ValueError):
                raise ValueError(f"{wanted}，实际为 {v!r}") from None
            if not any(k in v for k in ("{n}", "{p}", "{down}", "{start}")):
                raise ValueError(f"{wanted}，实际为 {v!r}")
        return v


class DetailSelectors(Strict):
    """`[channel.detail]`: where a detail page's title, body, date, department and attachments are."""

    title: Selector = None
    body: Selector = None
    date: Selector = None
    department: Selector = None
    attachments: Selector = None

    _v = field_validator("title", "body", "date", "department", "attachments")(_check_selector)


class PagedChannel(Protocol):
    """What `selectors_for` reads of a channel's settings."""

    @property
    def id(self) -> str: ...
    @property
    def preset(self) -> str | None: ...
    @property
    def list_(self) -> ListSelectors | None: ...
    @property
    def detail(self) -> DetailSelectors | None: ...


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
    # The entry selector is the config's own (not a preset's): when it matches nothing the
    # run says so; a preset's that matches nothing gives way to detection silently.
    entry_configured: bool = False


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


def known_preset(name: str | None) -> str | None:
    """A `preset = "…"` value, checked against `PRESETS` (a pydantic field validator)."""
    if name is not None and name not in PRESETS:
        raise ValueError(f"应为以下预设之一：{', '.join(PRESETS)}，实际为 {name!r}")
    return name


def selectors_for(channel: PagedChannel) -> Selectors:
    """The channel's effective selectors: preset, overridden key by key by the config."""
    lst = {k: v for k, v in channel.list_.model_dump().items() if v is not None} if channel.list_ else None
    detail = {k: v for k, v in channel.detail.model_dump().items() if v is not None} if channel.detail else None
    return selectors_from(channel.preset, lst, detail,
                          configured=channel.list_ is not None and channel.list_.entry is not None)


def selectors_from(preset_name: str | None, lst_keys: dict[str, str] | None, detail_keys: dict[str, str] | None = None,
                   *, configured: bool = False) -> Selectors:
    """Selectors from a preset's name and `[channel.list]` / `[channel.detail]` keys over it."""
    preset: dict[str, dict[str, Any]] = PRESETS.get(preset_name or "", {"list": {}, "detail": {}})
    lst: dict[str, str | None] = {**preset["list"], **(lst_keys or {})}
    detail = {**GENERIC_DETAIL, **{k: v for k, v in preset["detail"].items() if v}, **(detail_keys or {})}
    return Selectors(
        entry=str(lst.get("entry") or ""),
        scope=lst.get("scope"),
        link=lst.get("link") or "a@href",
        title=lst.get("title"),
        date=lst.get("date"),
        next=lst.get("next"),
        pages=lst.get("pages"),
        detail=detail,
        entry_configured=configured,
    )
