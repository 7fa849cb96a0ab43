"""Fixtures for the emulator's tests: a frozen clock, the app in-process, and httpx clients."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal

from stitch_emulator import Clock, EmulatorBackend, EmulatorConfig, create_app

TOKEN = "ac_test_access_token"
PARTNER_ID = "oc_test_partner_id"
PARTNER_SECRET = "oc_test_partner_secret"
REDIRECT_URI = "https://partner.example/stitch/callback"
BASE_URL = "http://emulator.test"
API_HEADERS = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}


@pytest.fixture
def config() -> EmulatorConfig:
    return EmulatorConfig(
        token=TOKEN,
        partner_id=PARTNER_ID,
        partner_secret=PARTNER_SECRET,
        partner_redirect_uris=(REDIRECT_URI, "https://partner.example/other"),
        check_delay=2.0,
        job_duration=30.0,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock.frozen_at()


@pytest.fixture
def app(config: EmulatorConfig, clock: Clock) -> Any:
    return create_app(config, clock=clock)


@pytest.fixture
def backend(app: Any) -> EmulatorBackend:
    return app.state.backend  # type: ignore[no-any-return]


@pytest.fixture
def account_id(backend: EmulatorBackend) -> int:
    return backend.default_account.id


class AppClient:
    """An httpx client of the in-process app, for synchronous tests.

    The requests run on an event loop in a portal thread rather than on pytest-asyncio's loop:
    a session-wide sync Playwright keeps a loop marked as running on the main thread, and that
    must not break these tests.
    """

    def __init__(self, portal: BlockingPortal, client: httpx.AsyncClient) -> None:
        self.portal = portal
        self.client = client

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self.portal.call(functools.partial(self.client.request, method, url, **kwargs))

    def start(self, method: str, url: str, **kwargs: Any) -> Future[httpx.Response]:
        """Send without waiting, so that tests can race requests."""
        return self.portal.start_task_soon(
            functools.partial(self.client.request, method, url, **kwargs)
        )

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@contextlib.contextmanager
def app_client(app: Any, headers: dict[str, str] | None = None) -> Iterator[AppClient]:
    transport = httpx.ASGITransport(app=app)
    client = httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers)
    with start_blocking_portal() as portal:
        try:
            yield AppClient(portal, client)
        finally:
            portal.call(client.aclose)


@pytest.fixture
def anonymous(app: Any) -> Iterator[AppClient]:
    """A synchronous client of the in-process app, without credentials."""
    with app_client(app) as client:
        yield client


@pytest.fixture
def stitch(app: Any) -> Iterator[AppClient]:
    """A synchronous client sending the reference's headers: bearer token and JSON type."""
    with app_client(app, API_HEADERS) as client:
        yield client


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated async client of the in-process app (pytest-asyncio tests)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An async client with the reference's headers (pytest-asyncio tests)."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=API_HEADERS) as c:
        yield c
