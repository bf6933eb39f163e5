"""The ASGI app `xxgk serve` runs: for now `/healthz` and the JSON API's `/api/channels`
(the `channels --json` shape); the office's pages come with the web issue."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from aggregator.config import Config
from storage.store import Store

if TYPE_CHECKING:
    from aggregator.scheduler.service import Scheduler


def create_app(config: Config, store: Store, scheduler: Scheduler | None = None) -> FastAPI:
    """The app over one open store; `scheduler` when this process also runs it (for /healthz)."""
    from aggregator import __version__

    app = FastAPI(title="xxgk 信息公开聚合", version=__version__, docs_url="/api/docs",
                  openapi_url="/api/openapi.json", redoc_url=None)

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

    return app
