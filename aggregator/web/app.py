"""The office's web pages and the JSON API, over the services the CLI uses.

Server-rendered (Jinja2, autoescaped), no JavaScript: every page works as
plain HTML forms and links, so the CSP forbids scripts outright. Pages: `/`
search with facets, `/posts/{id}`, `/stats`, `/coverage`, `/channels`, and
`/feed.atom`; JSON under `/api/` with its OpenAPI page at `/api/docs`;
`/healthz`. Writes (a tag, "sync now") need the admin signed in and the form's
CSRF token (`aggregator.web.auth`).
"""

from __future__ import annotations

import difflib
import math
import shutil
import tempfile
import threading
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode
from xml.etree import ElementTree as ET

import nh3
from fastapi import FastAPI, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from starlette.background import BackgroundTask

from aggregator.clock import iso_local, local_now
from aggregator.config import Config
from aggregator.services.accounts import ROLE_ZH
from aggregator.web import auth
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.scheduler.service import Scheduler

HERE = Path(__file__).parent
PAGE_SIZE = 20
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: http:; "
       "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
FILTERS = ("channel", "group", "item", "category", "type", "from", "to", "year", "month")


def highlight(text: str) -> Markup:
    """A snippet with its hit in 【】 → escaped text with the hit in <mark>."""
    out = str(escape(text))
    return Markup(out.replace("【", "<mark>").replace("】", "</mark>"))


def href(url: object) -> str:
    """A scraped link as an `href`: http(s) only (`javascript:`, `data:`, `file:` become empty)."""
    from urllib.parse import urlsplit

    text = str(url or "").strip()
    return text if urlsplit(text).scheme.lower() in ("http", "https") else ""


def clean_body(html: str | None, base: str | None = None) -> Markup:
    """Scraped HTML as the page shows it: links and images made absolute against the post's own
    address (they point at the university's site, not at us), then sanitised again (nh3 allow-list)."""
    if not html:
        return Markup("")
    if base:
        import lxml.html

        try:
            doc = lxml.html.fragment_fromstring(html, create_parent="div")
            doc.make_links_absolute(base, resolve_base_href=False)
            html = lxml.html.tostring(doc, encoding="unicode")
        except (ValueError, TypeError):
            pass  # unparseable: sanitised as it is
    return Markup(nh3.clean(html, url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow"))


PAGE_ROWS = 300  # findings listed per status on /compliance


def academic_years(today: date) -> list[str]:
    start = today.year if today.month >= 9 else today.year - 1
    return [f"{y}-{y + 1}" for y in range(start, start - 6, -1)]


def create_app(config: Config, store: Store, scheduler: Scheduler | None = None) -> FastAPI:
    """The app over one open store; `scheduler` when this process also runs it (for /healthz)."""
    from aggregator import __version__
    from aggregator.qingdan import items as qingdan_items

    app = FastAPI(title="xxgk 信息公开聚合", version=__version__, docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["highlight"] = highlight
    templates.env.filters["href"] = href
    templates.env.globals["qingdan"] = qingdan_items()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    key = auth.secret_key(store)
    names = {ch.id: ch.display_name for ch in config.channels}
    groups = {ch.id: ch.group_name for ch in config.channels}
    syncing: dict[str, threading.Thread] = {}
    facet_cache = TtlCache(seconds=30)
    stats_cache = TtlCache(seconds=30)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        if not request.url.path.startswith(("/api/docs", "/attachments/")):  # a kept copy sets its own (sandbox)
            response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"  # no-referrer would make Chromium send `Origin: null`
        return response

    def session_of(request: Request) -> auth.Session | None:
        return auth.read(request.cookies.get(auth.COOKIE), key)

    @app.middleware("http")
    async def login_wall(request: Request, call_next: Any) -> Response:
        """`[web] login_required`: reading needs an account too (sign-in, static files and /healthz aside)."""
        open_paths = ("/login", "/static/", "/healthz")
        if config.web.login_required and not request.url.path.startswith(open_paths) and not session_of(request):
            if request.url.path.startswith("/api/"):
                return JSONResponse({"error": "需要登录"}, status_code=401)
            return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
        response: Response = await call_next(request)
        return response

    def render(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        session = session_of(request)
        context.update(request=request, admin=bool(session and session.admin),
                       editor=bool(session and session.may("editor")), user=session.user if session else None,
                       role=ROLE_ZH.get(session.role, "") if session else "",
                       csrf=session.csrf if session else "", names=names, nav=name.split(".")[0])
        return templates.TemplateResponse(request, name, context, status_code=status)

    def require(request: Request, csrf: str, role: str = "admin") -> auth.Session:
        """Every write: a session whose role reaches `role`, its CSRF token (and, when the browser
        says, our own origin). The session, whose user the audit log records."""
        session = session_of(request)
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

    def address_of(request: Request) -> str:
        return request.client.host if request.client else "unknown"

    # -- search ----------------------------------------------------------------------------------
    def searched(params: dict[str, Any], *, limit: int) -> Any:
        """A search for a download or a feed: bad parameters are a 400 saying which, never a 500."""
        from aggregator.services.search import SearchError
        from aggregator.services.stats import StatsError

        try:
            return run_search(params, limit=limit, offset=0, facets=False)
        except (SearchError, StatsError, ValueError) as exc:
            raise HTTPException(400, str(exc)) from None

    def run_search(params: dict[str, Any], *, limit: int, offset: int, facets: bool) -> Any:
        from aggregator.services.search import search
        from aggregator.services.stats import academic_year

        date_from, date_to = params.get("from") or None, params.get("to") or None
        if params.get("year") and not (date_from or date_to):
            period = academic_year(params["year"])
            assert period.start is not None and period.end is not None
            date_from = period.start.date().isoformat()
            date_to = date.fromordinal(period.end.date().toordinal() - 1).isoformat()
        if params.get("month") and not (date_from or date_to):
            y, m = (int(x) for x in params["month"].split("-"))
            date_from = date(y, m, 1).isoformat()
            date_to = date.fromordinal(date(y + m // 12, m % 12 + 1, 1).toordinal() - 1).isoformat()
        return search(store, params.get("q", ""), channels=_list(params.get("channel")),
                      groups=_list(params.get("group")), items=_list(params.get("item")),
                      categories=_list(params.get("category")), types=_list(params.get("type")),
                      date_from=date_from, date_to=date_to, limit=limit, offset=offset,
                      order="relevance" if params.get("sort") == "relevance" else "newest", facets=facets)

    def search_params(request: Request) -> dict[str, Any]:
        qp = request.query_params
        out: dict[str, Any] = {"q": qp.get("q", "")[:2000], "sort": qp.get("sort", "")}
        for f in FILTERS:
            if qp.get(f):
                out[f] = qp.get(f)
        return out

    @app.get("/", response_class=HTMLResponse)
    def page_search(request: Request, page: int = Query(1, ge=1, le=10_000)) -> HTMLResponse:
        from aggregator.services.search import SearchError
        from aggregator.services.stats import StatsError

        params = search_params(request)
        error = None
        facets: dict[str, list[tuple[object, int]]] = {}
        try:
            found = run_search(params, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, facets=False)
            # Facet counts of a common one-character query walk most of the store: paging through
            # the same search reuses them for a while (the total and the rows are always fresh).
            key = tuple(sorted((k, v) for k, v in params.items() if k != "sort"))
            facets = facet_cache.get(key, lambda: run_search(params, limit=0, offset=0, facets=True).result.facets)
        except (SearchError, StatsError, ValueError) as exc:
            found, error = None, str(exc)
        rows, snippets, total = [], {}, 0
        if found is not None:
            rows, total = found.result.rows, found.result.total
            snippets = found.snippets(store)

        def link(**change: Any) -> str:
            merged = {k: v for k, v in {**params, **change}.items() if v not in (None, "")}
            return "/?" + urlencode(merged) if merged else "/"

        query = urlencode({k: v for k, v in params.items() if v})
        pages = max(1, -(-total // PAGE_SIZE))
        return render(request, "search.html", params=params, rows=rows, snippets=snippets, total=total,
                      facets=_facet_view(facets, names, groups), link=link, page=page, pages=pages,
                      query=query, error=error, iso=iso_local, years=academic_years(local_now().date()))

    @app.get("/search.{fmt}")
    def download_search(request: Request, fmt: str) -> Response:
        """The result list of any search as CSV (UTF-8 with BOM, opens cleanly in Excel/WPS) or XLSX."""
        if fmt not in ("csv", "xlsx"):
            raise HTTPException(404)
        found = searched(search_params(request), limit=100_000)
        from aggregator.services.sheets import csv_text, workbook_bytes

        header = ["标题", "渠道", "发布日期", "清单事项", "链接"]
        lines = [[r["title"], names.get(r["channel_id"], r["channel_id"]), r["published_at"],
                  f"第{r['item']}项" if r["item"] else "", r["url"] or ""] for r in found.result.rows]
        stamp = local_now().strftime("%Y%m%d-%H%M")
        if fmt == "csv":
            text = csv_text(header, ([*row[:2], row[2].strftime("%Y-%m-%d") if row[2] else "", *row[3:]]
                                     for row in lines))
            return Response(text, media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": f'attachment; filename="search-{stamp}.csv"'})
        body = workbook_bytes("检索结果", header, lines, (60, 24, 12, 10, 60), {2: "yyyy-mm-dd"})
        return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="search-{stamp}.xlsx"'})

    @app.get("/feed.atom")
    def feed(request: Request) -> Response:
        """An Atom feed of any search (the same parameters as `/`), newest first."""
        params = {**search_params(request), "sort": ""}
        found = searched(params, limit=50)
        ns = "http://www.w3.org/2005/Atom"
        root = ET.Element("feed", xmlns=ns)
        base = str(request.base_url).rstrip("/")
        ET.SubElement(root, "title").text = f"信息公开聚合：{params.get('q') or '全部'}"
        ET.SubElement(root, "id").text = f"{base}/feed.atom?{urlencode(params)}"
        ET.SubElement(root, "updated").text = iso_local(local_now())
        ET.SubElement(root, "link", href=f"{base}/?{urlencode(params)}")
        for r in found.result.rows:
            entry = ET.SubElement(root, "entry")
            ET.SubElement(entry, "title").text = r["title"]
            ET.SubElement(entry, "id").text = f"{base}/posts/{r['id']}"
            ET.SubElement(entry, "link", href=f"{base}/posts/{r['id']}")
            ET.SubElement(entry, "updated").text = iso_local(r["published_at"]) or iso_local(local_now())
            ET.SubElement(entry, "author").append(_text_el("name", names.get(r["channel_id"], r["channel_id"])))
        body = ET.tostring(root, encoding="unicode", xml_declaration=False)
        return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body,
                        media_type="application/atom+xml; charset=utf-8")

    # -- a post ---------------------------------------------------------------------------------
    @app.get("/posts/{post_id}", response_class=HTMLResponse)
    def page_post(request: Request, post_id: int) -> HTMLResponse:
        from aggregator.services.tags import explain_post, explain_text

        post = store.post_by_id(post_id)
        if post is None:
            return render(request, "error.html", 404, message=f"没有编号为 {post_id} 的帖子")
        revisions = store.revisions(post_id)
        attachments = store.post_attachments(post_id)
        diffs = []
        kept = [{"name": a["name"], "url": a["url"], "sha256": a["sha256"]} for a in attachments
                if a["status"] in ("kept", "gone")]
        newer = post
        for rev in reversed(revisions):
            # A revision an attachment change made lists files (with sha256): compare it with the
            # files kept now; a content revision lists the page's links, like the post.
            target = {**newer, "attachments": kept} if kept and _has_files(rev) and not _has_files(newer) else newer
            diffs.append({"valid_from": rev["valid_from"], "valid_to": rev["valid_to"],
                          "lines": _diff(rev, target)})
            newer = rev
        from aggregator.services.accounts import change_rows, changes

        return render(request, "post.html", post=post, body=clean_body(post.get("body_html"), post.get("url")),
                      explain=explain_text(explain_post(config, store, post)), diffs=diffs,
                      changes=change_rows(changes(store, f"post:{post_id}")),
                      iso=iso_local, channel=names.get(post["channel_id"], post["channel_id"]),
                      files=[_attachment_view(a) for a in attachments])

    @app.get("/attachments/{link_id}")
    def kept_copy(link_id: int) -> Response:
        """The kept copy of an attachment, always as a download: never rendered, never sniffed."""
        from aggregator.attachments.names import clean_name
        from aggregator.services.attachments import file_path

        row = store.attachment_link(link_id)
        path = file_path(Path(config.attachments.dir), row["sha256"]) if row and row["sha256"] else None
        if row is None or path is None or not path.exists():
            return PlainTextResponse("没有保存这个附件的副本", status_code=404)
        name = clean_name(row["name"])
        return FileResponse(path, media_type=row["mime"] or "application/octet-stream", headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, max-age=86400"})

    @app.post("/posts/{post_id}/tag")
    def retag(request: Request, post_id: int, item: str = Form(...), csrf: str = Form("")) -> Response:
        from aggregator.services.tags import TagError, parse_item, tag

        session = require(request, csrf, "editor")
        try:
            tag(store, post_id, parse_item(item), session.user, address_of(request))
        except TagError as exc:
            raise HTTPException(400, str(exc)) from None
        return RedirectResponse(f"/posts/{post_id}?tagged=1", status_code=303)

    # -- statistics and coverage ------------------------------------------------------------------
    def period_from(request: Request) -> Any:
        from aggregator.services.stats import period_of

        qp = request.query_params
        year = qp.get("year") or (None if qp.get("from") or qp.get("to") else academic_years(local_now().date())[0])
        return period_of(year, qp.get("from") or None, qp.get("to") or None)

    @app.get("/stats", response_class=HTMLResponse)
    def page_stats(request: Request) -> HTMLResponse:
        from aggregator.services.stats import StatsError, stats

        try:
            period = period_from(request)
        except StatsError as exc:
            return render(request, "error.html", 400, message=str(exc))
        by_month, cats, types, reads = stats_cache.get((period.label,), lambda: (
            stats(store, ["channel", "month"], period, channel_names=names), stats(store, ["category"], period),
            stats(store, ["type"], period), stats(store, ["channel"], period, channel_names=names)))
        months = period.months()
        grid: dict[str, dict[str, int]] = {}
        for r in by_month.rows:
            grid.setdefault(r["channel"], {})[r["month"]] = r["count"]
        totals = {m: sum(grid[c].get(m, 0) for c in grid) for m in months}
        query = urlencode({k: v for k, v in request.query_params.items() if k in ("year", "from", "to")})
        return render(request, "stats.html", period=period, months=months, grid=grid, totals=totals,
                      chart=_bar_chart(months, [totals[m] for m in months]), cats=cats.rows,
                      types=[r for r in types.rows if r["type"]], reads=[r for r in reads.rows if r["reads"]],
                      query=query, years=academic_years(local_now().date()), params=request.query_params)

    @app.get("/stats.{fmt}")
    def download_stats(request: Request, fmt: str) -> Response:
        from aggregator.services.report import write_workbook
        from aggregator.services.stats import StatsError, stats, to_csv

        try:
            period = period_from(request)
        except StatsError as exc:
            raise HTTPException(400, str(exc)) from None
        name = f"统计-{period.label}"
        if fmt == "csv":
            text = to_csv(stats(store, ["channel", "month"], period, channel_names=names))
            return Response("\ufeff" + text, media_type="text/csv; charset=utf-8",
                            headers={"Content-Disposition": _attachment(f"{name}.csv")})
        if fmt != "xlsx":
            raise HTTPException(404)
        folder = Path(tempfile.mkdtemp(prefix="xxgk-stats-"))
        path = write_workbook(store, config, period, folder / "stats.xlsx")
        return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                            headers={"Content-Disposition": _attachment(f"{name}.xlsx")},
                            background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))

    @app.get("/coverage", response_class=HTMLResponse)
    def page_coverage(request: Request) -> HTMLResponse:
        from aggregator.services.report import coverage, needs_review
        from aggregator.services.stats import StatsError

        try:
            period = period_from(request)
        except StatsError as exc:
            return render(request, "error.html", 400, message=str(exc))
        found = coverage(store, period)
        year = request.query_params.get("year") or academic_years(local_now().date())[0]
        return render(request, "coverage.html", found=found, period=period, year=year, names=names,
                      review=needs_review(store, period),
                      gaps=sum(1 for c in found if not c.count), years=academic_years(local_now().date()))

    # -- compliance -------------------------------------------------------------------------------
    def compliance_of(request: Request) -> Any:
        """The compliance check the query asks for (`year`: an academic year or empty; `on`: a day)."""
        from aggregator.services.compliance import academic_year_range, run

        year = request.query_params.get("year") or None
        on = request.query_params.get("on") or None
        try:
            as_of = date.fromisoformat(on) if on else None
            if year:
                academic_year_range(year)
        except ValueError:
            raise HTTPException(400, f"参数 year 应为学年（如 2024-2025）、on 应为日期 YYYY-MM-DD（收到 "
                                     f"year={year!r}, on={on!r}）") from None
        return run(config, store, year, as_of)

    @app.get("/compliance", response_class=HTMLResponse)
    def page_compliance(request: Request) -> HTMLResponse:
        from aggregator.compliance.check import STATUS_ZH

        found = compliance_of(request)
        groups: dict[str, list[Any]] = {}
        for f in found.findings:  # a page of at most PAGE_ROWS per status; the API and CLI give all
            shown = groups.setdefault(f.status, [])
            if len(shown) < PAGE_ROWS:
                shown.append(f)
        return render(request, "compliance.html", report=found, groups=groups, status_zh=STATUS_ZH,
                      counts=found.counts(), year=found.year or "", years=academic_years(local_now().date()),
                      on=request.query_params.get("on") or "")

    @app.get("/api/compliance")
    def api_compliance(request: Request) -> JSONResponse:
        return JSONResponse(compliance_of(request).to_json())

    # -- channels ---------------------------------------------------------------------------------
    @app.get("/changes.csv")
    def download_changes(request: Request) -> Response:
        """The audit log (every write, who, when, before → after) as CSV, for admins."""
        from aggregator.services.accounts import change_rows, changes, changes_csv

        session = session_of(request)
        if session is None or not session.admin:
            raise HTTPException(403, "修改记录只对管理员开放：请以管理员账号登录")
        target = request.query_params.get("target") or None
        text = changes_csv(change_rows(changes(store, target)))
        return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": _attachment("修改记录.csv")})

    @app.get("/channels", response_class=HTMLResponse)
    def page_channels(request: Request) -> HTMLResponse:
        from aggregator.services.channels import overview

        rows = overview(config, store)
        running = {cid for cid, t in syncing.items() if t.is_alive()}
        return render(request, "channels.html", rows=rows, running=running,
                      started=request.query_params.get("started"), accepted=request.query_params.get("accepted"))

    @app.post("/channels/{channel_id}/sync")
    def sync_now(request: Request, channel_id: str, csrf: str = Form("")) -> Response:
        """Start a sync of one channel in the background (under its lease, like any other sync)."""
        from aggregator.services.accounts import record
        from aggregator.services.leases import holder_name
        from aggregator.services.sync import sync

        session = require(request, csrf, "admin")
        if channel_id not in names:
            raise HTTPException(404, f"没有渠道 {channel_id}")
        if channel_id in syncing and syncing[channel_id].is_alive():
            return RedirectResponse(f"/channels?started={channel_id}", status_code=303)
        record(store, session.user, "sync", f"channel:{channel_id}", None, "立即同步", address_of(request))
        worker = threading.Thread(target=sync, args=(config, store, [channel_id]),
                                  kwargs={"holder": holder_name(f"网页“立即同步”（{session.user}）")}, daemon=True)
        syncing[channel_id] = worker
        worker.start()
        return RedirectResponse(f"/channels?started={channel_id}", status_code=303)

    # -- signing in -------------------------------------------------------------------------------
    @app.post("/channels/{channel_id}/accept")
    def accept(request: Request, channel_id: str, csrf: str = Form("")) -> Response:
        """Take the list selectors found by shape as the channel's own (until its config changes)."""
        from aggregator.services.channels import AcceptError, accept_detected

        session = require(request, csrf, "admin")
        if channel_id not in names:
            raise HTTPException(404, f"没有渠道 {channel_id}")
        try:
            accept_detected(config, store, channel_id, session.user, address_of(request))
        except AcceptError as exc:
            raise HTTPException(409, str(exc)) from None
        return RedirectResponse(f"/channels?accepted={channel_id}", status_code=303)

    # -- signing in -------------------------------------------------------------------------------
    @app.get("/login", response_class=HTMLResponse)
    def page_login(request: Request) -> HTMLResponse:
        from aggregator.services.accounts import configured

        return render(request, "login.html", configured=configured(store),
                      next=request.query_params.get("next", "/"))

    @app.post("/login")
    def login(request: Request, user: str = Form(""), password: str = Form(""), next: str = Form("/")) -> Response:
        from aggregator.services.accounts import configured, sign_in

        result = sign_in(store, config, user, password, address_of(request))
        if result.account is None:
            status = 429 if result.wait else 401
            page = render(request, "login.html", status, configured=configured(store), failed=result.refused,
                          login_name=user, next=next)
            if result.wait:
                page.headers["Retry-After"] = str(math.ceil(result.wait))
            return page
        response = RedirectResponse(next if next.startswith("/") and not next.startswith("//") else "/",
                                    status_code=303)
        session = auth.new_session(result.account.name, result.account.role)
        response.set_cookie(auth.COOKIE, auth.sign(session, key), max_age=auth.SESSION_SECONDS,
                            httponly=True, samesite="strict", secure=request.url.scheme == "https")
        return response

    @app.post("/logout")
    def logout(request: Request, csrf: str = Form("")) -> Response:
        session = session_of(request)
        if session and auth.same_token(csrf, session.csrf):
            response = RedirectResponse("/", status_code=303)
            response.delete_cookie(auth.COOKIE)
            return response
        raise HTTPException(403, "CSRF 校验失败")

    @app.exception_handler(HTTPException)
    def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return render(request, "error.html", exc.status_code, message=exc.detail)

    # -- JSON API ---------------------------------------------------------------------------------
    @app.get("/healthz")
    def healthz() -> JSONResponse:
        """Liveness for a service manager: the store answers, and the scheduler (if any) ticks."""
        body: dict[str, Any] = {"status": "ok", "version": __version__}
        try:
            store.count_posts()
            body["store"] = "ok"
        except Exception as exc:  # the store is down: say so, with 503
            body.update(status="error", store=f"error: {type(exc).__name__}")
        if scheduler is not None:
            body["scheduler"] = {"ticks": scheduler.ticks, "holder": scheduler.holder,
                                 "stopping": scheduler.stopping.is_set()}
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    @app.get("/api/channels")
    def api_channels() -> dict[str, Any]:
        """Every channel with its health state, reason, last success, last error, posts, site total, next run."""
        from aggregator.services.channels import overview

        return {"channels": [r.to_json() for r in overview(config, store)]}

    @app.get("/api/search")
    def api_search(request: Request, limit: int = Query(20, ge=0, le=1000),
                   offset: int = Query(0, ge=0)) -> JSONResponse:
        """The CLI's `search --json` shape: `{"total", "results": [{id, channel, title, url, published_at, item,
        category}]}`; parameters as the `/` page (q, channel, group, item, category, type, from, to, year, sort)."""
        from aggregator.services.search import SearchError
        from aggregator.services.stats import StatsError

        try:
            found = run_search(search_params(request), limit=limit, offset=offset, facets=False)
        except (SearchError, StatsError, ValueError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(found.to_json())

    @app.get("/api/posts/{post_id}")
    def api_post(post_id: int) -> JSONResponse:
        from aggregator.services.export import attachment_entry, export_row

        post = store.post_by_id(post_id)
        if post is None:
            return JSONResponse({"error": f"没有编号为 {post_id} 的帖子"}, status_code=404)
        files = [{**attachment_entry(a), "download": f"/attachments/{a['id']}" if a["sha256"] else None}
                 for a in store.post_attachments(post_id)]
        return JSONResponse({**export_row(post), "body": post["body"], "attachments": post["attachments"],
                             "attachment_files": files, "revisions": len(store.revisions(post_id))})

    @app.get("/api/stats")
    def api_stats(request: Request, by: str = "channel,month") -> JSONResponse:
        from aggregator.services.stats import StatsError, parse_dims, stats

        try:
            table = stats(store, parse_dims(by), period_from(request))
        except StatsError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(table.to_json())

    @app.get("/api/coverage")
    def api_coverage(request: Request) -> JSONResponse:
        from aggregator.services.report import coverage, needs_review
        from aggregator.services.stats import StatsError

        try:
            period = period_from(request)
        except StatsError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        found = coverage(store, period)
        return JSONResponse({"items": [c.to_json() for c in found], "review": needs_review(store, period).to_json()})

    return app


class TtlCache:
    """A few hundred recent results, each kept `seconds` (counts a page may show a moment late)."""

    def __init__(self, seconds: float, size: int = 256) -> None:
        self.seconds = seconds
        self.size = size
        self._data: dict[tuple[Any, ...], tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Any) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._data.get(key)
            if hit is not None and now - hit[0] < self.seconds:
                return hit[1]
        value = compute()
        with self._lock:
            if len(self._data) >= self.size:
                for old in sorted(self._data, key=lambda k: self._data[k][0])[: self.size // 4]:
                    del self._data[old]
            self._data[key] = (now, value)
        return value


def _list(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _attachment(filename: str) -> str:
    from urllib.parse import quote

    return f"attachment; filename=\"download.{filename.rsplit('.', 1)[-1]}\"; filename*=UTF-8''{quote(filename)}"


def _text_el(tag: str, text: str) -> ET.Element:
    el = ET.Element(tag)
    el.text = text
    return el


ATTACHMENT_STATUS_ZH = {"kept": "已保存", "changed": "旧版本（来源已更换）", "gone": "来源已删除，副本保留",
                        "removed": "页面已不再链接，副本保留", "failed": "下载失败", "refused": "已拒绝",
                        "offhost": "站外链接，未下载", "listed": "未下载"}
TEXT_STATUS_ZH = {"text": "文字已可检索", "pending": "文字待读取", "no_text_layer": "无文字层（扫描件）",
                  "unsupported": "此格式不提取文字", "failed": "文字读取失败", "off": "未读取文字（本渠道只保存）"}


def _size(n: int | None) -> str:
    if n is None:
        return "—"
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{max(1, round(n / 1000))} KB"


def _attachment_view(a: dict[str, Any]) -> dict[str, Any]:
    from aggregator.attachments.names import KIND_ZH

    status = ATTACHMENT_STATUS_ZH.get(a["status"], a["status"])
    text = TEXT_STATUS_ZH.get(a["text_status"] or "", "") if a["sha256"] else ""
    return {"id": a["id"], "name": a["name"], "url": a["url"], "kept": bool(a["sha256"]), "size": _size(a["size"]),
            "kind": KIND_ZH.get(a["kind"] or "", "—"), "status": status, "text": text,
            "note": a["note"] if a["text_status"] in ("no_text_layer", "failed") else a["error"],
            "fetched_at": a["fetched_at"], "old": a["status"] == "changed"}


def _has_files(version: dict[str, Any]) -> bool:
    return any(a.get("sha256") for a in version.get("attachments") or ())


def _attachment_lines(version: dict[str, Any], with_sha: bool) -> list[str]:
    return [f"附件：{a.get('name', '')}" + (f"（sha256 {a['sha256'][:12]}…）" if with_sha and a.get("sha256") else "")
            for a in version.get("attachments") or ()]


def _diff(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, str]]:
    """The changed lines between two versions of a post: ("-", line) removed, ("+", line) added."""
    out: list[tuple[str, str]] = []
    with_sha = _has_files(old) and _has_files(new)
    before, after = _attachment_lines(old, with_sha), _attachment_lines(new, with_sha)
    out += [("-", line) for line in before if line not in after] + [("+", line) for line in after if line not in before]
    if old["title"] != new["title"]:
        out += [("-", f"标题：{old['title']}"), ("+", f"标题：{new['title']}")]
    if old.get("published_at") != new.get("published_at"):
        out += [("-", f"发布时间：{old.get('published_at')}"), ("+", f"发布时间：{new.get('published_at')}")]
    for line in difflib.unified_diff((old["body"] or "").splitlines(), (new["body"] or "").splitlines(),
                                     lineterm="", n=1):
        if line.startswith(("---", "+++")):
            continue
        out.append((line[:1] if line[:1] in "+-@" else " ", line[1:] if line[:1] in "+- " else "…"))
    return out


def _facet_view(facets: dict[str, list[tuple[object, int]]], names: dict[str, str],
                groups: dict[str, str]) -> dict[str, list[tuple[str, str, int]]]:
    """Facets as (value, label, count) lists: channels grouped under their group, items with their text."""
    from aggregator.qingdan import items

    qd = items()
    cat_names = {i.category: i.category_name for i in qd.values()}
    out: dict[str, list[tuple[str, str, int]]] = {}
    by_group: dict[str, int] = {}
    for cid, n in facets.get("channel", []):
        by_group[groups.get(str(cid), "其他")] = by_group.get(groups.get(str(cid), "其他"), 0) + n
    out["group"] = [(g, g, n) for g, n in sorted(by_group.items(), key=lambda x: -x[1])]
    out["channel"] = [(str(c), names.get(str(c), str(c)), n) for c, n in facets.get("channel", [])]
    out["category"] = [(str(c), f"{c}. {cat_names.get(int(str(c)), '')}" if c else "未归入清单", n)
                       for c, n in facets.get("category", []) if c]
    out["item"] = [(str(i), f"{i}. {qd[int(str(i))].text[:18]}" if i else "", n)
                   for i, n in facets.get("item", []) if i][:15]
    out["year"] = [(str(y), f"{y} 年", n) for y, n in sorted(facets.get("year", []), key=lambda x: str(x[0]),
                                                             reverse=True) if y]
    out["month"] = [(str(m), str(m), n) for m, n in sorted(facets.get("month", []), key=lambda x: str(x[0]),
                                                           reverse=True) if m][:12]
    out["type"] = [(str(t), str(t), n) for t, n in facets.get("type", []) if t]
    return out


def _bar_chart(labels: list[str], values: list[int], width: int = 720, height: int = 200) -> Markup:
    """Monthly totals as an inline SVG bar chart (server-rendered, readable without JavaScript)."""
    if not values:
        return Markup("")
    top = max(values) or 1
    step = width / len(values)
    bars = []
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        h = (height - 40) * v / top
        x = i * step + step * 0.15
        y = height - 20 - h
        bars.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{step * 0.7:.1f}" height="{h:.1f}" class="bar">'
                    f"<title>{escape(label)}：{v} 条</title></rect>"
                    f'<text x="{x + step * 0.35:.1f}" y="{y - 4:.1f}" class="v">{v}</text>'
                    f'<text x="{x + step * 0.35:.1f}" y="{height - 5}" class="l">{escape(label[5:])}月</text>')
    return Markup(f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="每月发布条数" class="chart">'
                  + "".join(bars) + "</svg>")



