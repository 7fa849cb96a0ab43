"""Single-account mode hands no browser a Stitch ephemeral token (a 12-hour login to the whole
shared account) unless the operator opts in with BRIDGE_SHARED_ACCOUNT_STITCHJS (CONTRACT §4.6)."""

from __future__ import annotations

import contextlib
import html
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge import Settings, create_app
from bridge.clock import ManualClock
from bridge.oauth_apps import OAuthApp
from bridge.settings import SettingsError
from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.bridge.conftest import (
    API_KEY,
    APP_ORIGIN,
    RECURLY_PROPERTIES,
    SECRET_KEY,
    STITCH_TOKEN,
    Stack,
    make_settings,
)
from tests.bridge.partner_stack import (
    APP_CLIENT_ID,
    APP_CLIENT_SECRET,
    consent_at_provider,
    register_app,
)
from tests.bridge.processes import Bridge, bridge_env
from tests.live import free_port, serve

POSTGRES_PROPERTIES = {
    "host": "db.example.com",
    "port": "5432",
    "dbname": "shop",
    "user": "reader",
    "password": "db-password-secret",
}
PROPERTIES: dict[str, dict[str, str]] = {
    "import_api": {},
    "platform.recurly": RECURLY_PROPERTIES,
    "platform.hp-postgres": POSTGRES_PROPERTIES,
}
HUBSPOT_FORM = {"start_date": "2017-01-01T00:00:00Z"}
HUBSPOT = {"type": "platform.hubspot", "properties": HUBSPOT_FORM}


class EphemeralCalls:
    """ASGI wrapper around the emulator that counts the ephemeral tokens Stitch hands out."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.count = 0
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v3/sessions/ephemeral":
            with self.lock:
                self.count += 1
        await self.app(scope, receive, send)


class Bodies:
    """Every response body a client received, to scan for tokens."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def hook(self, response: httpx.Response) -> None:
        response.read()
        self.seen.append(f"{response.request.method} {response.request.url.path}: {response.text}")


def _hubspot_app(emulator_url: str, bridge_url: str) -> OAuthApp:
    """The SaaS's own HubSpot OAuth app, registered with the emulator's fake provider."""
    with httpx.Client(base_url=emulator_url) as emulator:
        register_app(emulator, bridge_url)
    return OAuthApp(
        source_type="platform.hubspot",
        client_id=APP_CLIENT_ID,
        client_secret=APP_CLIENT_SECRET,
        authorize_url=f"{emulator_url}/provider/authorize",
        token_url=f"{emulator_url}/provider/token",
    )


@contextlib.contextmanager
def gated_stack(
    directory: Path, *, white_label: bool = False, **overrides: Any
) -> Iterator[tuple[Stack, EphemeralCalls]]:
    calls = EphemeralCalls(create_emulator(EmulatorConfig(token=STITCH_TOKEN, check_delay=2.0)))
    with serve(calls) as emulator:
        port = free_port()
        database = directory / "bridge.db"
        if white_label:
            overrides["oauth_apps"] = (_hubspot_app(emulator.url, f"http://127.0.0.1:{port}"),)
        settings = make_settings(emulator.url, port, database, **overrides)
        clock = ManualClock()
        with serve(create_app(settings, clock=clock), port=port) as bridge:
            stack = Stack(bridge.url, emulator.url, settings, clock, database)
            try:
                yield stack, calls
            finally:
                for client in stack.clients:
                    client.close()


def recording_widget(stack: Stack, bodies: Bodies, end_user: str) -> httpx.Client:
    token = stack.mint(end_user)
    client = httpx.Client(
        base_url=stack.bridge_url,
        headers={"Authorization": f"Bearer {token}", "Origin": APP_ORIGIN},
        event_hooks={"response": [bodies.hook]},
        timeout=60,
    )
    stack.clients.append(client)
    return client


def connect(
    stack: Stack,
    widget: httpx.Client,
    source_type: str,
    properties: dict[str, str],
    browser: httpx.Client | None = None,
) -> dict[str, Any]:
    """Every step of a source, as the native widget runs them, until Stitch says it is done;
    `browser` lands on the bridge's OAuth callback after consent at the provider."""
    answer = widget.post("/v1/sources", json={"type": source_type, "properties": properties})
    assert answer.status_code == 201, answer.text
    current = answer.json()
    source_id = current["source"]["id"]
    for _ in range(8):
        step = current["next_step"]
        if step is None:
            break
        started = widget.post("/v1/steps/start", json={"token": step["token"]})
        assert started.status_code == 200, started.text
        action = started.json()["action"]
        if action == "form":
            widget.put(f"/v1/sources/{source_id}", json={"properties": properties})
        elif action == "oauth":
            assert browser is not None
            # The SaaS page's top-level POST binds this browser to the attempt (see Security).
            bound = browser.post(
                f"{stack.bridge_url}/v1/oauth/begin",
                data={"ticket": started.json()["oauth_ticket"]},
                headers={"Origin": APP_ORIGIN},
            )
            assert bound.status_code == 200, bound.text
            target = re.search(r'data-target="([^"]+)"', bound.text)
            assert target is not None, bound.text
            callback = consent_at_provider(html.unescape(target.group(1)))
            assert browser.get(callback).status_code == 200
        elif action == "wait":
            stack.advance(3)
        elif action == "select_streams":
            streams = widget.get(f"/v1/sources/{source_id}/streams").json()["data"]
            chosen = [{"tap_stream_id": streams[0]["tap_stream_id"], "selected": True}]
            widget.put(f"/v1/sources/{source_id}/streams", json={"streams": chosen})
        completed = widget.post("/v1/steps/complete", json={"token": step["token"]})
        assert completed.status_code == 200, completed.text
        current = completed.json()
    assert widget.get(f"/v1/sources/{source_id}").json()["source"]["status"] == "connected"
    return current


def test_by_default_no_response_of_any_flow_carries_an_ephemeral_token(tmp_path: Path) -> None:
    with gated_stack(tmp_path) as (stack, calls):
        bodies = Bodies()
        widget = recording_widget(stack, bodies, "alice")
        offered = widget.get("/v1/source-types").json()["data"]
        types = sorted(t["type"] for t in offered)
        assert types == sorted(PROPERTIES), "every type but HubSpot (OAuth, no app) is offered"
        for source_type in types:
            connect(stack, widget, source_type, PROPERTIES[source_type])
        refused = widget.post("/v1/sources", json=HUBSPOT)
        assert refused.status_code == 403
        backend = httpx.Client(
            base_url=stack.bridge_url,
            headers={"Authorization": f"Bearer {API_KEY}"},
            event_hooks={"response": [bodies.hook]},
        )
        with backend:
            assert backend.get("/v1/end-users/alice/sources").status_code == 200
        assert len(bodies.seen) > 20
        assert not [body for body in bodies.seen if "ephemeral" in body]
        assert calls.count == 0, "the bridge asked Stitch for an ephemeral token"


def test_hubspots_whole_flow_through_a_white_label_app_carries_no_ephemeral_token(
    tmp_path: Path,
) -> None:
    with gated_stack(tmp_path, white_label=True) as (stack, calls):
        bodies = Bodies()
        widget = recording_widget(stack, bodies, "alice")
        types = {t["type"] for t in widget.get("/v1/source-types").json()["data"]}
        assert "platform.hubspot" in types
        browser = httpx.Client(event_hooks={"response": [bodies.hook]}, timeout=30)
        with browser:
            connect(stack, widget, "platform.hubspot", HUBSPOT_FORM, browser)
        assert any("/v1/oauth/provider/callback" in body for body in bodies.seen)
        assert not [body for body in bodies.seen if "ephemeral" in body]
        assert calls.count == 0


def test_an_oauth_type_without_a_white_label_app_is_refused_naming_the_missing_app(
    tmp_path: Path,
) -> None:
    with gated_stack(tmp_path) as (stack, calls):
        widget = stack.widget(end_user="alice")
        refused = widget.post("/v1/sources", json=HUBSPOT, headers={"Idempotency-Key": "k1"})
        assert refused.status_code == 403, refused.text
        error = refused.json()["error"]
        assert error["code"] == "source_type_not_allowed"
        assert "BRIDGE_OAUTH_APPS" in error["message"] and "platform.hubspot" in error["message"]
        assert stack.emulator_sources() == [] and calls.count == 0


def test_the_opt_in_restores_stitchjs_with_an_ephemeral_token(tmp_path: Path) -> None:
    with gated_stack(tmp_path, shared_account_stitchjs=True) as (stack, calls):
        widget = stack.widget(end_user="alice")
        types = {t["type"] for t in widget.get("/v1/source-types").json()["data"]}
        assert "platform.hubspot" in types
        created = widget.post("/v1/sources", json=HUBSPOT)
        assert created.status_code == 201, created.text
        started = widget.post(
            "/v1/steps/start", json={"token": created.json()["next_step"]["token"]}
        ).json()
        assert started["driver"] == "stitchjs"
        assert started["js"]["options"]["ephemeral_token"]
        assert calls.count == 1


def test_a_source_made_under_the_opt_in_gets_no_token_once_it_is_withdrawn(
    tmp_path: Path,
) -> None:
    with gated_stack(tmp_path, shared_account_stitchjs=True) as (stack, calls):
        widget = stack.widget(end_user="alice")
        step = widget.post("/v1/sources", json=HUBSPOT).json()["next_step"]
        # The operator restarts without the opt-in, on the same database.
        port = free_port()
        settings = make_settings(stack.emulator_url, port, stack.database)
        with serve(create_app(settings), port=port) as bridge:
            headers = {"Authorization": widget.headers["Authorization"], "Origin": APP_ORIGIN}
            refused = httpx.post(
                f"{bridge.url}/v1/steps/start", json={"token": step["token"]}, headers=headers
            )
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "source_type_not_allowed"
        assert "ephemeral" not in refused.text and calls.count == 0


def _settings(**values: Any) -> Settings:
    return Settings(
        api_keys=(API_KEY,),
        secret_keys=(SECRET_KEY,),
        allowed_origins=(APP_ORIGIN,),
        **values,
    )


def test_the_stitchjs_driver_on_a_shared_account_needs_the_opt_in() -> None:
    with pytest.raises(SettingsError) as refused:
        _settings(stitch_access_token=STITCH_TOKEN, step_driver="stitchjs")
    assert any("BRIDGE_SHARED_ACCOUNT_STITCHJS" in p for p in refused.value.problems)
    accepted = _settings(
        stitch_access_token=STITCH_TOKEN, step_driver="stitchjs", shared_account_stitchjs=True
    )
    assert accepted.driver == "stitchjs"
    partner = _settings(stitch_partner_id="1", stitch_partner_secret="s" * 32)
    assert partner.driver == "stitchjs", "partner mode needs no opt-in: each tenant's own account"
    with pytest.raises(SettingsError) as meaningless:
        _settings(
            stitch_partner_id="1", stitch_partner_secret="s" * 32, shared_account_stitchjs=True
        )
    assert "BRIDGE_SHARED_ACCOUNT_STITCHJS" in meaningless.value.problems[0]


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_check_and_serve_say_in_one_line_what_single_account_mode_does(tmp_path: Path) -> None:
    with serve(create_emulator(EmulatorConfig(token=STITCH_TOKEN))) as emulator:
        port = free_port()
        env = bridge_env(emulator.url, port, tmp_path / "bridge.db")
        checked = _cli("check", env=env, cwd=tmp_path)
        assert checked.returncode == 0, checked.stderr
        [line] = [ln for ln in checked.stdout.splitlines() if "Stitch.js" in ln]
        assert "off in single-account mode" in line and "not offered here: platform.hubspot" in line

        refused = _cli("serve", env={**env, "BRIDGE_STEP_DRIVER": "stitchjs"}, cwd=tmp_path)
        assert refused.returncode == 2
        assert "BRIDGE_SHARED_ACCOUNT_STITCHJS" in refused.stderr

        opted = {**env, "BRIDGE_SHARED_ACCOUNT_STITCHJS": "true"}
        warned = _cli("check", env=opted, cwd=tmp_path)
        assert warned.returncode == 0
        assert "warning: BRIDGE_SHARED_ACCOUNT_STITCHJS=true" in warned.stderr
        bridge = Bridge(opted, port, tmp_path)
        bridge.start()
        try:
            log = bridge.log.read_text()
        finally:
            bridge.stop()
        assert "warning: BRIDGE_SHARED_ACCOUNT_STITCHJS=true" in log
