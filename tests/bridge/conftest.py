"""A real emulator and a real bridge on loopback ports, and clients shaped like their callers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

import bridge.lifespan
from bridge import Settings, create_app
from bridge.clock import ManualClock
from bridge.lifespan import open_services
from bridge.poller import SyncPoller
from bridge.services import Services
from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.inprocess import AppHost, app_host
from tests.live import free_port, serve, stop

T = TypeVar("T")

API_KEY = "test-api-key-" + "a" * 32
SECRET_KEY = "test-secret-key-" + "b" * 32
STITCH_TOKEN = "ac_" + "t" * 40
APP_ORIGIN = "http://app.test"
# Where an in-process stack's apps answer: names only, no socket behind them.
BRIDGE_URL = "http://bridge.test"
EMULATOR_URL = "http://stitch.test"
RECURLY_PROPERTIES = {
    "start_date": "2018-01-10T00:00:00Z",
    "api_key": "recurly-api-key-secret",
    "frequency_in_minutes": "60",
    "quota_limit": "30",
    "subdomain": "stitchdata",
}


@dataclass
class Stack:
    bridge_url: str
    emulator_url: str
    settings: Settings
    clock: ManualClock
    database: Path
    clients: list[httpx.Client] = field(default_factory=list)
    # The backend client `mint` reuses: one connection for every session a test mints.
    minter: httpx.Client | None = None
    # In-process stacks: the way to each app by its URL (empty: over the network).
    mounts: dict[str, httpx.BaseTransport] = field(default_factory=dict)
    # ...and for services a test opens beside the bridge: their loop and their way to Stitch.
    host: AppHost | None = None
    upstream: httpx.AsyncBaseTransport | None = None
    stitch_client: httpx.Client | None = None

    def run(self, work: Callable[[], Awaitable[T]]) -> T:
        """Run `work` on the stack's loop (in-process) or a loop of its own (live)."""
        if self.host is None:
            return asyncio.run(work())
        return self.host.portal.call(work)

    def services(self) -> contextlib.AbstractAsyncContextManager[Services]:
        """The bridge's services opened again on its settings and clock, without workers:
        what a second process (a CLI command, another replica) would see. Use inside `run`."""
        return open_services(
            self.settings, clock=self.clock, transport=self.upstream, run_workers=False
        )

    def _client(self, headers: dict[str, str]) -> httpx.Client:
        client = httpx.Client(
            base_url=self.bridge_url, headers=headers, timeout=60, mounts=self.mounts
        )
        self.clients.append(client)
        return client

    def close(self) -> None:
        """Close every client the test made of this stack."""
        for client in self.clients:
            client.close()

    def http(self, headers: dict[str, str] | None = None) -> httpx.Client:
        """A client of the bridge with only the headers given (none: an anonymous caller)."""
        return self._client(headers or {})

    def emulator_http(self) -> httpx.Client:
        """The client of the emulator's own API (`/_emulator/...`) and of Stitch's (one, kept)."""
        if self.stitch_client is None:
            self.stitch_client = httpx.Client(
                base_url=self.emulator_url, timeout=60, mounts=self.mounts
            )
            self.clients.append(self.stitch_client)
        return self.stitch_client

    def backend(self) -> httpx.Client:
        """The SaaS backend: server to server, with the API key."""
        return self._client({"Authorization": f"Bearer {API_KEY}"})

    def mint(self, end_user: str = "user-1", **body: Any) -> str:
        self.minter = self.minter or self.backend()
        response = self.minter.post(
            "/v1/connect-sessions", json={"end_user": {"id": end_user}, **body}
        )
        assert response.status_code == 201, response.text
        token = response.json()["token"]
        assert isinstance(token, str)
        return token

    def widget(self, token: str | None = None, **mint: Any) -> httpx.Client:
        """The browser widget: a connect-session bearer, from the SaaS's origin."""
        token = token or self.mint(**mint)
        return self._client({"Authorization": f"Bearer {token}", "Origin": APP_ORIGIN})

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock (connection checks finish) and the bridge's (expiry)."""
        response = self.emulator_http().post("/_emulator/clock", json={"advance": seconds})
        assert response.status_code == 200, response.text
        self.clock.advance(seconds)

    def fault(self, **fault: Any) -> None:
        response = self.emulator_http().post("/_emulator/faults", json=fault)
        assert response.status_code == 200, response.text

    def authorize(self, source_id: int) -> None:
        """The end user finishes OAuth in Stitch's popup."""
        response = self.emulator_http().post(f"/_emulator/sources/{source_id}/authorize")
        assert response.status_code == 200, response.text

    def emulator_sources(self) -> list[dict[str, Any]]:
        state = self.emulator_http().get("/_emulator/state").json()
        sources = state["sources"]
        assert isinstance(sources, list)
        return sources

    def events(self) -> list[dict[str, Any]]:
        with sqlite3.connect(self.database) as db:
            rows = db.execute(
                "SELECT type, source_id, end_user_id FROM events ORDER BY seq"
            ).fetchall()
        return [{"type": t, "source_id": s, "end_user_id": u} for t, s, u in rows]


def make_settings(
    emulator_url: str, bridge_port: int, database: Path, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "api_keys": (API_KEY,),
        "secret_keys": (SECRET_KEY,),
        "allowed_origins": (APP_ORIGIN,),
        "stitch_access_token": STITCH_TOKEN,
        "stitch_api_url": emulator_url,
        "stitch_app_url": emulator_url,
        "stitch_js_url": f"{emulator_url}/stitch.js",
        "public_url": f"http://127.0.0.1:{bridge_port}",
        "database_url": f"sqlite+aiosqlite:///{database}",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    """Override in a test module to run the stack with other settings."""
    return {}


@pytest.fixture
def fast_sync_poller(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bridge's sync poller looks every 0.05 s (real time) whether a round is due on its
    clock, not every second: tests that wait for many rounds get each one at once. When rounds
    are due is unchanged (the clock decides), so the behaviour under test is too."""
    monkeypatch.setattr(bridge.lifespan, "SyncPoller", functools.partial(SyncPoller, tick=0.05))


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    return EmulatorConfig(token=STITCH_TOKEN, check_delay=2.0)


@contextlib.contextmanager
def running_stack(
    directory: Path, bridge_overrides: dict[str, Any], emulator_config: EmulatorConfig
) -> Iterator[Stack]:
    clock = ManualClock()
    database = directory / "bridge.db"
    with serve(create_emulator(emulator_config)) as emulator:
        port = free_port()
        settings = make_settings(emulator.url, port, database, **bridge_overrides)
        with serve(create_app(settings, clock=clock), port=port) as bridge:
            stack = Stack(bridge.url, emulator.url, settings, clock, database)
            try:
                yield stack
            finally:
                stack.close()
                stop(bridge, emulator)


@contextlib.contextmanager
def inprocess_stack(
    directory: Path, bridge_overrides: dict[str, Any], emulator_config: EmulatorConfig
) -> Iterator[Stack]:
    """The same stack with no server: both apps on one in-process loop (tests/inprocess.py),
    the emulator as the bridge's transport to Stitch."""
    clock = ManualClock()
    database = directory / "bridge.db"
    settings = make_settings(
        EMULATOR_URL, 0, database, **{"public_url": BRIDGE_URL, **bridge_overrides}
    )
    with inprocess_apps(create_emulator(emulator_config), settings, clock) as (host, upstream):
        stack = Stack(
            BRIDGE_URL,
            EMULATOR_URL,
            settings,
            clock,
            database,
            mounts=dict(host.mounts),
            host=host,
            upstream=upstream,
        )
        try:
            yield stack
        finally:
            stack.close()


@contextlib.contextmanager
def inprocess_apps(
    emulator_app: Any, settings: Settings, clock: ManualClock
) -> Iterator[tuple[AppHost, httpx.AsyncBaseTransport]]:
    """The emulator at EMULATOR_URL and a bridge on `settings` at BRIDGE_URL, on one in-process
    loop; the emulator is the bridge's transport to Stitch and to OAuth providers. Yields the
    host and that transport (for services a test opens beside the bridge)."""
    with app_host() as host, host.serve(emulator_app, EMULATOR_URL) as stitch:
        upstream = host.async_transport(stitch)
        with host.serve(create_app(settings, clock=clock, transport=upstream), BRIDGE_URL):
            yield host, upstream


@pytest.fixture
def stack(
    tmp_path: Path, bridge_overrides: dict[str, Any], emulator_config: EmulatorConfig
) -> Iterator[Stack]:
    """The bridge and the emulator in-process (API tests)."""
    with inprocess_stack(tmp_path, bridge_overrides, emulator_config) as stack:
        yield stack


@pytest.fixture
def live_stack(
    tmp_path: Path, bridge_overrides: dict[str, Any], emulator_config: EmulatorConfig
) -> Iterator[Stack]:
    """The bridge and the emulator on real uvicorn servers, for what needs a socket."""
    with running_stack(tmp_path, bridge_overrides, emulator_config) as stack:
        yield stack
