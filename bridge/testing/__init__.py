"""pytest plugin: an offline Stitch for a SaaS's own tests (CONTRACT §9).

Installed with stitch-bridge (entry point `pytest11`, name `stitch_bridge`); disable it with
`-p no:stitch_bridge`. Fixtures, each fresh per test:

- `stitch_emulator` — the Stitch emulator, in-process (`.app`, for `httpx.ASGITransport`) and on
  a loopback port (`.url`, for browsers and the bridge); `.token` is the access token it accepts.
- `webhook_receiver` — a loopback endpoint (`.url`) that verifies each delivery's
  `Bridge-Signature`; `.events` are the verified events, `.wait_for(type)` waits for one.
- `stitch_bridge` — a bridge on that emulator with generated secrets (`.url`, `.api_key`,
  `.webhook_secret`, `.allowed_origin`), sending its signed webhooks to `webhook_receiver`;
  `.client()` is a `stitch_bridge_client.Client` for it. It runs the `native` step driver, with
  a white-label OAuth app for HubSpot registered at the emulator's fake provider.
- `connected_source(end_user_id, type, ...)` — a source connected for that end user
  server-side (no browser), returned as a `stitch_bridge_client.Source`, its real signed
  `source.connected` webhook already at `webhook_receiver`.

Override `stitch_emulator_config` (EmulatorConfig fields) or `stitch_bridge_settings` (Settings
fields, e.g. `{"allowed_origins": ("http://127.0.0.1:5000",)}`) in a conftest to change them.

This is test tooling, not the bridge's service code: it imports the emulator, uvicorn and the
Python client, but only inside the fixtures, so loading the plugin costs almost nothing.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

from bridge.testing._servers import Delivery, WebhookReceiver, serve

if TYPE_CHECKING:
    from bridge.settings import Settings
    from stitch_bridge_client import Client, Source

__all__ = [
    "Bridge",
    "Delivery",
    "Emulator",
    "WebhookReceiver",
    "connected_source",
    "stitch_bridge",
    "stitch_bridge_settings",
    "stitch_emulator",
    "stitch_emulator_config",
    "webhook_receiver",
]

DEFAULT_ORIGIN = "http://127.0.0.1"


@dataclass(frozen=True)
class Emulator:
    """A running Stitch emulator: `url` (loopback), `token` (its access token), `app` (ASGI)."""

    url: str
    token: str
    app: Any
    check_delay: float

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock: connection checks finish, scheduled jobs start."""
        import httpx

        httpx.post(f"{self.url}/_emulator/clock", json={"advance": seconds}).raise_for_status()

    def state(self) -> dict[str, Any]:
        """Everything the emulator holds (accounts, sources, …), as `GET /_emulator/state`."""
        import httpx

        answer = httpx.get(f"{self.url}/_emulator/state")
        answer.raise_for_status()
        state: dict[str, Any] = answer.json()
        return state


@dataclass
class Bridge:
    """A running bridge on the emulator: `url`, `api_key`, `webhook_secret`, `allowed_origin`
    (the origin a browser page must come from), and its `settings`."""

    url: str
    api_key: str = field(repr=False)
    webhook_secret: str = field(repr=False)
    allowed_origin: str
    settings: Settings = field(repr=False)
    _clients: list[Client] = field(default_factory=list, repr=False)

    def client(self) -> Client:
        """A `stitch_bridge_client.Client` with the API key, closed after the test."""
        from stitch_bridge_client import Client

        made = Client(self.url, self.api_key, timeout=30)
        self._clients.append(made)
        return made

    def close(self) -> None:
        for made in self._clients:
            made.close()


@pytest.fixture
def stitch_emulator_config() -> dict[str, Any]:
    """EmulatorConfig fields for `stitch_emulator` (override in a conftest)."""
    return {}


@pytest.fixture
def stitch_emulator(stitch_emulator_config: dict[str, Any]) -> Iterator[Emulator]:
    """The Stitch emulator, in-process (`.app`) and on a loopback port (`.url`)."""
    from stitch_emulator import EmulatorConfig, create_app

    config = EmulatorConfig(**{"token": "ac_" + secrets.token_hex(20), **stitch_emulator_config})
    app = create_app(config)
    with serve(lambda _: app) as url:
        assert config.token is not None
        yield Emulator(url=url, token=config.token, app=app, check_delay=config.check_delay)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A loopback webhook endpoint that keeps only deliveries whose signature verifies."""
    receiver = WebhookReceiver(secret=secrets.token_urlsafe(32))
    with serve(lambda _: receiver) as url:
        receiver.url = f"{url}/webhooks/stitch-bridge"
        yield receiver


@pytest.fixture
def stitch_bridge_settings() -> dict[str, Any]:
    """bridge `Settings` fields for `stitch_bridge` (override in a conftest)."""
    return {}


@pytest.fixture
def stitch_bridge(
    stitch_emulator: Emulator,
    webhook_receiver: WebhookReceiver,
    stitch_bridge_settings: dict[str, Any],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Bridge]:
    """A bridge on `stitch_emulator` with generated keys, signing webhooks to `webhook_receiver`."""
    from bridge.app import create_app
    from bridge.settings import Settings

    database = tmp_path_factory.mktemp("stitch-bridge") / "bridge.db"
    values: dict[str, Any] = {
        "api_keys": (secrets.token_urlsafe(32),),
        "secret_keys": (secrets.token_urlsafe(32),),
        "allowed_origins": (DEFAULT_ORIGIN,),
        "stitch_access_token": stitch_emulator.token,
        "stitch_api_url": stitch_emulator.url,
        "stitch_app_url": stitch_emulator.url,
        "stitch_js_url": f"{stitch_emulator.url}/stitch.js",
        "database_url": f"sqlite+aiosqlite:///{database}",
        "webhook_url": webhook_receiver.url,
        "webhook_secret": webhook_receiver.secret,
        "step_driver": "native",
        **stitch_bridge_settings,
    }
    made: list[Settings] = []

    def build(url: str) -> Any:
        extra: dict[str, Any] = {"public_url": url}
        if "oauth_apps" not in values:
            extra["oauth_apps"] = (_white_label_app(stitch_emulator.url, url),)
        made.append(Settings(**{**extra, **values}))
        return create_app(made[0])

    with serve(build) as url:
        settings = made[0]
        bridge = Bridge(
            url=url,
            api_key=settings.api_keys[0],
            webhook_secret=settings.webhook_secret or "",
            allowed_origin=settings.allowed_origins[0],
            settings=settings,
        )
        try:
            yield bridge
        finally:
            bridge.close()


def _white_label_app(emulator_url: str, bridge_url: str) -> Any:
    """HubSpot's OAuth through your own app, registered with the emulator's fake provider (as
    the demo does): the native driver's OAuth step, without Stitch.js."""
    import httpx

    from bridge.oauth_apps import OAuthApp

    app = OAuthApp(
        source_type="platform.hubspot",
        client_id="saas-under-test",
        client_secret=secrets.token_urlsafe(24),
        authorize_url=f"{emulator_url}/provider/authorize",
        token_url=f"{emulator_url}/provider/token",
    )
    registered = httpx.post(
        f"{emulator_url}/_emulator/provider/clients",
        json={
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "name": "SaaS under test",
            "redirect_uris": [f"{bridge_url}/v1/oauth/provider/callback"],
        },
    )
    registered.raise_for_status()
    return app


ConnectedSource = Callable[..., "Source"]


@pytest.fixture
def connected_source(
    stitch_bridge: Bridge, stitch_emulator: Emulator, webhook_receiver: WebhookReceiver
) -> ConnectedSource:
    """`connected_source(end_user_id, type, *, properties=None, display_name=None,
    streams=None, tenant=None)` → a connected `stitch_bridge_client.Source`.

    Mints a connect session, creates the source through the bridge's widget API with
    `properties` (sample ones the emulator accepts when None), then finishes each step the way
    the end user would, without a browser: OAuth consent through the emulator's control, the
    connection check by moving the emulator's clock, `streams` (default: all) selected. Returns
    once the bridge's signed `source.connected` webhook has reached `webhook_receiver`.
    """
    from bridge.testing._connect import SourceConnector

    def connect(
        end_user_id: str,
        type: str,
        *,
        properties: Mapping[str, Any] | None = None,
        display_name: str | None = None,
        streams: Sequence[str] | None = None,
        tenant: str | None = None,
    ) -> Source:
        from stitch_bridge_client import Source

        session = stitch_bridge.client().sessions.create(
            end_user=end_user_id, tenant=tenant, source_types=[type]
        )
        connector = SourceConnector(
            stitch_bridge.url, stitch_emulator.url, session.token, stitch_bridge.allowed_origin
        )
        try:
            done = connector.connect(
                type,
                properties=properties,
                display_name=display_name,
                streams=streams,
                check_delay=stitch_emulator.check_delay,
            )
        finally:
            connector.close()
        source = Source.from_json(done["source"])
        webhook_receiver.wait_for("source.connected", source_id=source.id)
        return source

    return connect
