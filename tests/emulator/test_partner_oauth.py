"""Partner OAuth (§2.4, §13.2): consent page, single-use five-minute codes, token exchange."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from stitch_emulator import EmulatorBackend

from .conftest import PARTNER_ID, PARTNER_SECRET, REDIRECT_URI, AppClient


def _form_fields(page: str) -> dict[str, str]:
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))
    fields.update(re.findall(r'<input name="([^"]+)" data-testid="[^"]+" value="([^"]*)">', page))
    return fields


def consent(anonymous: AppClient, decision: str = "approve", **query: str) -> httpx.Response:
    params = {"client_id": PARTNER_ID, "redirect_uri": REDIRECT_URI, "state": "xyz", **query}
    page = anonymous.get("/oauth/authorization", params=params)
    assert page.status_code == 200, page.text
    assert 'data-testid="approve"' in page.text and 'data-testid="deny"' in page.text
    return anonymous.post(
        "/oauth/authorization", data={**_form_fields(page.text), "decision": decision}
    )


def code_for(anonymous: AppClient, **query: str) -> str:
    answer = consent(anonymous, **query)
    assert answer.status_code == 302
    return parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]


def exchange(anonymous: AppClient, code: str, secret: str = PARTNER_SECRET) -> httpx.Response:
    # Exactly the documented curl: form-encoded secret, code and grant type.
    return anonymous.post(
        "/oauth/token",
        data={"client_secret": secret, "code": code, "grant_type": "authorization_code"},
    )


def test_approval_redirects_with_code_and_state(anonymous: AppClient) -> None:
    answer = consent(anonymous, email="new-owner@example.com")
    assert answer.status_code == 302
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    query = parse_qs(location.query)
    assert query["state"] == ["xyz"] and len(query["code"][0]) >= 32


def test_code_exchange_returns_the_documented_token_body(
    anonymous: AppClient, backend: EmulatorBackend
) -> None:
    code = code_for(anonymous, email="new-owner@example.com", first_name="Ada", company="Acme")
    answer = exchange(anonymous, code)
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
    sources = anonymous.get(
        "/v4/sources", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert sources.status_code == 200


def test_existing_account_is_linked_not_duplicated(
    anonymous: AppClient, backend: EmulatorBackend
) -> None:
    default = backend.default_account
    code = code_for(anonymous, email=default.email)
    body = (exchange(anonymous, code)).json()
    assert body["stitch_account_id"] == default.id
    assert len(backend.snapshot()["accounts"]) == 1
    assert backend.account_for_token(body["access_token"]).id == default.id  # type: ignore[union-attr]


def test_a_code_is_single_use(anonymous: AppClient) -> None:
    code = code_for(anonymous)
    assert (exchange(anonymous, code)).status_code == 200
    again = exchange(anonymous, code)
    assert again.status_code == 400 and again.json() == {"error": "invalid_grant"}


@pytest.mark.parametrize(("wait", "status"), [(299, 200), (300, 400)])
def test_a_code_expires_after_five_minutes(
    anonymous: AppClient, backend: EmulatorBackend, wait: int, status: int
) -> None:
    code = code_for(anonymous)
    backend.clock.advance(wait)
    assert (exchange(anonymous, code)).status_code == status


def test_wrong_or_missing_secret_is_invalid_client(anonymous: AppClient) -> None:
    code = code_for(anonymous)
    wrong = exchange(anonymous, code, secret="oc_wrong")
    assert wrong.status_code == 401 and wrong.json() == {"error": "invalid_client"}
    missing = anonymous.post(
        "/oauth/token", data={"code": code, "grant_type": "authorization_code"}
    )
    assert missing.status_code == 401
    assert (exchange(anonymous, code)).status_code == 200


def test_unknown_code_and_grant_type(anonymous: AppClient) -> None:
    assert (exchange(anonymous, "made-up")).json() == {"error": "invalid_grant"}
    other = anonymous.post(
        "/oauth/token", data={"client_secret": PARTNER_SECRET, "grant_type": "password"}
    )
    assert other.status_code == 400 and other.json() == {"error": "unsupported_grant_type"}


def test_json_token_requests_and_extra_parameters_are_accepted(
    anonymous: AppClient,
) -> None:
    code = code_for(anonymous)
    answer = anonymous.post(
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


def test_denial_redirects_with_access_denied(anonymous: AppClient) -> None:
    answer = consent(anonymous, decision="deny")
    assert answer.status_code == 302
    assert parse_qs(urlsplit(answer.headers["location"]).query) == {
        "error": ["access_denied"],
        "state": ["xyz"],
    }


def test_omitted_redirect_uri_uses_the_first_registered_one(anonymous: AppClient) -> None:
    page = anonymous.get("/oauth/authorization", params={"client_id": PARTNER_ID})
    answer = anonymous.post(
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
def test_bad_partner_or_redirect_uri_gets_an_error_page_not_a_redirect(
    anonymous: AppClient, params: dict[str, str]
) -> None:
    page = anonymous.get("/oauth/authorization", params={**params, "state": "s"})
    assert page.status_code == 400 and "location" not in page.headers
    assert 'data-testid="oauth-error"' in page.text
    forged = anonymous.post("/oauth/authorization", data={**params, "decision": "approve"})
    assert forged.status_code == 400 and "location" not in forged.headers


def test_redirect_uris_can_change_at_run_time(anonymous: AppClient) -> None:
    anonymous.post(
        "/_emulator/config",
        json={"partner_redirect_uris": ["http://127.0.0.1:8700/v1/oauth/stitch/callback"]},
    )
    code = code_for(anonymous, redirect_uri="http://127.0.0.1:8700/v1/oauth/stitch/callback")
    assert (exchange(anonymous, code)).status_code == 200
    page = anonymous.get(
        "/oauth/authorization", params={"client_id": PARTNER_ID, "redirect_uri": REDIRECT_URI}
    )
    assert page.status_code == 400


def test_of_two_racing_exchanges_exactly_one_succeeds(anonymous: AppClient) -> None:
    code = code_for(anonymous)
    form = {"client_secret": PARTNER_SECRET, "code": code, "grant_type": "authorization_code"}
    racing = [anonymous.start("POST", "/oauth/token", data=form) for _ in range(2)]
    assert sorted(answer.result().status_code for answer in racing) == [200, 400]
