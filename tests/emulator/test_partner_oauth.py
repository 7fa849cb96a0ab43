"""Partner OAuth (§2.4, §13.2): consent page, single-use five-minute codes, token exchange."""

from __future__ import annotations

import asyncio
import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from stitch_emulator import EmulatorBackend

from .conftest import PARTNER_ID, PARTNER_SECRET, REDIRECT_URI


def _form_fields(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    fields.update(re.findall(r'<input name="([^"]+)" data-testid="[^"]+" value="([^"]*)">', page))
    return fields


async def consent(
    http: httpx.AsyncClient, decision: str = "approve", **query: str
) -> httpx.Response:
    params = {"client_id": PARTNER_ID, "redirect_uri": REDIRECT_URI, "state": "xyz", **query}
    page = await http.get("/oauth/authorization", params=params)
    assert page.status_code == 200, page.text
    assert 'data-testid="approve"' in page.text and 'data-testid="deny"' in page.text
    return await http.post(
        "/oauth/authorization", data={**_form_fields(page.text), "decision": decision}
    )


async def code_for(http: httpx.AsyncClient, **query: str) -> str:
    answer = await consent(http, **query)
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


async def exchange(
    http: httpx.AsyncClient, code: str, secret: str = PARTNER_SECRET
) -> httpx.Response:
    # Exactly the documented curl: form-encoded secret, code and grant type.
    return await http.post(
        "/oauth/token",
        data={"client_secret": secret, "code": code, "grant_type": "authorization_code"},
    )


async def test_approval_redirects_with_code_and_state(http: httpx.AsyncClient) -> None:
    answer = await consent(http, email="new-owner@example.com")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"] and len(query["code"][0]) >= 32


async def test_code_exchange_returns_the_documented_token_body(
    http: httpx.AsyncClient, backend: EmulatorBackend
) -> None:
    code = await code_for(http, email="new-owner@example.com", first_name="Ada", company="Acme")
    answer = await exchange(http, code)
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"token_type", "access_token", "stitch_account_id"}
    assert body["token_type"] == "bearer"
    account = backend.account_for_token(body["access_token"])
    assert account is not None and account.id == body["stitch_account_id"]
    assert (account.email, account.first_name, account.company) == (
        "new-owner@example.com",
        "Ada",
        "Acme",
    )
    sources = await http.get(
        "/v4/sources", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert sources.status_code == 200


async def test_existing_account_is_linked_not_duplicated(
    http: httpx.AsyncClient, backend: EmulatorBackend
) -> None:
    default = backend.default_account
    code = await code_for(http, email=default.email)
    body = (await exchange(http, code)).json()
    assert body["stitch_account_id"] == default.id
    assert len(backend.snapshot()["accounts"]) == 1
    assert backend.account_for_token(body["access_token"]).id == default.id  # type: ignore[union-attr]


async def test_a_code_is_single_use(http: httpx.AsyncClient) -> None:
    code = await code_for(http)
    assert (await exchange(http, code)).status_code == 200
    again = await exchange(http, code)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


@pytest.mark.parametrize(("wait", "status"), [(299, 200), (300, 400)])
async def test_a_code_expires_after_five_minutes(
    http: httpx.AsyncClient, backend: EmulatorBackend, wait: int, status: int
) -> None:
    code = await code_for(http)
    backend.clock.advance(wait)
    assert (await exchange(http, code)).status_code == status


async def test_wrong_or_missing_secret_is_invalid_client(http: httpx.AsyncClient) -> None:
    code = await code_for(http)
    wrong = await exchange(http, code, secret="oc_wrong")
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    missing = await http.post(
        "/oauth/token", data={"code": code, "grant_type": "authorization_code"}
    )
    assert missing.status_code == 401
    assert (await exchange(http, code)).status_code == 200


async def test_unknown_code_and_grant_type(http: httpx.AsyncClient) -> None:
    assert (await exchange(http, "made-up")).json() == {"error": "invalid_grant"}
    other = await http.post(
        "/oauth/token", data={"client_secret": PARTNER_SECRET, "grant_type": "password"}
    )
    assert other.status_code == 400 and other.json() == {"error": "unsupported_grant_type"}


async def test_json_token_requests_and_extra_parameters_are_accepted(
    http: httpx.AsyncClient,
) -> None:
    code = await code_for(http)
    answer = await http.post(
        "/oauth/token",
        json={
            "client_secret": PARTNER_SECRET,
            "code": code,
            "grant_type": "authorization_code",
            "client_id": PARTNER_ID,
            "redirect_uri": "https://ignored.example/",
        },
    )
    assert answer.status_code == 200 and answer.json()["token_type"] == "bearer"


async def test_denial_redirects_with_access_denied(http: httpx.AsyncClient) -> None:
    answer = await consent(http, decision="deny")
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["location"]).query) == {
        "error": ["access_denied"],
        "state": ["xyz"],
    }


async def test_omitted_redirect_uri_uses_the_first_registered_one(http: httpx.AsyncClient) -> None:
    page = await http.get("/oauth/authorization", params={"client_id": PARTNER_ID})
    answer = await http.post(
        "/oauth/authorization", data={**_form_fields(page.text), "decision": "approve"}
    )
    assert answer.headers["location"].startswith(REDIRECT_URI + "?code=")


@pytest.mark.parametrize(
    "params",
    [
        {"client_id": PARTNER_ID, "redirect_uri": "https://evil.example/callback"},
        {"client_id": PARTNER_ID, "redirect_uri": REDIRECT_URI + "/extra"},
        {"client_id": "oc_unknown", "redirect_uri": REDIRECT_URI},
        {"redirect_uri": REDIRECT_URI},
    ],
)
async def test_bad_partner_or_redirect_uri_gets_an_error_page_not_a_redirect(
    http: httpx.AsyncClient, params: dict[str, str]
) -> None:
    page = await http.get("/oauth/authorization", params={**params, "state": "s"})
    assert page.status_code == 400 and "location" not in page.headers
    assert 'data-testid="oauth-error"' in page.text
    forged = await http.post("/oauth/authorization", data={**params, "decision": "approve"})
    assert forged.status_code == 400 and "location" not in forged.headers


async def test_redirect_uris_can_change_at_run_time(http: httpx.AsyncClient) -> None:
    await http.post(
        "/_emulator/config",
        json={"partner_redirect_uris": ["http://127.0.0.1:8700/v1/oauth/stitch/callback"]},
    )
    code = await code_for(http, redirect_uri="http://127.0.0.1:8700/v1/oauth/stitch/callback")
    assert (await exchange(http, code)).status_code == 200
    page = await http.get(
        "/oauth/authorization", params={"client_id": PARTNER_ID, "redirect_uri": REDIRECT_URI}
    )
    assert page.status_code == 400


async def test_of_two_racing_exchanges_exactly_one_succeeds(http: httpx.AsyncClient) -> None:
    code = await code_for(http)
    answers = await asyncio.gather(exchange(http, code), exchange(http, code))
    assert sorted(a.status_code for a in answers) == [200, 400]
