"""ASGI apps served in-process: no socket, no server, the same app objects a server would run.

One event loop in a background thread (an anyio blocking portal) runs every app of a test, and
their lifespans. Each app answers at a name (`http://bridge.test`); the test's synchronous httpx
clients reach it through `AppHost.mounts`, which hand each request to httpx's `ASGITransport` on
that loop. Apps talk to each other the same way (the emulator is the bridge's transport to Stitch
and to the fake OAuth provider), so a whole flow runs on one loop, as it would in one server, and
a test pays no server start or stop."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

# What `request.client` says in-process: the loopback address a live test would come from.
CLIENT = ("127.0.0.1", 50000)

# The hosts running in this process (one per in-process stack), for `browser()`.
_running: list[AppHost] = []


class AppHost:
    """A loop in a thread that runs apps' lifespans and their requests."""

    def __init__(self, portal: anyio.from_thread.BlockingPortal) -> None:
        self.portal = portal
        # Where each app answers, e.g. {"http://bridge.test": <transport>}: httpx `mounts`.
        self.mounts: dict[str, httpx.BaseTransport] = {}

    @contextlib.contextmanager
    def serve(self, app: Any, url: str) -> Iterator[ASGIApp]:
        """Run `app`'s lifespan and answer at `url` until the block ends. Yields the app to hand
        another app as its transport; each request gets its own copy of the lifespan's state,
        as under uvicorn."""
        lifespan = app.router.lifespan_context(app)
        with self.portal.wrap_async_context_manager(lifespan) as state:
            served = _with_state(app, dict(state or {}))
            self.mounts[url] = _PortalTransport(self.portal, _asgi(served))
            try:
                yield served
            finally:
                del self.mounts[url]

    def client(self, base_url: str, **options: Any) -> httpx.Client:
        """A synchronous client that reaches every app of this host by its name."""
        return httpx.Client(base_url=base_url, mounts=dict(self.mounts), **options)

    def async_transport(self, app: ASGIApp) -> httpx.AsyncBaseTransport:
        """For an app on the host's loop calling another (the bridge calling Stitch)."""
        return _asgi(app)


@contextlib.contextmanager
def app_host() -> Iterator[AppHost]:
    """An `AppHost` for the block; apps it serves must stop within it."""
    with anyio.from_thread.start_blocking_portal() as portal:
        host = AppHost(portal)
        _running.append(host)
        try:
            yield host
        finally:
            _running.remove(host)


def browser(**options: Any) -> httpx.Client:
    """A fresh browser (own cookie jar) that reaches the in-process apps by their names and
    anything else over the network, as a person's browser would follow links."""
    mounts = {url: way for host in _running for url, way in host.mounts.items()}
    return httpx.Client(mounts=mounts, **options)


def _asgi(app: ASGIApp) -> httpx.ASGITransport:
    return httpx.ASGITransport(app=app, client=CLIENT)


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
