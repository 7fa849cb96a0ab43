"""create_app: routes, middleware and a lifespan that opens the services; nothing global."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

import httpx
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response

from bridge.api import events, links, oauth, oauth_begin, ops, server, sync, tenants, widget
from bridge.assets import AssetCache
from bridge.clock import Clock
from bridge.errors import (
    BridgeError,
    handle_bridge_error,
    handle_token_error,
    handle_upstream_error,
    render,
)
from bridge.lifespan import open_services
from bridge.metrics import Metrics
from bridge.middleware import Edge
from bridge.settings import Settings
from bridge.stitch.errors import StitchError
from bridge.store.schema import DATABASE_UNAVAILABLE
from bridge.tokens import TokenError

log = logging.getLogger("bridge.app")


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    request_id = request.scope.get("state", {}).get("request_id")
    if exc.status_code == 405:
        error = BridgeError("method_not_allowed", f"{request.method} is not allowed here")
        response = render(error, request_id)
        if exc.headers and "Allow" in exc.headers:
            response.headers["Allow"] = exc.headers["Allow"]
        return response
    return render(BridgeError("not_found", f"nothing at {request.url.path}"), request_id)


async def _database_error(request: Request, exc: Exception) -> Response:
    # A database outage is not a bug: tell the caller to come back, log it for the operator.
    log.error("database unavailable", extra={"error": type(exc).__name__})
    error = BridgeError(
        "upstream_unavailable",
        "the bridge's database is unavailable; try again shortly",
        variant="database",
        headers={"Retry-After": "2"},
    )
    return render(error, request.scope.get("state", {}).get("request_id"))


def create_app(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    assets: AssetCache | None = None,
) -> Starlette:
    """The bridge as an ASGI app. `transport` replaces the network to Stitch and to OAuth
    providers (tests run the emulator there); `assets` is the cache that builds the widget's
    files, once per app (the demo reads the widget's version from it before serving)."""
    metrics = Metrics()
    assets = assets or AssetCache()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, object]]:
        async with open_services(
            settings, transport=transport, clock=clock, metrics=metrics, assets=assets
        ) as services:
            yield {"services": services}

    app = Starlette(
        routes=[
            *server.routes,
            *widget.routes,
            *sync.widget_routes,
            *sync.server_routes,
            *events.routes,
            *links.routes,
            *tenants.routes,
            *oauth.routes,
            *oauth_begin.routes,
            *ops.routes,
        ],
        middleware=[
            Middleware(
                Edge,
                metrics=metrics,
                allowed=(*settings.allowed_origins, _origin(settings.public_url)),
            ),
        ],
        exception_handlers={
            BridgeError: handle_bridge_error,
            TokenError: handle_token_error,
            StitchError: handle_upstream_error,
            HTTPException: _http_error,
            **{error: _database_error for error in DATABASE_UNAVAILABLE},
        },
        lifespan=lifespan,
    )
    return app


def _origin(url: str) -> str:
    parts = httpx.URL(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    port = f":{parts.port}" if parts.port and parts.port != default else ""
    return f"{parts.scheme}://{parts.host}{port}"
