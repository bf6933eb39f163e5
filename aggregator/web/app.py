"""The office's web pages and the JSON API, over the services the CLI uses.

Server-rendered (Jinja2, autoescaped), no JavaScript: every page works as plain HTML forms and
links, so the CSP forbids scripts outright. `create_app` only assembles: the shared `Site`
(config, store, templates, sessions), the security headers, the sign-in wall when configured,
one error page, and the routers — `routes/search.py` (`/`, downloads, `/feed.atom`,
`/api/search`), `routes/posts.py` (`/posts/{id}`, attachments, tags, `/api/posts/{id}`),
`routes/reports.py` (`/stats`, `/coverage`, `/compliance` and their API), `routes/channels.py`
(`/channels`, sync now, accept, the audit log, `/api/channels`, `/healthz`) and
`routes/accounts.py` (sign-in). What a page shows is made in `views.py`; what it does, in
`aggregator.services`. Writes need a signed-in account of the right role and the form's CSRF
token (`aggregator.web.auth`, `aggregator.services.accounts`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.config import Config
from aggregator.web.routes import accounts, channels, posts, reports, search
from aggregator.web.site import HERE, Site, site_of
from aggregator.web.views import CSP
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.scheduler.service import Scheduler


def create_app(config: Config, store: Store, scheduler: Scheduler | None = None) -> FastAPI:
    """The app over one open store; `scheduler` when this process also runs it (for /healthz)."""
    from aggregator import __version__

    app = FastAPI(title="xxgk 信息公开聚合", version=__version__, docs_url=None,
                  openapi_url="/api/openapi.json", redoc_url=None)
    app.state.site = Site(config, store, scheduler)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    _offline_docs(app)
    app.add_middleware(Guard, site=app.state.site)
    # Starlette's own (an unknown address, a wrong method) as well as ours: one page in the site's style.
    app.add_exception_handler(StarletteHTTPException, http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, bad_parameter)  # type: ignore[arg-type]
    for group in (search, posts, reports, channels, accounts):
        app.include_router(group.router)
    return app


def app_from_environment() -> FastAPI:
    """The app one process of `xxgk serve --workers N` builds for itself: its own connection to the
    store of the config `XXGK_CONFIG` names (the scheduler runs once, in the serving parent)."""
    import os

    from aggregator.config import load_config

    config = load_config(os.environ.get("XXGK_CONFIG"))
    app = create_app(config, Store.open(config.store.url), None)
    settle()
    return app


def settle() -> None:
    """Once a serving process has loaded what it serves with (the framework, the 清单 model, the
    templates): those 138k objects live as long as the process and are moved out of the garbage
    collector's reach (`gc.freeze`), and the young generation is collected every 20,000 new
    objects, not 700. A collection holds every request of the process: under bench/web.py's load
    a full one took up to 200 ms, and the collector 1 s of each process's 50; after, 70–90 ms at
    most and 0.45 s."""
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _offline_docs(app: FastAPI) -> None:
    """`/api/docs`: Swagger UI served from the app's own files (the swagger-ui-bundle-v2 package) —
    offices run on intranets, and FastAPI's default page loads it from a CDN."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/api/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/api/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="xxgk 信息公开聚合 · API",
                                   swagger_js_url="/api/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/api/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/api/docs-assets/favicon-32x32.png")


class Guard:
    """Every answer's security headers, and `[web] login_required`'s sign-in wall (reading needs an
    account too; sign-in, static files and /healthz aside) — a plain ASGI middleware: Starlette's
    `BaseHTTPMiddleware` runs each request through a task and a stream of its own (3% of a
    search page's time under load, bench/web.py)."""

    OPEN = ("/login", "/static/", "/healthz")

    def __init__(self, app: ASGIApp, site: Site) -> None:
        self.app, self.site = app, site

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        own_policy = path.startswith(("/api/docs", "/attachments/"))  # a kept copy sets its own (sandbox)

        async def guarded(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if not own_policy:
                    headers["Content-Security-Policy"] = CSP
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Referrer-Policy"] = "same-origin"  # no-referrer would make Chromium send `Origin: null`
            await send(message)

        if self.site.config.web.login_required and not path.startswith(self.OPEN) \
                and not self.site.session_of(Request(scope)):
            wall: Response = JSONResponse({"error": "需要登录"}, status_code=401) if path.startswith("/api/") \
                else RedirectResponse(f"/login?next={quote(path)}", status_code=303)
            await wall(scope, receive, guarded)
            return
        await self.app(scope, receive, guarded)


# What the framework says by itself, in the office's words.
_FRAMEWORK_ZH = {"Not Found": "没有这个页面：{path}（地址可能写错了，或帖子已被删除）",
                 "Method Not Allowed": "这个地址不接受这种请求（{method}）"}


def http_error(request: Request, exc: StarletteHTTPException) -> Response:
    """One error page in the site's style (JSON under /api/)."""
    detail = exc.detail
    if detail in _FRAMEWORK_ZH:
        detail = _FRAMEWORK_ZH[detail].format(path=request.url.path, method=request.method)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": detail}, status_code=exc.status_code)
    return site_of(request).render(request, "error.html", exc.status_code, message=detail)


_KIND_ZH = {"int_parsing": "整数", "int_type": "整数", "missing": "必填", "greater_than_equal": "不小于下限的数",
            "less_than_equal": "不大于上限的数"}


def bad_parameter(request: Request, exc: RequestValidationError) -> Response:
    """A malformed parameter (`/posts/abc`, `?page=0`) is the site's own 400 page in Chinese, never
    the framework's JSON: it names the parameter and what it should be."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(x) for x in error.get("loc", ())[1:]) or "参数"
        parts.append(f"{where} 应为{_KIND_ZH.get(error.get('type', ''), '有效的值')}（收到 {error.get('input')!r}）")
    return http_error(request, HTTPException(400, "；".join(parts) or "请求参数有误"))
