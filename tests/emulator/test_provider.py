"""The fake OAuth provider's authorization and token endpoints, over HTTP, without a browser."""

from __future__ import annotations

import re
import types
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.applications import Starlette

from stitch_emulator.clock import Clock
from stitch_emulator.provider import BUILTIN_CLIENT_ID, ProviderState
from stitch_emulator.routes.provider import routes

BASE = "http://emulator.test"
REDIRECT = "http://127.0.0.1:9000/oauth/callback"
CLIENT = {"client_id": "acme", "client_secret": "acme-secret", "redirect_uris": [REDIRECT]}
VERIFIER = "v" * 43 + "-._~0123456789"


@pytest.fixture
def backend() -> Any:
    clock = Clock.frozen_at()
    return types.SimpleNamespace(clock=clock, provider=ProviderState(now=clock.now))


@pytest.fixture
async def client(backend: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=routes(backend.provider))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
        answer = await http.post("/_emulator/provider/clients", json={**CLIENT, "name": "Acme"})
        assert answer.status_code == 200
        yield http


async def consent(http: httpx.AsyncClient, **params: str) -> httpx.Response:
    query = {"response_type": "code", "client_id": "acme", "redirect_uri": REDIRECT, **params}
    return await http.get("/provider/authorize", params=query)


async def approve(http: httpx.AsyncClient, decision: str = "approve", **params: str) -> httpx.URL:
    page = await consent(http, **params)
    assert page.status_code == 200, page.text
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket is not None
    answer = await http.post(
        "/provider/authorize", data={"ticket": ticket.group(1), "decision": decision}
    )
    assert answer.status_code == 303
    return httpx.URL(answer.headers["location"])


async def code_for(http: httpx.AsyncClient, **params: str) -> str:
    return (await approve(http, **params)).params["code"]


async def exchange(http: httpx.AsyncClient, code: str, **extra: str) -> httpx.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "acme",
        "client_secret": "acme-secret",
        **extra,
    }
    return await http.post("/provider/token", data=form)


async def test_consent_page_names_the_client_and_scopes_and_is_safe_in_a_popup(
    client: httpx.AsyncClient,
) -> None:
    page = await consent(client, scope="contacts tickets", state="s1")
    assert page.status_code == 200
    assert "Acme" in page.text
    assert "<li>contacts</li><li>tickets</li>" in page.text
    assert 'data-testid="approve"' in page.text and 'data-testid="deny"' in page.text
    assert page.headers["cross-origin-opener-policy"] == "unsafe-none"
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "form-action 'self' http://127.0.0.1:9000" in csp


async def test_approval_redirects_with_a_code_and_the_state_echoed(
    client: httpx.AsyncClient,
) -> None:
    location = await approve(client, state="csrf-123")
    assert str(location).startswith(REDIRECT + "?")
    assert location.params["state"] == "csrf-123"
    assert len(location.params["code"]) >= 32


async def test_denial_redirects_with_access_denied_and_the_state(
    client: httpx.AsyncClient,
) -> None:
    location = await approve(client, decision="deny", state="csrf-9")
    assert location.params["error"] == "access_denied"
    assert location.params["state"] == "csrf-9"
    assert "code" not in location.params


async def test_unknown_client_gets_an_error_page_not_a_redirect(
    client: httpx.AsyncClient,
) -> None:
    page = await consent(client, client_id="nobody", state="s")
    assert page.status_code == 400
    assert "location" not in page.headers
    assert 'data-error="invalid_client"' in page.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://127.0.0.1:9000/oauth/callback/",
        "http://127.0.0.1:9000/oauth/callback?x=1",
        "http://127.0.0.1:9001/oauth/callback",
        "https://evil.example/oauth/callback",
    ],
)
async def test_redirect_uri_must_match_exactly_or_an_error_page_is_shown(
    client: httpx.AsyncClient, redirect_uri: str
) -> None:
    page = await consent(client, redirect_uri=redirect_uri, state="s")
    assert page.status_code == 400
    assert "location" not in page.headers
    assert 'data-error="invalid_request"' in page.text


async def test_consent_ticket_answers_once(client: httpx.AsyncClient) -> None:
    page = await consent(client)
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket is not None
    form = {"ticket": ticket.group(1), "decision": "approve"}
    assert (await client.post("/provider/authorize", data=form)).status_code == 303
    again = await client.post("/provider/authorize", data=form)
    assert again.status_code == 400
    assert "location" not in again.headers


async def test_code_exchange_with_client_secret_post(client: httpx.AsyncClient) -> None:
    answer = await exchange(client, await code_for(client, scope="contacts"))
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 1800
    assert token["scope"] == "contacts"
    assert token["access_token"] and token["refresh_token"]
    assert answer.headers["cache-control"] == "no-store"


async def test_code_exchange_with_http_basic(client: httpx.AsyncClient) -> None:
    code = await code_for(client)
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    answer = await client.post("/provider/token", data=form, auth=("acme", "acme-secret"))
    assert answer.status_code == 200
    assert answer.json()["access_token"]


async def test_codes_are_single_use_and_a_replay_revokes_the_token(
    client: httpx.AsyncClient,
) -> None:
    code = await code_for(client)
    first = await exchange(client, code)
    assert first.status_code == 200
    bearer = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert (await client.get("/provider/userinfo", headers=bearer)).status_code == 200

    replay = await exchange(client, code)
    assert replay.status_code == 400
    assert replay.json()["error"] == "invalid_grant"
    assert (await client.get("/provider/userinfo", headers=bearer)).status_code == 401


async def test_codes_expire_five_minutes_after_issue_on_the_backend_clock(
    client: httpx.AsyncClient, backend: Any
) -> None:
    fresh, stale = await code_for(client), await code_for(client)
    backend.clock.advance(299)
    assert (await exchange(client, fresh)).status_code == 200
    backend.clock.advance(1)
    expired = await exchange(client, stale)
    assert expired.status_code == 400
    assert expired.json()["error"] == "invalid_grant"


async def test_wrong_client_secret_is_invalid_client(client: httpx.AsyncClient) -> None:
    code = await code_for(client)
    answer = await exchange(client, code, client_secret="wrong")
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert (await exchange(client, code)).status_code == 200, "a failed attempt spends nothing"


async def test_token_redirect_uri_must_equal_the_authorization_one(
    client: httpx.AsyncClient,
) -> None:
    code = await code_for(client)
    answer = await exchange(client, code, redirect_uri="http://127.0.0.1:9000/other")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


async def test_pkce_s256_verifier_must_match_the_challenge(client: httpx.AsyncClient) -> None:
    challenge = create_s256_code_challenge(VERIFIER)
    pkce = {"code_challenge": challenge, "code_challenge_method": "S256"}

    mismatch = await exchange(client, await code_for(client, **pkce), code_verifier="x" * 43)
    assert mismatch.status_code == 400
    assert mismatch.json()["error"] == "invalid_grant"

    missing = await exchange(client, await code_for(client, **pkce))
    assert missing.status_code == 400
    assert missing.json()["error"] == "invalid_request"

    good = await exchange(client, await code_for(client, **pkce), code_verifier=VERIFIER)
    assert good.status_code == 200


async def test_verifier_without_a_challenge_is_refused(client: httpx.AsyncClient) -> None:
    answer = await exchange(client, await code_for(client), code_verifier=VERIFIER)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


async def test_refresh_grant_issues_a_new_access_token_and_keeps_the_refresh_token(
    client: httpx.AsyncClient,
) -> None:
    first = (await exchange(client, await code_for(client))).json()
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    answer = await client.post("/provider/token", data=form, auth=("acme", "acme-secret"))
    assert answer.status_code == 200
    second = answer.json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] == first["refresh_token"]

    unknown = {"grant_type": "refresh_token", "refresh_token": "nope"}
    refused = await client.post("/provider/token", data=unknown, auth=("acme", "acme-secret"))
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"


async def test_unsupported_grant_type_is_refused(client: httpx.AsyncClient) -> None:
    form = {"grant_type": "password", "username": "u", "password": "p"}
    answer = await client.post("/provider/token", data=form, auth=("acme", "acme-secret"))
    assert answer.status_code == 400
    assert answer.json()["error"] == "unsupported_grant_type"


async def test_scripted_token_error_answers_until_cleared(client: httpx.AsyncClient) -> None:
    code = await code_for(client)
    config = await client.post("/_emulator/provider/config", json={"token_error": "invalid_grant"})
    assert config.json() == {"token_error": "invalid_grant", "authorize_error": None}
    scripted = await exchange(client, code)
    assert (scripted.status_code, scripted.json()["error"]) == (400, "invalid_grant")

    await client.post("/_emulator/provider/config", json={"token_error": None})
    assert (await exchange(client, code)).status_code == 200


async def test_scripted_authorize_error_redirects_back_without_consent(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/_emulator/provider/config", json={"authorize_error": "server_error"})
    answer = await consent(client, state="s7")
    assert answer.status_code == 302
    location = httpx.URL(answer.headers["location"])
    assert (location.params["error"], location.params["state"]) == ("server_error", "s7")


async def test_userinfo_needs_a_live_access_token(client: httpx.AsyncClient, backend: Any) -> None:
    token = (await exchange(client, await code_for(client))).json()
    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    info = await client.get("/provider/userinfo", headers=bearer)
    assert info.status_code == 200
    assert info.json()["sub"] == "provider-user-1"
    backend.clock.advance(1800)
    assert (await client.get("/provider/userinfo", headers=bearer)).status_code == 401


@pytest.mark.parametrize(
    "body",
    [
        {"client_secret": "s", "redirect_uris": [REDIRECT]},
        {"client_id": "x", "redirect_uris": [REDIRECT]},
        {"client_id": "x", "client_secret": "s", "redirect_uris": []},
        {"client_id": "x", "client_secret": "s", "redirect_uris": ["/relative"]},
        {"client_id": BUILTIN_CLIENT_ID, "client_secret": "s", "redirect_uris": [REDIRECT]},
    ],
)
async def test_client_registration_validates_its_body(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    answer = await client.post("/_emulator/provider/clients", json=body)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_request"


async def test_builtin_client_only_redirects_to_the_popup_callback_on_its_own_origin(
    client: httpx.AsyncClient, backend: Any
) -> None:
    provider = backend.provider
    query = {"response_type": "code", "client_id": BUILTIN_CLIENT_ID}
    own = await client.get(
        "/provider/authorize",
        params={**query, "redirect_uri": f"{BASE}/v2/js-client/oauth/callback"},
    )
    assert own.status_code == 200
    assert provider.builtin_client.name in own.text
    foreign = await client.get(
        "/provider/authorize",
        params={**query, "redirect_uri": "http://127.0.0.1:9999/v2/js-client/oauth/callback"},
    )
    assert foreign.status_code == 400


async def test_reset_forgets_registered_clients(client: httpx.AsyncClient) -> None:
    assert (await client.post("/_emulator/provider/reset")).status_code == 200
    page = await consent(client)
    assert page.status_code == 400
    assert 'data-error="invalid_client"' in page.text


async def test_config_refuses_unknown_settings(client: httpx.AsyncClient) -> None:
    answer = await client.post("/_emulator/provider/config", json={"bogus": "x"})
    assert answer.status_code == 400
    current = await client.get("/_emulator/provider/config")
    assert current.json() == {"token_error": None, "authorize_error": None}


async def test_repeated_authorization_parameters_are_refused(client: httpx.AsyncClient) -> None:
    query = [
        ("response_type", "code"),
        ("client_id", "acme"),
        ("redirect_uri", REDIRECT),
        ("state", "a"),
        ("state", "b"),
    ]
    page = await client.get("/provider/authorize", params=query)
    assert page.status_code == 400
    assert 'data-error="invalid_request"' in page.text
