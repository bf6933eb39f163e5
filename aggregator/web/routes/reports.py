"""The numbers the office signs: `/stats` (and its XLSX/CSV), `/coverage`, `/compliance`, and
their JSON under `/api/`."""

from __future__ import annotations

import shutil
import tempfile
from datetime import date
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.background import BackgroundTask

from aggregator.clock import local_now
from aggregator.services.report import versus
from aggregator.services.stats import opening_year, year_before, years_with_posts
from aggregator.web.site import Site, site_of
from aggregator.web.views import PAGE_ROWS, academic_years, attachment_header, bar_chart

router = APIRouter()


def period_from(request: Request, default_year: str | None = None) -> Any:
    """The period the query asks for: `year`, else `from`/`to`, else `default_year` (the pages: the newest
    year with posts), else the current academic year (the API, as it always answered)."""
    from aggregator.services.stats import StatsError, period_of

    qp = request.query_params
    year = qp.get("year") or (None if qp.get("from") or qp.get("to")
                              else default_year or academic_years(local_now().date())[0])
    try:
        return period_of(year, qp.get("from") or None, qp.get("to") or None)
    except StatsError as exc:  # a 400 naming the parameter, as a page or as JSON under /api/
        raise HTTPException(400, str(exc)) from None


async def requested_period(request: Request) -> Any:
    """The period an API answer or a download covers (`year`, `from`/`to`; default: this academic year).
    Async only so that FastAPI calls it in place: it reads the query, never the store."""
    return period_from(request)


# Parsed once per request by FastAPI: a malformed period is the one Chinese 400 before the route runs.
RequestedPeriod = Annotated[Any, Depends(requested_period)]


@router.get("/stats", response_class=HTMLResponse)
def page_stats(request: Request) -> HTMLResponse:
    site = site_of(request)
    from aggregator.services.platforms import platform_figures
    from aggregator.services.procurement import amounts_by_month, amounts_by_type, total
    from aggregator.services.stats import stats

    years = site.stats_cache.get(("years",), lambda: years_with_posts(site.store, local_now().date()))
    period = period_from(request, opening_year(years))
    store, names = site.store, site.names
    by_month, cats, buying, reads, platforms = site.stats_cache.get((period.label,), lambda: (
        stats(store, ["channel", "month"], period, channel_names=names), stats(store, ["category"], period),
        (amounts_by_type(store, period), amounts_by_month(store, period)),
        stats(store, ["channel"], period, channel_names=names), platform_figures(store, site.config, period)))
    months = period.months()
    grid, totals = by_month.month_cells()
    query = urlencode({k: v for k, v in request.query_params.items() if k in ("year", "from", "to")})
    return site.render(request, "stats.html", period=period, months=months, grid=grid, totals=totals,
                  chart=bar_chart(months, [totals[m] for m in months]), cats=cats.rows,
                  types=[r for r in buying[0] if r.count], buy_months=buying[1],
                  buy_total=total(buying[0]), platforms=platforms,
                  reads=[r for r in reads.rows if r["reads"] and r["channel"] not in platforms.video_channels],
                  query=query, years=years, params=request.query_params, year=period.label.removesuffix("学年"),
                  versus=versus(sum(totals.values()), year_before(years, period.label), "条")
                  if period.label.endswith("学年") else "")


@router.get("/stats.{fmt}")
def download_stats(request: Request, fmt: str, period: RequestedPeriod) -> Response:
    site = site_of(request)
    from aggregator.services.report import write_workbook
    from aggregator.services.stats import stats, to_csv

    name = f"统计-{period.label}"
    if fmt == "csv":
        text = to_csv(stats(site.store, ["channel", "month"], period, channel_names=site.names))
        return Response("\ufeff" + text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": attachment_header(f"{name}.csv")})
    if fmt != "xlsx":
        raise HTTPException(404)
    folder = Path(tempfile.mkdtemp(prefix="xxgk-stats-"))
    path = write_workbook(site.store, site.config, period, folder / "stats.xlsx")
    return FileResponse(path, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": attachment_header(f"{name}.xlsx")},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/coverage", response_class=HTMLResponse)
def page_coverage(request: Request) -> HTMLResponse:
    site = site_of(request)
    from aggregator.services.report import coverage, needs_review

    years = site.stats_cache.get(("years",), lambda: years_with_posts(site.store, local_now().date()))
    period = period_from(request, opening_year(years))
    found = coverage(site.store, period)
    year = request.query_params.get("year") or opening_year(years)
    return site.render(request, "coverage.html", found=found, period=period, year=year, names=site.names,
                  review=needs_review(site.store, period),
                  gaps=sum(1 for c in found if not c.count), years=years)


@router.get("/api/stats")
def api_stats(request: Request, period: RequestedPeriod, by: str = "channel,month") -> JSONResponse:
    site = site_of(request)
    from aggregator.services.stats import StatsError, parse_dims, stats

    try:
        table = stats(site.store, parse_dims(by), period)
    except StatsError as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    return JSONResponse(table.to_json())


@router.get("/coverage.{fmt}")
def download_coverage(request: Request, fmt: str, period: RequestedPeriod) -> Response:
    """The 清单 appendix of a year as XLSX or DOCX (what the coverage page shows)."""
    site = site_of(request)
    from aggregator.services.report import coverage, write_coverage_docx, write_coverage_xlsx

    writers = {"xlsx": (write_coverage_xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
               "docx": (write_coverage_docx,
                        "application/vnd.openxmlformats-officedocument.wordprocessingml.document")}
    if fmt not in writers:
        raise HTTPException(404)
    write, media = writers[fmt]
    folder = Path(tempfile.mkdtemp(prefix="xxgk-coverage-"))
    path = write(coverage(site.store, period), period, folder / f"coverage.{fmt}")
    return FileResponse(path, media_type=media,
                        headers={"Content-Disposition": attachment_header(f"清单覆盖-{period.label}.{fmt}")},
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


@router.get("/api/coverage")
def api_coverage(request: Request, period: RequestedPeriod) -> JSONResponse:
    site = site_of(request)
    from aggregator.services.report import coverage, needs_review

    found = coverage(site.store, period)
    return JSONResponse({"items": [c.to_json() for c in found], "review": needs_review(site.store, period).to_json()})


def compliance_of(site: Site, request: Request) -> Any:
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
    return run(site.config, site.store, year, as_of)


@router.get("/compliance", response_class=HTMLResponse)
def page_compliance(request: Request) -> HTMLResponse:
    site = site_of(request)
    from aggregator.compliance.check import STATUS_ZH

    found = compliance_of(site, request)
    by_status: dict[str, list[Any]] = {}
    for f in found.findings:  # a page of at most PAGE_ROWS per status; the API and CLI give all
        shown = by_status.setdefault(f.status, [])
        if len(shown) < PAGE_ROWS:
            shown.append(f)
    return site.render(request, "compliance.html", report=found, groups=by_status, status_zh=STATUS_ZH,
                  counts=found.counts(), year=found.year or "", years=academic_years(local_now().date()),
                  on=request.query_params.get("on") or "")


@router.get("/api/compliance")
def api_compliance(request: Request) -> JSONResponse:
    site = site_of(request)
    return JSONResponse(compliance_of(site, request).to_json())
