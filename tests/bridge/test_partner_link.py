"""Partner OAuth links an existing Stitch account to a tenant: state, PKCE, exact redirect URI."""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from itsdangerous import URLSafeSerializer

from bridge.crypto import SecretBox
from bridge.oauth_state import tenant_tag
from bridge.tokens import OAUTH_STATE_SALT
from tests.bridge.conftest import SECRET_KEY
from tests.bridge.partner_stack import (
    PARTNER_ID,
    PartnerStack,
    consent_at_stitch,
    page_data,
    partner_stack,
    query_of,
    with_query,
)

DEFAULT_OWNER = "owner@emulator.stitch.invalid"  # the emulator's existing account


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        yield stack


def _authorize_url(stack: PartnerStack, tenant: str, **prefill: str) -> str:
    """What the SaaS does: ask for the link, post its ticket from its admin page (binding the
    admin's browser); returns the Stitch consent URL the browser is sent on to."""
    answer = stack.backend().post(f"/v1/tenants/{tenant}/authorize-url", json=prefill or None)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    link = answer.json()
    assert set(link) == {"url", "method", "ticket", "expires_at"}
    assert (link["url"], link["method"]) == (f"{stack.bridge_url}/v1/oauth/begin", "POST")
    return stack.bind(link["ticket"])


def _linkable(stack: PartnerStack, tenant: str) -> None:
    created = stack.backend().post("/v1/tenants", json={"id": tenant, "link": True})
    assert created.status_code == 201, created.text


def _land(stack: PartnerStack, callback: str) -> dict[str, str]:
    page = stack.land(callback)
    assert page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    return page_data(page.text, "tenant-link")


def _default_account(stack: PartnerStack) -> dict[str, object]:
    [account] = [a for a in stack.accounts() if a["default"]]
    return account


def test_the_authorize_url_is_stitchs_with_state_pkce_and_the_exact_callback(
    partner: PartnerStack,
) -> None:
    _linkable(partner, "acme")
    url = _authorize_url(partner, "acme", email="ada@acme.example", company="Acme")
    assert url.startswith(f"{partner.emulator_url}/oauth/authorization?")
    query = query_of(url)
    assert query["client_id"] == PARTNER_ID
    assert query["redirect_uri"] == f"{partner.bridge_url}/v1/oauth/stitch/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert (query["email"], query["company"]) == ("ada@acme.example", "Acme")
    assert "acme" not in base64.urlsafe_b64decode(query["state"].split(".")[0] + "==").decode()
    # Two URLs never share a state.
    assert query_of(_authorize_url(partner, "acme"))["state"] != query["state"]


def test_linking_an_existing_account_stores_its_token_for_the_tenant(
    partner: PartnerStack,
) -> None:
    _linkable(partner, "acme")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER)
    assert callback.startswith(f"{partner.bridge_url}/v1/oauth/stitch/callback?")
    page = partner.land(callback)
    assert page.status_code == 200
    assert page_data(page.text, "tenant-link")["outcome"] == "linked"
    account = _default_account(partner)
    assert partner.backend().get("/v1/tenants/acme").json() == {
        "id": "acme",
        "stitch_account_id": account["id"],
        "status": "connected",
        "destination": None,
    }
    tokens = account["access_tokens"]
    assert isinstance(tokens, list) and len(tokens) == 2  # its own, and the one just granted
    assert not any(token in page.text for token in tokens)
    assert query_of(callback)["code"] not in page.text
    # The linked account now acts for the tenant's end users.
    widget = partner.widget(tenant="acme", end_user="u1")
    assert widget.get("/v1/source-types").status_code == 200


def test_a_new_stitch_user_can_sign_up_through_the_link(partner: PartnerStack) -> None:
    _linkable(partner, "fresh")
    landed = _land(partner, consent_at_stitch(_authorize_url(partner, "fresh"), "new@x.example"))
    assert landed["outcome"] == "linked"
    [account] = [a for a in partner.accounts() if a["email"] == "new@x.example"]
    assert partner.backend().get("/v1/tenants/fresh").json()["stitch_account_id"] == account["id"]


def test_a_denied_consent_links_nothing(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER, "deny")
    assert query_of(callback)["error"] == "access_denied"
    landed = _land(partner, callback)
    assert (landed["outcome"], landed["error"]) == ("failed", "access_denied")
    assert partner.backend().get("/v1/tenants/acme").json()["status"] == "unlinked"
    assert partner.emulator_requests("/oauth/token") == []


def test_a_tampered_state_is_refused_and_leaves_the_real_one_usable(
    partner: PartnerStack,
) -> None:
    _linkable(partner, "acme")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER)
    state = query_of(callback)["state"]
    for forged in (state[:-2] + ("AA" if state[-2:] != "AA" else "BB"), "", "x" * 5000):
        landed = _land(partner, with_query(callback, state=forged))
        assert (landed["outcome"], landed["error"]) == ("failed", "state_invalid")
    landed = _land(partner, callback.split("&state=")[0])  # no state at all
    assert landed["error"] == "state_invalid"
    assert partner.emulator_requests("/oauth/token") == []
    assert _land(partner, callback)["outcome"] == "linked"


def test_a_state_is_accepted_once(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER)
    assert _land(partner, callback)["outcome"] == "linked"
    replay = _land(partner, callback)
    assert (replay["outcome"], replay["error"]) == ("failed", "state_used")
    assert len(partner.emulator_requests("/oauth/token")) == 1


def test_an_expired_state_is_refused(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER)
    partner.clock.advance(601)
    landed = _land(partner, callback)
    assert (landed["outcome"], landed["error"]) == ("failed", "state_expired")
    assert partner.backend().get("/v1/tenants/acme").json()["status"] == "unlinked"


def test_a_state_cannot_be_moved_to_another_tenant(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    _linkable(partner, "rival")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER)
    payload = json.loads(base64.urlsafe_b64decode(query_of(callback)["state"].split(".")[0] + "=="))
    assert payload["ten"] == tenant_tag("acme")
    # Even signed with the bridge's own key, a state naming another tenant does not match.
    signer = URLSafeSerializer([SECRET_KEY], salt=OAUTH_STATE_SALT)
    moved = signer.dumps({**payload, "ten": tenant_tag("rival")})
    landed = _land(partner, with_query(callback, state=moved))
    assert (landed["outcome"], landed["error"]) == ("failed", "state_invalid")
    assert partner.backend().get("/v1/tenants/rival").json()["status"] == "unlinked"
    assert _land(partner, callback)["outcome"] == "linked"
    assert partner.backend().get("/v1/tenants/acme").json()["status"] == "connected"


def test_one_stitch_account_never_serves_two_tenants(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    _linkable(partner, "rival")
    assert (
        _land(partner, consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER))["outcome"]
        == "linked"
    )
    landed = _land(partner, consent_at_stitch(_authorize_url(partner, "rival"), DEFAULT_OWNER))
    assert (landed["outcome"], landed["error"]) == ("failed", "account_taken")
    assert partner.backend().get("/v1/tenants/rival").json()["status"] == "unlinked"


def test_a_code_is_exchanged_once(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER)
    assert _land(partner, callback)["outcome"] == "linked"
    # The same code with a fresh, valid state: Stitch refuses it (single use).
    fresh_state = query_of(_authorize_url(partner, "acme"))["state"]
    landed = _land(partner, with_query(callback, state=fresh_state))
    assert (landed["outcome"], landed["error"]) == ("failed", "exchange_failed")


def test_an_expired_code_is_refused_by_stitch(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    callback = consent_at_stitch(_authorize_url(partner, "acme"), DEFAULT_OWNER)
    response = partner.emulator_http().post("/_emulator/clock", json={"advance": 301})
    assert response.status_code == 200
    landed = _land(partner, callback)
    assert (landed["outcome"], landed["error"]) == ("failed", "exchange_failed")
    assert partner.backend().get("/v1/tenants/acme").json()["status"] == "unlinked"


def test_the_pkce_challenge_matches_the_verifier_kept_for_the_state(
    partner: PartnerStack,
) -> None:
    _linkable(partner, "acme")
    url = _authorize_url(partner, "acme")
    with sqlite3.connect(partner.database) as db:
        [(stored,)] = db.execute("SELECT code_verifier FROM oauth_attempts").fetchall()
    verifier = SecretBox((SECRET_KEY,)).decrypt(stored)
    assert verifier not in stored
    assert create_s256_code_challenge(verifier) == query_of(url)["code_challenge"]


def test_a_link_completed_in_another_browser_links_nothing(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    consent_url = _authorize_url(partner, "acme")
    # The admin forwards Stitch's consent URL; someone else signs in to their own account.
    callback = consent_at_stitch(consent_url, "someone-else@x.example")
    refused = partner.browser().get(callback)
    landed = page_data(refused.text, "tenant-link")
    assert (landed["outcome"], landed["error"], landed["tenant"]) == (
        "failed",
        "browser_mismatch",
        "",
    )
    assert partner.emulator_requests("/oauth/token") == []
    assert partner.backend().get("/v1/tenants/acme").json()["status"] == "unlinked"
    # The admin's own browser still completes the link.
    assert _land(partner, consent_at_stitch(consent_url, DEFAULT_OWNER))["outcome"] == "linked"
    assert partner.backend().get("/v1/tenants/acme").json()["status"] == "connected"


def test_only_a_page_of_the_saas_can_start_the_link(partner: PartnerStack) -> None:
    _linkable(partner, "acme")
    ticket = partner.backend().post("/v1/tenants/acme/authorize-url").json()["ticket"]
    for headers in ({}, {"Origin": partner.bridge_url}, {"Origin": "null"}):
        refused = partner.browser().post(
            "/v1/oauth/begin", data={"ticket": ticket}, headers=headers
        )
        assert refused.status_code == 403 and "set-cookie" not in refused.headers
    assert partner.bind(ticket).startswith(f"{partner.emulator_url}/oauth/authorization?")
