"""A partner-mode stack: the emulator and the bridge on loopback, the bridge restartable on the
same port and database (key rotation), with the emulator's fake provider registered as the
SaaS's white-label OAuth app for HubSpot."""

from __future__ import annotations

import contextlib
import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bridge import Settings, create_app
from bridge.clock import ManualClock
from bridge.oauth_apps import OAuthApp
from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.bridge.conftest import (
    API_KEY,
    APP_ORIGIN,
    BRIDGE_URL,
    EMULATOR_URL,
    SECRET_KEY,
    STITCH_TOKEN,
    Stack,
    inprocess_apps,
)
from tests.inprocess import browser as person_browser
from tests.live import LiveServer, free_port, serve, stop

PARTNER_ID = "oc_partner_" + "i" * 24
PARTNER_SECRET = "oc_partner_secret_" + "p" * 24
APP_CLIENT_ID = "acme-analytics"
APP_CLIENT_SECRET = "acme-oauth-client-secret-" + "c" * 16
HUBSPOT = "platform.hubspot"
HUBSPOT_FORM = {"start_date": "2017-01-01T00:00:00Z", "frequency_in_minutes": "30"}
OWNER = {"first_name": "Ada", "last_name": "Lovelace", "company": "Acme Corp"}


@dataclass
class PartnerStack(Stack):
    emulator_app: Any = None
    bridge_port: int = 0
    server: LiveServer | None = None
    seen: list[httpx.Response] = field(default_factory=list)
    # The browser the latest `bind` bound to its OAuth attempt (it holds the binding cookie).
    oauth_browser: httpx.Client | None = None

    @property
    def backend_state(self) -> Any:
        """The emulator's own state (credential values the API never shows)."""
        return self.emulator_app.state.backend

    def _client(self, headers: dict[str, str]) -> httpx.Client:
        client = httpx.Client(
            base_url=self.bridge_url,
            headers=headers,
            timeout=60,
            mounts=self.mounts,
            event_hooks={"response": [self._keep]},
        )
        self.clients.append(client)
        return client

    def _keep(self, response: httpx.Response) -> None:
        response.read()
        self.seen.append(response)

    def browser(self) -> httpx.Client:
        """A browser navigating (no Origin header, follows nothing by itself)."""
        return self._client({})

    def bind(self, ticket: str, origin: str = APP_ORIGIN) -> str:
        """What the SaaS's page does with an OAuth ticket: a top-level form POST from its own
        origin. Binds a fresh browser (kept as `oauth_browser`); returns the consent URL."""
        browser = self.browser()
        answer = browser.post(
            "/v1/oauth/begin", data={"ticket": ticket}, headers={"Origin": origin}
        )
        assert answer.status_code == 200, answer.text
        target = re.search(r'data-target="([^"]+)"', answer.text)
        assert target is not None, answer.text
        self.oauth_browser = browser
        return html.unescape(target.group(1))

    def land(self, callback: str) -> httpx.Response:
        """The callback, in the browser the latest `bind` bound."""
        assert self.oauth_browser is not None, "bind a browser first"
        return self.oauth_browser.get(callback)

    def create_tenant(self, tenant_id: str, email: str | None = None) -> dict[str, Any]:
        body = {"id": tenant_id, "email": email or f"{tenant_id}@example.com", **OWNER}
        created = self.backend().post("/v1/tenants", json=body)
        assert created.status_code == 201, created.text
        answer: dict[str, Any] = created.json()
        return answer

    def state(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.emulator_http().get("/_emulator/state").json()
        return answer

    def accounts(self) -> list[dict[str, Any]]:
        accounts: list[dict[str, Any]] = self.state()["accounts"]
        return accounts

    def emulator_requests(self, path: str) -> list[dict[str, Any]]:
        log = self.emulator_http().get("/_emulator/requests").json()["requests"]
        return [r for r in log if r["path"] == path]

    def provider_config(self, **values: str | None) -> None:
        answer = self.emulator_http().post("/_emulator/provider/config", json=values)
        assert answer.status_code == 200, answer.text

    def source_values(self, source_id: int) -> dict[str, Any]:
        for source in self.backend_state.world.sources:
            if source.id == source_id:
                return dict(source.values)
        raise AssertionError(f"no source {source_id} in the emulator")


def partner_settings(
    emulator_url: str, public_url: str, database: Path, **overrides: Any
) -> Settings:
    values: dict[str, Any] = {
        "api_keys": (API_KEY,),
        "secret_keys": (SECRET_KEY,),
        "allowed_origins": (APP_ORIGIN,),
        "stitch_partner_id": PARTNER_ID,
        "stitch_partner_secret": PARTNER_SECRET,
        "stitch_api_url": emulator_url,
        "stitch_app_url": emulator_url,
        "stitch_js_url": f"{emulator_url}/stitch.js",
        "public_url": public_url,
        "database_url": f"sqlite+aiosqlite:///{database}",
        "step_driver": "native",
        "oauth_apps": (
            OAuthApp(
                source_type=HUBSPOT,
                client_id=APP_CLIENT_ID,
                client_secret=APP_CLIENT_SECRET,
                authorize_url=f"{emulator_url}/provider/authorize",
                token_url=f"{emulator_url}/provider/token",
                scopes=("oauth", "contacts"),
            ),
        ),
    }
    values.update(overrides)
    return Settings(**values)


@contextlib.contextmanager
def bridge_running(stack: PartnerStack, settings: Settings) -> Iterator[PartnerStack]:
    """(Re)start the bridge of `stack` with `settings`, same port and database."""
    assert settings.public_url == stack.bridge_url
    with serve(create_app(settings, clock=stack.clock), port=stack.bridge_port) as server:
        stack.settings = settings
        stack.server = server
        yield stack


def _emulator_config(public: str) -> EmulatorConfig:
    return EmulatorConfig(
        token=STITCH_TOKEN,
        partner_id=PARTNER_ID,
        partner_secret=PARTNER_SECRET,
        partner_redirect_uris=(f"{public}/v1/oauth/stitch/callback",),
        check_delay=2.0,
    )


def register_app(emulator: httpx.Client, public: str) -> None:
    """The SaaS registers its white-label OAuth app with the provider (the emulator's)."""
    registered = emulator.post(
        "/_emulator/provider/clients",
        json={
            "client_id": APP_CLIENT_ID,
            "client_secret": APP_CLIENT_SECRET,
            "name": "Acme Analytics",
            "redirect_uris": [f"{public}/v1/oauth/provider/callback"],
        },
    )
    assert registered.status_code == 200, registered.text


@contextlib.contextmanager
def partner_stack(
    tmp_path: Path, *, start_bridge: bool = True, live: bool = False, **overrides: Any
) -> Iterator[PartnerStack]:
    """The stack, in-process; `live=True` runs it on loopback servers instead, and with
    `start_bridge=False` (live) the caller runs the bridge with `bridge_running`."""
    if live or not start_bridge:
        with _live_partner_stack(tmp_path, start_bridge, **overrides) as stack:
            yield stack
        return
    database = tmp_path / "bridge.db"
    settings = partner_settings(EMULATOR_URL, BRIDGE_URL, database, **overrides)
    emulator_app = create_emulator(_emulator_config(BRIDGE_URL))
    clock = ManualClock()
    with inprocess_apps(emulator_app, settings, clock) as (host, upstream):
        with host.client(EMULATOR_URL) as emulator:
            register_app(emulator, BRIDGE_URL)
        stack = PartnerStack(
            bridge_url=BRIDGE_URL,
            emulator_url=EMULATOR_URL,
            settings=settings,
            clock=clock,
            database=database,
            mounts=dict(host.mounts),
            host=host,
            upstream=upstream,
            emulator_app=emulator_app,
        )
        try:
            yield stack
        finally:
            stack.close()


@contextlib.contextmanager
def _live_partner_stack(
    tmp_path: Path, start_bridge: bool, **overrides: Any
) -> Iterator[PartnerStack]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    emulator_app = create_emulator(_emulator_config(public))
    database = tmp_path / "bridge.db"
    with serve(emulator_app) as emulator:
        with httpx.Client(base_url=emulator.url) as client:
            register_app(client, public)
        settings = partner_settings(emulator.url, public, database, **overrides)
        stack = PartnerStack(
            bridge_url=public,
            emulator_url=emulator.url,
            settings=settings,
            clock=ManualClock(),
            database=database,
            emulator_app=emulator_app,
            bridge_port=port,
        )
        try:
            if start_bridge:
                with bridge_running(stack, settings) as running:
                    try:
                        yield running
                    finally:
                        assert running.server is not None
                        stop(running.server, emulator)
            else:
                yield stack
        finally:
            stack.close()


# -- what a person does in the browser, done with httpx --------------------------------------


def consent_at_provider(oauth_url: str, decision: str = "approve") -> str:
    """Approve (or deny) on the fake provider's page; returns where it sends the browser."""
    with person_browser(timeout=30) as person:
        page = person.get(oauth_url)
        assert page.status_code == 200, page.text
        ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
        assert ticket is not None, page.text
        decided = person.post(
            str(page.url.copy_with(query=None)),
            data={"ticket": ticket.group(1), "decision": decision},
        )
        assert decided.status_code == 303, decided.text
        return decided.headers["location"]


def consent_at_stitch(url: str, email: str, decision: str = "approve") -> str:
    """Sign in to Stitch's partner consent page as `email`; returns the callback URL."""
    with person_browser(timeout=30) as person:
        page = person.get(url)
        assert page.status_code == 200, page.text
        fields = dict(
            re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page.text)
        )
        fields = {k: html.unescape(v) for k, v in fields.items()}
        fields.update({**OWNER, "email": email, "decision": decision})
        decided = person.post(str(page.url.copy_with(query=None)), data=fields)
        assert decided.status_code == 302, decided.text
        return decided.headers["location"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def with_query(url: str, **changes: str) -> str:
    parsed = httpx.URL(url)
    params = dict(parsed.params)
    params.update(changes)
    return str(parsed.copy_with(params=params))


def page_data(html: str, testid: str) -> dict[str, str]:
    """The data- attributes of the element with `data-testid=testid`."""
    tag = re.search(rf'<[a-z]+ [^>]*data-testid="{testid}"[^>]*>', html)
    assert tag is not None, html
    return dict(re.findall(r'data-([a-z-]+)="([^"]*)"', tag.group(0)))
