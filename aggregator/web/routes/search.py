"""Search: the `/` page with facets, its CSV/XLSX downloads, the Atom feed of any search, and
`/api/search` (the CLI's `search --json` shape)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote_plus, urlencode

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from markupsafe import Markup

from aggregator.clock import iso_local, local_now
from aggregator.web.site import Site, site_of
from aggregator.web.views import (
    FILTERS,
    PAGE_SIZE,
    academic_years,
    attachment_header,
    chip_text,
    facet_view,
    list_param,
)

if TYPE_CHECKING:
    from aggregator.services.search import Search
    from storage.records import PostRef

router = APIRouter()


def searched(site: Site, params: dict[str, Any], *, limit: int) -> Any:
    """A search for a download or a feed: bad parameters are a 400 saying which, never a 500."""
    from aggregator.services.search import SearchError
    from aggregator.services.stats import StatsError

    try:
        return run_search(site, params, limit=limit, offset=0, facets=False)
    except (SearchError, StatsError, ValueError) as exc:
        raise HTTPException(400, str(exc)) from None


def asked(params: dict[str, Any]) -> dict[str, Any]:
    """The service's filter arguments of a request's parameters."""
    from aggregator.services.search import search_dates

    date_from, date_to = search_dates(params.get("year"), params.get("month"), params.get("from"), params.get("to"))
    return {"channels": list_param(params.get("channel")), "groups": list_param(params.get("group")),
            "items": list_param(params.get("item")), "categories": list_param(params.get("category")),
            "types": list_param(params.get("type")), "date_from": date_from, "date_to": date_to}


def run_search(site: Site, params: dict[str, Any], *, limit: int, offset: int, facets: bool,
               cubes: bool = False) -> Any:
    """`cubes`: the page, which groups the words for its facets anyway, counts from that grouping."""
    from aggregator.services.search import search

    return search(site.store, params.get("q", ""), **asked(params), limit=limit, offset=offset,
                  order="relevance" if params.get("sort") == "relevance" else "newest", facets=facets,
                  recent=site.recent, cubes=site.cubes if cubes else None)


async def search_params(request: Request) -> dict[str, Any]:
    """The search a request asks for: the query (capped), the order and the filters given.
    Async for FastAPI alone (it does no I/O): a plain function dependency is run in the thread
    pool, a hop to another thread and back for every page and download that searches."""
    qp = request.query_params
    out: dict[str, Any] = {"q": qp.get("q", "")[:2000], "sort": qp.get("sort", "")}
    for f in FILTERS:
        if qp.get(f):
            out[f] = qp.get(f)
    return out


# Parsed once per request by FastAPI, for every route that searches.
SearchParams = Annotated[dict[str, Any], Depends(search_params)]


@router.get("/", response_class=HTMLResponse)
def page_search(request: Request, params: SearchParams, page: int = Query(1, ge=1, le=10_000)) -> HTMLResponse:
    site = site_of(request)
    from aggregator.services.search import SearchError, fold_twins, search_facets, twins
    from aggregator.services.stats import StatsError

    error = None
    facets: dict[str, list[tuple[object, int]]] = {}
    key = tuple(sorted((k, v) for k, v in params.items() if k != "sort"))
    try:
        found = run_search(site, params, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE, facets=False, cubes=True)
        # Facet counts of a common one-character query walk most of the store: paging through
        # the same search, or narrowing it by channel, item, type or year, reuses them for a
        # while (the total and the rows are always fresh).
        facets = site.facet_cache.get(key, lambda: search_facets(site.store, params.get("q", ""), **asked(params),
                                                                 cubes=site.cubes))
    except (SearchError, StatsError, ValueError) as exc:
        found, error = None, str(exc)
    shown: list[Markup] = []
    total, also = 0, {}
    if found is not None:
        also = twins(site.store, found.result.rows, site.twins, found.result.mark)
        total = found.result.total
        shown = hits(site, found, fold_twins(found.result.rows, also), also)

    # A page has a hundred facet links: the query's own parameters are encoded once, not per link.
    encoded = {k: quote_plus(str(v)) for k, v in params.items() if v not in (None, "")}

    def link(**change: Any) -> str:
        merged = dict(encoded)
        for k, v in change.items():
            if v in (None, ""):
                merged.pop(k, None)
            else:
                merged[k] = quote_plus(str(v))
        return "/?" + "&".join(f"{k}={v}" for k, v in merged.items()) if merged else "/"

    def aside() -> tuple[object, Markup]:
        return facets, Markup(site.templates.get_template("facets.html").render(
            params=params, facets=facet_view(facets, site.names, site.groups), link=link,
            chip=lambda key, value: chip_text(key, value, site.names)))

    # The facets' links are a third of the page's rendering: made once for the facets kept above
    # (the same object while they are kept) and these parameters.
    made = site.asides.get((*key, params.get("sort", ""), id(facets)), aside)
    query = urlencode({k: v for k, v in params.items() if v})
    pages = max(1, -(-total // PAGE_SIZE))
    return site.render(request, "search.html", params=params, hits=shown, total=total, also=also,
                       aside=made[1] if made[0] is facets else aside()[1], link=link, page=page, pages=pages,
                       query=query, error=error, iso=iso_local, years=academic_years(local_now().date()))


def hits(site: Site, found: Search, rows: list[dict[str, Any]], also: dict[int, list[PostRef]]) -> list[Markup]:
    """Each result's `<li>`, rendered once for everything it shows and kept by exactly that (the
    post's fields the row prints, the query's terms, its piece of text, its 「另见」 and the channels'
    names): a page asked again, or a post on many pages, is not rendered again (the rows were two
    thirds of the search page's rendering, a fifth of its serving process's time under load)."""
    template = site.templates.get_template("hit.html")
    snippets = found.snippets(site.store, site.snippets)
    terms = tuple(found.terms)
    names = site.names
    out = []
    for r in rows:
        near, piece = also.get(r["id"], []), snippets.get(r["id"])
        key = (r["id"], r["title"], terms, r["channel_id"], names.get(r["channel_id"]), r["published_at"], r["item"],
               r["type"], r["url"], piece,
               tuple((c.id, c.title, c.channel_id, names.get(c.channel_id), c.published_at) for c in near))
        # made() calls the lambda at once, so it sees this row's values (B023 warns of later calls)
        out.append(site.hits.made(key, lambda: Markup(template.render(
            r=r, title=found.title_parts(r["title"]), snippet=piece, also=near, names=names))))  # noqa: B023
    return out


@router.get("/search.{fmt}")
def download_search(request: Request, fmt: str, params: SearchParams) -> Response:
    """The result list of any search as CSV (UTF-8 with BOM, opens cleanly in Excel/WPS) or XLSX."""
    site = site_of(request)
    if fmt not in ("csv", "xlsx"):
        raise HTTPException(404)
    found = searched(site, params, limit=100_000)
    from aggregator.services.export import SEARCH_HEADER, SEARCH_WIDTHS, search_file_name, search_sheet
    from aggregator.services.sheets import csv_text, workbook_bytes

    rows = search_sheet(found.result.rows, site.names, str(request.base_url).rstrip("/"))
    name = search_file_name(params.get("q", ""), local_now().strftime("%Y%m%d-%H%M"), fmt)
    if fmt == "csv":
        text = csv_text(SEARCH_HEADER, ([*row[:2], row[2].strftime("%Y-%m-%d") if row[2] else "", *row[3:]]
                                        for row in rows))
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": attachment_header(name)})
    body = workbook_bytes("检索结果", SEARCH_HEADER, rows, SEARCH_WIDTHS, {2: "yyyy-mm-dd"})
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": attachment_header(name)})


@router.get("/feed.atom")
def feed(request: Request, params: SearchParams) -> Response:
    """An Atom feed of any search (the same parameters as `/`), newest first."""
    site = site_of(request)
    from aggregator.services.feed import atom_feed

    params = {**params, "sort": ""}
    found = searched(site, params, limit=50)
    body = atom_feed(found.result.rows, base=str(request.base_url).rstrip("/"), params=params, names=site.names)
    return Response(body, media_type="application/atom+xml; charset=utf-8")


@router.get("/api/search")
def api_search(request: Request, params: SearchParams, limit: int = Query(20, ge=0, le=1000),
               offset: int = Query(0, ge=0), also: bool = Query(False)) -> JSONResponse:
    """The CLI's `search --json` shape: `{"total", "results": [{id, channel, title, url, published_at, item,
    category}]}`; parameters as the `/` page (q, channel, group, item, category, type, from, to, year, sort).
    `also=1` adds to each result the same notice on other channels (`"also": [{id, channel, title, url,
    published_at}]`), as the page shows it under 「另见」."""
    site = site_of(request)
    from aggregator.services.search import SearchError
    from aggregator.services.stats import StatsError

    try:
        found = run_search(site, params, limit=limit, offset=offset, facets=False)
    except (SearchError, StatsError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=400)
    from aggregator.services.search import twins

    return JSONResponse(found.to_json(twins(site.store, found.result.rows) if also else None))
