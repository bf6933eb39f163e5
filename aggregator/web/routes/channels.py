"""Channels and the service: `/channels` with health, "sync now" and accepting detected selectors
(admins), the audit log's CSV, `/api/channels`, `/healthz`."""

from __future__ import annotations

import os
import threading
from typing import Any

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from aggregator.web.site import site_of
from aggregator.web.views import attachment_header

router = APIRouter()


@router.get("/channels", response_class=HTMLResponse)
def page_channels(request: Request) -> HTMLResponse:
    site = site_of(request)
    from aggregator.services.channels import overview

    rows = overview(site.config, site.store)
    running = {cid for cid, t in site.syncing.items() if t.is_alive()}
    return site.render(request, "channels.html", rows=rows, running=running,
                  started=request.query_params.get("started"), accepted=request.query_params.get("accepted"))


def _admin_on(request: Request, csrf: str, channel_id: str) -> Any:
    """An admin's write on a configured channel (a 404 for one the config does not name)."""
    site = site_of(request)
    session = site.require(request, csrf, "admin")
    if channel_id not in site.names:
        raise HTTPException(404, f"没有渠道 {channel_id}")
    return session


@router.post("/channels/{channel_id}/sync")
def sync_now(request: Request, channel_id: str, csrf: str = Form("")) -> Response:
    """Start a sync of one channel in the background (under its lease, like any other sync)."""
    site = site_of(request)
    from aggregator.services.accounts import record
    from aggregator.services.leases import holder_name
    from aggregator.services.sync import sync

    session = _admin_on(request, csrf, channel_id)
    if channel_id in site.syncing and site.syncing[channel_id].is_alive():
        return RedirectResponse(f"/channels?started={channel_id}", status_code=303)
    record(site.store, session.user, "sync", f"channel:{channel_id}", None, "立即同步", site.address_of(request))
    worker = threading.Thread(target=sync, args=(site.config, site.store, [channel_id]),
                              kwargs={"holder": holder_name(f"网页“立即同步”（{session.user}）")}, daemon=True)
    site.syncing[channel_id] = worker
    worker.start()
    return RedirectResponse(f"/channels?started={channel_id}", status_code=303)


@router.post("/channels/{channel_id}/accept")
def accept(request: Request, channel_id: str, csrf: str = Form("")) -> Response:
    """Take the list selectors found by shape as the channel's own (until its config changes)."""
    site = site_of(request)
    from aggregator.services.channels import AcceptError, accept_detected

    session = _admin_on(request, csrf, channel_id)
    try:
        accept_detected(site.config, site.store, channel_id, session.user, site.address_of(request))
    except AcceptError as exc:
        raise HTTPException(409, str(exc)) from None
    return RedirectResponse(f"/channels?accepted={channel_id}", status_code=303)


@router.get("/changes.csv")
def download_changes(request: Request) -> Response:
    """The audit log (every write, who, when, before → after) as CSV, for admins."""
    site = site_of(request)
    from aggregator.services.accounts import change_rows, changes, changes_csv

    session = site.session_of(request)
    if session is None or not session.admin:
        raise HTTPException(403, "修改记录只对管理员开放：请以管理员账号登录")
    target = request.query_params.get("target") or None
    text = changes_csv(change_rows(changes(site.store, target)))
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": attachment_header("修改记录.csv")})


@router.get("/api/channels")
def api_channels(request: Request) -> dict[str, Any]:
    """Every channel with its health state, reason, last success, last error, posts, site total, next run."""
    site = site_of(request)
    from aggregator.services.channels import overview

    return {"channels": [r.to_json() for r in overview(site.config, site.store)]}


@router.get("/healthz")
def healthz(request: Request) -> JSONResponse:
    """Liveness for a service manager: the store answers, and the scheduler (if any) ticks."""
    from aggregator import __version__

    site = site_of(request)
    body: dict[str, Any] = {"status": "ok", "version": __version__, "pid": os.getpid()}  # which server process
    try:
        site.store.ping()
        body["store"] = "ok"
    except Exception as exc:  # the store is down: say so, with 503
        body.update(status="error", store=f"error: {type(exc).__name__}")
    if site.scheduler is not None:
        body["scheduler"] = {"ticks": site.scheduler.ticks, "holder": site.scheduler.holder,
                             "stopping": site.scheduler.stopping.is_set()}
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
