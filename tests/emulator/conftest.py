"""Fixtures for the emulator's tests: a frozen clock, the app in-process, and httpx clients."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from stitch_emulator import Clock, EmulatorBackend, EmulatorConfig, create_app

TOKEN = "ac_test_access_token"
PARTNER_ID = "oc_test_partner_id"
PARTNER_SECRET = "oc_test_partner_secret"
REDIRECT_URI = "https://partner.example/stitch/callback"
BASE_URL = "http://emulator.test"


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


@pytest.fixture
async def http(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An unauthenticated client of the in-process app."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
        yield client


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client sending the reference's headers: bearer token and JSON content type."""
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as c:
        yield c
