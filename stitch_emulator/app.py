"""`create_app(config)`: the emulator's Starlette application, built from what is passed in."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.routing import BaseRoute

from .clock import Clock
from .config import EmulatorConfig
from .provider import ProviderState
from .routes import (
    accounts,
    controls,
    destinations,
    jobs,
    oauth,
    popup,
    source_types,
    sources,
    streams,
)
from .routes import provider as provider_routes
from .routes.common import api_error, http_error
from .routes.middleware import FaultInjection, RequestLog, StatePersistence
from .state.backend import EmulatorBackend
from .state.errors import ApiError


def create_app(config: EmulatorConfig | None = None, *, clock: Clock | None = None) -> Starlette:
    """The emulator app; its backend is `app.state.backend` (tests, popup routes).

    `clock` defaults to a running wall clock; tests pass `Clock.frozen_at()` to move time
    themselves.
    """
    config = config or EmulatorConfig()
    clock = clock or Clock()
    # One fake OAuth provider per app: its routes, the popup's callback and the backend's reset
    # share it; time is the app's clock, so tests expire codes by moving it.
    provider = ProviderState(now=clock.now)
    backend = EmulatorBackend(config, clock, provider=provider)
    route_list: list[BaseRoute] = []
    for area in (accounts, oauth, source_types, sources, streams, jobs, destinations, controls):
        route_list += area.routes(backend)
    route_list += popup.routes(backend, provider)
    route_list += provider_routes.routes(provider)
    # Outermost first: the log sees what the client saw, faults included.
    middleware = [
        Middleware(RequestLog, backend=backend),
        Middleware(FaultInjection, backend=backend),
    ]
    if config.state_file:
        middleware.insert(0, Middleware(StatePersistence, backend=backend, path=config.state_file))
    app = Starlette(
        routes=route_list,
        middleware=middleware,
        exception_handlers={ApiError: api_error, HTTPException: http_error},
    )
    # Stitch answers `/v4/destinations/` (no id) with 404, not a redirect (§7.6).
    app.router.redirect_slashes = False
    app.state.backend = backend
    return app
