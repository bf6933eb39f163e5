"""What every page needs from the app, in one object the routers reach through the request:
the config and the store, the templates, who is signed in, the checks every write makes, and
the short-lived caches. `create_app` makes one and keeps it on `app.state.site`."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from aggregator.config import Config
from aggregator.services.accounts import ROLE_ZH
from aggregator.services.recent import KeptCubes, KeptSnippets, KeptTwins, Lru, RecentSearches
from aggregator.web import auth
from aggregator.web.views import TtlCache, highlight, href
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.scheduler.service import Scheduler

HERE = Path(__file__).parent


@dataclass
class Site:
    config: Config
    store: Store
    scheduler: Scheduler | None = None
    key: bytes = b""
    names: dict[str, str] = field(default_factory=dict)  # channel id → its name
    groups: dict[str, str] = field(default_factory=dict)  # channel id → its group
    syncing: dict[str, threading.Thread] = field(default_factory=dict)  # "sync now" threads of this process
    facet_cache: TtlCache = field(default_factory=lambda: TtlCache(seconds=30))
    cubes: KeptCubes = field(default_factory=KeptCubes)  # `search_facets`: each query's matches grouped
    stats_cache: TtlCache = field(default_factory=lambda: TtlCache(seconds=30))
    asides: TtlCache = field(default_factory=lambda: TtlCache(seconds=30))  # the search page's rendered facets
    recent: RecentSearches = field(default_factory=RecentSearches)  # totals counted again only for new posts
    snippets: KeptSnippets = field(default_factory=KeptSnippets)  # result pieces, by post, terms and changes
    twins: KeptTwins = field(default_factory=KeptTwins)  # a page's 「另见」, by its rows and the store's mark
    # the search page's rendered results by what they show (routes/search.py `hits`): two hundred
    # pages of 20, a result about 1 KB
    hits: Lru[tuple[Any, ...], Markup] = field(default_factory=lambda: Lru(4096))
    templates: Jinja2Templates = field(init=False)

    def __post_init__(self) -> None:
        from aggregator.qingdan import items as qingdan_items

        self.templates = Jinja2Templates(directory=str(HERE / "templates"))
        self.templates.env.auto_reload = False  # the templates ship with the code: no stat() of each per page
        self.templates.env.filters["highlight"] = highlight
        self.templates.env.filters["href"] = href
        self.templates.env.filters["money"] = lambda v: "—" if v is None else f"{v:,.2f}"
        self.templates.env.filters["money0"] = lambda v: "—" if v is None else f"{v:,}"  # a count: 189,335
        self.templates.env.filters["signed"] = lambda v: "—" if v is None else f"{v:+,}"
        self.templates.env.globals["qingdan"] = qingdan_items()
        # a category's name by its number (found among the fifty items by a Jinja filter chain, it
        # was a third of the statistics page's rendering)
        self.templates.env.globals["category_names"] = {i.category: i.category_name for i in qingdan_items().values()}
        self.key = self.key or auth.secret_key(self.store)
        self.names = {ch.id: ch.display_name for ch in self.config.channels}
        self.groups = {ch.id: ch.group_name for ch in self.config.channels}

    def session_of(self, request: Request) -> auth.Session | None:
        return auth.read(request.cookies.get(auth.COOKIE), self.key)

    def render(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = self.session_of(request)
        context.update(request=request, admin=bool(session and session.admin),
                       editor=bool(session and session.may("editor")), user=session.user if session else None,
                       role=ROLE_ZH.get(session.role, "") if session else "",
                       csrf=session.csrf if session else "", names=self.names, nav=name.split(".")[0])
        return self.templates.TemplateResponse(request, name, context, status_code=status)

    def require(self, request: Request, csrf: str, role: str = "admin") -> auth.Session:
        """Every write: a session whose role reaches `role`, its CSRF token (and, when the browser
        says, our own origin). The session, whose user the audit log records."""
        session = self.session_of(request)
        if session is None:
            raise HTTPException(403, "请先登录")
        if not session.may(role):
            raise HTTPException(403, f"账号 {session.user}（{ROLE_ZH.get(session.role, session.role)}）没有这项权限："
                                     f"需要{ROLE_ZH[role]}")
        if not auth.same_token(csrf, session.csrf):
            raise HTTPException(403, "表单已过期或来源不明（CSRF 校验失败），请刷新页面后重试")
        origin = request.headers.get("origin")
        if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
            raise HTTPException(403, "跨站提交被拒绝")
        return session

    @staticmethod
    def address_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"


def site_of(request: Request) -> Site:
    site: Site = request.app.state.site
    return site
