"""ASGI apps served in-process: no socket, no server, the same app objects a server would run.

One event loop in a background thread (an anyio blocking portal) runs every app of a test, and
their lifespans; the test's synchronous httpx clients reach an app through `AppHost.transport`,
which hands each request to httpx's `ASGITransport` on that loop. Apps talk to each other the
same way (the emulator is the bridge's transport to Stitch), so a whole flow runs on one loop,
as it would in one server, and a test pays no server start or stop."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

# What `request.client` says in-process: the loopback address a live test would come from.
CLIENT = ("127.0.0.1", 50000)


class AppHost:
    """A loop in a thread that runs apps' lifespans and their requests."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, exits: contextlib.ExitStack):
        self.portal = portal
        self._exits = exits

    def start(self, app: Any) -> ASGIApp:
        """Run `app`'s lifespan until the host closes; returns the app to send requests to, which
        gives each request its own copy of the lifespan's state, as uvicorn does."""
        lifespan = app.router.lifespan_context(app)
        state: dict[str, Any] = dict(
            self._exits.enter_context(self.portal.wrap_async_context_manager(lifespan)) or {}
        )
        return _with_state(app, state)

    def async_transport(self, app: ASGIApp) -> httpx.AsyncBaseTransport:
        """For an app on the host's loop calling another (the bridge calling Stitch)."""
        return httpx.ASGITransport(app=app, client=CLIENT)

    def transport(self, app: ASGIApp) -> httpx.BaseTransport:
        """For the test's own synchronous clients."""
        return _PortalTransport(self.portal, httpx.ASGITransport(app=app, client=CLIENT))


@contextlib.contextmanager
def app_host() -> Iterator[AppHost]:
    """An `AppHost`; every lifespan it started ends, in reverse order, before its loop does."""
    with anyio.from_thread.start_blocking_portal() as portal, contextlib.ExitStack() as exits:
        yield AppHost(portal, exits)


def _with_state(app: Any, state: dict[str, Any]) -> ASGIApp:
    async def with_state(scope: Scope, receive: Receive, send: Send) -> None:
        await app({**scope, "state": dict(state)}, receive, send)

    return with_state


class _PortalTransport(httpx.BaseTransport):
    """A synchronous transport that runs each request on the host's loop and reads the whole
    answer there (none of the routes these clients call streams without end)."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal, asgi: httpx.ASGITransport):
        self._portal = portal
        self._asgi = asgi

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not isinstance(request.stream, httpx.AsyncByteStream):
            request.read()  # a body from a generator: gathered here, sent as it was framed
        return self._portal.call(self._send, request)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        response = await self._asgi.handle_async_request(request)
        # The bytes as sent (compressed ones stay compressed): the client decodes them.
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=httpx.ByteStream(raw),
            request=request,
        )
