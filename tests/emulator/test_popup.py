"""The popup app's HTTP side without a browser: page headers, the ephemeral-token exchange,
and the Stitch-managed OAuth round trip through the fake provider."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from stitch_emulator import EmulatorBackend
from stitch_emulator.provider import BUILTIN_CLIENT_ID

STATIC = Path(__file__).resolve().parents[2] / "stitch_emulator" / "static"
CALLBACK = "http://emulator.test/v2/js-client/oauth/callback"


@pytest.fixture
def session_token(backend: EmulatorBackend, account_id: int) -> str:
    return backend.exchange_ephemeral_token(backend.create_ephemeral_token(account_id))


@pytest.fixture
def hubspot(backend: EmulatorBackend, account_id: int) -> dict[str, Any]:
    body = {
        "type": "platform.hubspot",
        "display_name": "HubSpot",
        "properties": {"start_date": "2017-01-01T00:00:00Z"},
    }
    source = backend.create_source(account_id, body)
    assert source["report_card"]["current_step_type"] == "oauth"
    return source


async def start_oauth(http: httpx.AsyncClient, token: str, source_id: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return await http.post(
        "/v2/js-client/oauth/start", json={"source_id": source_id}, headers=headers
    )


async def consent_and_decide(http: httpx.AsyncClient, authorize_url: str, decision: str) -> str:
    """Follow the provider's consent page; returns where the provider sends the browser."""
    page = await http.get(authorize_url)
    assert page.status_code == 200, page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket is not None
    form = {"ticket": ticket.group(1), "decision": decision}
    answer = await http.post("/provider/authorize", data=form)
    assert answer.status_code == 303
    return str(answer.headers["location"])


def step(backend: EmulatorBackend, account_id: int, source_id: int) -> str:
    card = backend.get_source(account_id, source_id)["report_card"]
    return str(card["current_step_type"])


async def test_popup_page_has_a_strict_csp_and_keeps_its_opener(http: httpx.AsyncClient) -> None:
    page = await http.get("/v2/js-client")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cross-origin-opener-policy"] == "unsafe-none"
    csp = page.headers["content-security-policy"]
    assert "script-src 'self';" in csp and "style-src 'self';" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp


def test_pages_and_scripts_have_no_inline_code_and_never_post_to_any_origin() -> None:
    for path in STATIC.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", text), path
        assert "<style" not in text and " style=" not in text, path
        assert not re.search(r"\son[a-z]+=", text), path
    for path in STATIC.rglob("*.js"):
        text = path.read_text(encoding="utf-8")
        assert '"use strict"' in text, path
        assert not re.search(r"postMessage\([^;]*['\"]\*['\"]", text), path


async def test_popup_assets_and_stitch_js_are_served_as_javascript(
    http: httpx.AsyncClient,
) -> None:
    for path in ("/v2/js-client/assets/main.js", "/v2/js-client/assets/flow.js", "/stitch.js"):
        answer = await http.get(path)
        assert answer.status_code == 200, path
        assert "javascript" in answer.headers["content-type"], path
    script = (await http.get("/stitch.js")).text
    assert "/v2/js-client" in script and "global.Stitch = " in script


async def test_session_exchange_is_single_use_and_yields_an_api_token(
    http: httpx.AsyncClient, backend: EmulatorBackend, account_id: int
) -> None:
    ephemeral = backend.create_ephemeral_token(account_id)
    answer = await http.post("/v2/js-client/session", json={"ephemeral_token": ephemeral})
    assert answer.status_code == 200
    token = answer.json()["session_token"]
    sources = await http.get("/v4/sources", headers={"Authorization": f"Bearer {token}"})
    assert sources.status_code == 200

    again = await http.post("/v2/js-client/session", json={"ephemeral_token": ephemeral})
    assert again.status_code == 401
    assert again.json()["error"] == "InvalidEphemeralToken"
    missing = await http.post("/v2/js-client/session", json={})
    assert missing.status_code == 400


async def test_ephemeral_token_expires_after_an_hour(
    http: httpx.AsyncClient, backend: EmulatorBackend, account_id: int
) -> None:
    ephemeral = backend.create_ephemeral_token(account_id)
    backend.clock.advance(3600)
    answer = await http.post("/v2/js-client/session", json={"ephemeral_token": ephemeral})
    assert answer.status_code == 401


async def test_oauth_start_needs_a_session_and_a_source_of_its_account(
    http: httpx.AsyncClient, session_token: str, hubspot: dict[str, Any]
) -> None:
    assert (await start_oauth(http, "nope", hubspot["id"])).status_code == 401
    assert (await start_oauth(http, session_token, 999999)).status_code == 400
    assert (await start_oauth(http, session_token, str(hubspot["id"]))).status_code == 400


async def test_oauth_start_points_at_the_provider_with_pkce_and_the_popup_callback(
    http: httpx.AsyncClient, session_token: str, hubspot: dict[str, Any]
) -> None:
    answer = await start_oauth(http, session_token, hubspot["id"])
    assert answer.status_code == 200
    url = httpx.URL(answer.json()["authorize_url"])
    assert url.path == "/provider/authorize"
    assert url.params["client_id"] == BUILTIN_CLIENT_ID
    assert url.params["redirect_uri"] == CALLBACK
    assert url.params["code_challenge_method"] == "S256"
    assert len(url.params["state"]) >= 32


async def test_approved_oauth_authorizes_the_source_and_returns_to_the_popup(
    http: httpx.AsyncClient,
    session_token: str,
    hubspot: dict[str, Any],
    backend: EmulatorBackend,
    account_id: int,
) -> None:
    start = (await start_oauth(http, session_token, hubspot["id"])).json()
    callback = await consent_and_decide(http, start["authorize_url"], "approve")
    assert callback.startswith(CALLBACK + "?code=")
    back = await http.get(callback)
    assert back.status_code == 303
    assert back.headers["location"] == "/v2/js-client#oauth=approved"
    assert step(backend, account_id, hubspot["id"]) == "discover_schema"

    replay = await http.get(callback)
    assert replay.status_code == 400, "an OAuth state is used once"
    assert 'data-testid="step-error"' in replay.text


async def test_denied_oauth_leaves_the_source_at_the_oauth_step(
    http: httpx.AsyncClient,
    session_token: str,
    hubspot: dict[str, Any],
    backend: EmulatorBackend,
    account_id: int,
) -> None:
    start = (await start_oauth(http, session_token, hubspot["id"])).json()
    callback = await consent_and_decide(http, start["authorize_url"], "deny")
    back = await http.get(callback)
    assert back.headers["location"] == "/v2/js-client#oauth=denied"
    assert step(backend, account_id, hubspot["id"]) == "oauth"


async def test_failed_code_exchange_is_reported_and_authorizes_nothing(
    http: httpx.AsyncClient,
    session_token: str,
    hubspot: dict[str, Any],
    backend: EmulatorBackend,
    account_id: int,
) -> None:
    start = (await start_oauth(http, session_token, hubspot["id"])).json()
    callback = await consent_and_decide(http, start["authorize_url"], "approve")
    backend.provider.configure(token_error="invalid_grant")
    back = await http.get(callback)
    assert back.headers["location"] == "/v2/js-client#oauth=failed"
    assert step(backend, account_id, hubspot["id"]) == "oauth"


async def test_expired_code_fails_the_round_trip(
    http: httpx.AsyncClient,
    session_token: str,
    hubspot: dict[str, Any],
    backend: EmulatorBackend,
    account_id: int,
) -> None:
    start = (await start_oauth(http, session_token, hubspot["id"])).json()
    callback = await consent_and_decide(http, start["authorize_url"], "approve")
    backend.clock.advance(301)
    back = await http.get(callback)
    assert back.headers["location"] == "/v2/js-client#oauth=failed"
    assert step(backend, account_id, hubspot["id"]) == "oauth"


async def test_unknown_oauth_state_shows_an_error_page(http: httpx.AsyncClient) -> None:
    answer = await http.get("/v2/js-client/oauth/callback", params={"state": "x", "code": "y"})
    assert answer.status_code == 400
    assert "location" not in answer.headers
    assert answer.headers["content-security-policy"].startswith("default-src 'none'")
