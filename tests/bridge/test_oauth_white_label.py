"""White-label OAuth (native driver): the SaaS's own OAuth app, the bridge's callback, and the
OAuth properties written to the Stitch source; the refresh token never reaches the browser."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from itsdangerous import URLSafeSerializer

from bridge.oauth_state import tenant_tag
from bridge.tokens import OAUTH_STATE_SALT
from tests.bridge.conftest import APP_ORIGIN, SECRET_KEY
from tests.bridge.partner_stack import (
    APP_CLIENT_ID,
    APP_CLIENT_SECRET,
    HUBSPOT,
    HUBSPOT_FORM,
    PartnerStack,
    consent_at_provider,
    page_data,
    partner_stack,
    query_of,
    with_query,
)


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        yield stack


@pytest.fixture
def widget(partner: PartnerStack) -> httpx.Client:
    partner.create_tenant("acme")
    return partner.widget(tenant="acme", end_user="alice")


def _hubspot(widget: httpx.Client) -> dict[str, Any]:
    created = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM})
    assert created.status_code == 201, created.text
    assert created.json()["next_step"]["type"] == "oauth"
    answer: dict[str, Any] = created.json()
    return answer


def _start(partner: PartnerStack, widget: httpx.Client, step: dict[str, Any]) -> str:
    """Start the step, bind a browser as the SaaS page would; the consent URL it goes on to."""
    started = widget.post("/v1/steps/start", json={"token": step["token"]})
    assert started.status_code == 200, started.text
    body = started.json()
    assert set(body) == {"driver", "step", "action", "oauth_url", "oauth_ticket"}
    assert (body["driver"], body["step"], body["action"]) == ("native", "oauth", "oauth")
    # the popup page, told which origin may hand it the ticket
    assert body["oauth_url"] == f"{partner.bridge_url}/oauth/begin?opener=http%3A%2F%2Fapp.test"
    return partner.bind(body["oauth_ticket"])


def _land(stack: PartnerStack, callback: str) -> tuple[httpx.Response, dict[str, str]]:
    page = stack.land(callback)
    return page, page_data(page.text, "oauth-result")


def test_the_oauth_url_is_the_providers_with_the_bridges_callback_state_and_pkce(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    url = _start(partner, widget, _hubspot(widget)["next_step"])
    assert url.startswith(f"{partner.emulator_url}/provider/authorize?")
    query = query_of(url)
    assert query["client_id"] == APP_CLIENT_ID
    assert query["redirect_uri"] == f"{partner.bridge_url}/v1/oauth/provider/callback"
    assert query["response_type"] == "code"
    assert query["scope"] == "oauth contacts"
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"]
    assert APP_CLIENT_SECRET not in url


def test_hubspot_connects_through_the_saas_own_oauth_app(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    created = _hubspot(widget)
    source_id, step = created["source"]["id"], created["next_step"]
    callback = consent_at_provider(_start(partner, widget, step))
    assert callback.startswith(f"{partner.bridge_url}/v1/oauth/provider/callback?code=")
    page, result = _land(partner, callback)
    assert page.status_code == 200
    assert result == {
        "testid": "oauth-result",
        "type": "stitch-bridge:oauth",
        "outcome": "completed",
        "error": "",
        "origin": APP_ORIGIN,
        "source-id": str(source_id),
    }
    assert '<script src="/oauth/oauth_callback.js" defer></script>' in page.text
    assert "<script>" not in page.text and "style=" not in page.text
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "no-store"

    values = partner.source_values(source_id)
    assert values["client_id"] == APP_CLIENT_ID
    assert values["client_secret"] == APP_CLIENT_SECRET
    assert values["redirect_uri"] == f"{partner.bridge_url}/v1/oauth/provider/callback"
    refresh = values["refresh_token"]
    provider = partner.backend_state.provider
    assert provider.find_refresh_token(refresh) is not None  # a grant the provider issued
    for secret in (refresh, APP_CLIENT_SECRET, query_of(callback)["code"]):
        assert secret not in page.text

    done = widget.post("/v1/steps/complete", json={"token": step["token"]})
    assert done.status_code == 200, done.text
    assert done.json()["step_completed"] is True
    assert done.json()["source"]["current_step_type"] == "discover_schema"
    assert done.json()["next_step"]["type"] == "discover_schema"
    partner.advance(3)
    polled = widget.get(f"/v1/sources/{source_id}").json()
    assert polled["next_step"]["type"] == "field_selection"
    widget.put(
        f"/v1/sources/{source_id}/streams",
        json={"streams": [{"tap_stream_id": "contacts", "selected": True}]},
    ).raise_for_status()
    final = widget.post("/v1/steps/complete", json={"token": polled["next_step"]["token"]})
    assert final.json()["source"]["status"] == "connected" and final.json()["receipt"]
    for response in partner.seen:
        assert refresh not in response.text and APP_CLIENT_SECRET not in response.text


def test_the_provider_page_names_the_saas_app_and_returns_to_the_bridge(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    page = partner.http().get(_start(partner, widget, _hubspot(widget)["next_step"]))
    assert "Acme Analytics" in page.text
    assert partner.bridge_url in page.text  # "you will be sent back to" the bridge's origin


def test_a_denied_consent_is_reported_and_can_be_retried(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    created = _hubspot(widget)
    source_id, step = created["source"]["id"], created["next_step"]
    callback = consent_at_provider(_start(partner, widget, step), "deny")
    assert query_of(callback)["error"] == "access_denied"
    page, result = _land(partner, callback)
    assert page.status_code == 200  # a person's "no" is an outcome, not an error page
    assert 'data-testid="oauth-result"' in page.text and 'data-outcome="failed"' in page.text
    assert (result["outcome"], result["error"]) == ("failed", "access_denied")
    assert result["origin"] == APP_ORIGIN  # the widget is told, and shows `authorize` again
    assert "refresh_token" not in partner.source_values(source_id)
    assert partner.emulator_requests("/provider/token") == []

    again = widget.post("/v1/steps/complete", json={"token": step["token"]}).json()
    assert again["step_completed"] is False
    assert again["next_step"]["type"] == "oauth" and again["next_step"]["token"] != step["token"]
    _, retried = _land(partner, consent_at_provider(_start(partner, widget, again["next_step"])))
    assert retried["outcome"] == "completed"
    assert partner.source_values(source_id)["refresh_token"]


@pytest.mark.parametrize("error", ["invalid_grant", "invalid_client", "server_error"])
def test_a_provider_token_error_is_a_failed_step_and_nothing_is_written(
    partner: PartnerStack, widget: httpx.Client, error: str
) -> None:
    created = _hubspot(widget)
    callback = consent_at_provider(_start(partner, widget, created["next_step"]))
    partner.provider_config(token_error=error)
    _, result = _land(partner, callback)
    assert (result["outcome"], result["error"]) == ("failed", "exchange_failed")
    assert "refresh_token" not in partner.source_values(created["source"]["id"])
    assert widget.get(f"/v1/sources/{created['source']['id']}").json()["next_step"]["type"] == (
        "oauth"
    )


def test_a_provider_authorization_error_is_passed_on_as_its_code(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    partner.provider_config(authorize_error="temporarily_unavailable")
    step = _hubspot(widget)["next_step"]
    redirect = partner.http().get(_start(partner, widget, step))
    assert redirect.status_code == 302
    _, result = _land(partner, redirect.headers["location"])
    assert (result["outcome"], result["error"]) == ("failed", "temporarily_unavailable")
    # An error code that is not one is reported as a generic one, never echoed.
    retry = widget.post("/v1/steps/complete", json={"token": step["token"]}).json()["next_step"]
    redirect = partner.http().get(_start(partner, widget, retry))
    weird = with_query(redirect.headers["location"], error="<script>alert(1)</script>")
    page, result = _land(partner, weird)
    assert (result["outcome"], result["error"]) == ("failed", "provider_error")
    assert "alert(1)" not in page.text


def test_a_code_bound_to_another_pkce_verifier_is_refused(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    created = _hubspot(widget)
    url = _start(partner, widget, created["next_step"])
    # An attacker's code: issued for the bridge's state but a challenge of the attacker's own.
    attacker = create_s256_code_challenge("a" * 64)
    callback = consent_at_provider(with_query(url, code_challenge=attacker))
    _, result = _land(partner, callback)
    assert (result["outcome"], result["error"]) == ("failed", "exchange_failed")
    assert "refresh_token" not in partner.source_values(created["source"]["id"])


def test_a_code_is_used_once(partner: PartnerStack, widget: httpx.Client) -> None:
    created = _hubspot(widget)
    callback = consent_at_provider(_start(partner, widget, created["next_step"]))
    code = query_of(callback)["code"]
    assert _land(partner, callback)[1]["outcome"] == "completed"
    # A second attempt (another source) replays the first code with its own, valid state.
    bob = partner.widget(tenant="acme", end_user="bob")
    other = _hubspot(bob)
    second = consent_at_provider(_start(partner, bob, other["next_step"]))
    _, result = _land(partner, with_query(second, code=code))
    assert (result["outcome"], result["error"]) == ("failed", "exchange_failed")
    assert "refresh_token" not in partner.source_values(other["source"]["id"])


def test_a_tampered_or_missing_state_reports_to_nobody(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    callback = consent_at_provider(_start(partner, widget, _hubspot(widget)["next_step"]))
    state = query_of(callback)["state"]
    for forged in (state[:-3] + "xyz", "garbage", ""):
        page, result = _land(partner, with_query(callback, state=forged))
        assert (result["outcome"], result["error"], result["origin"]) == (
            "failed",
            "state_invalid",
            "",
        )
        assert result["source-id"] == ""
    assert partner.emulator_requests("/provider/token") == []
    assert _land(partner, callback)[1]["outcome"] == "completed"


def test_a_replayed_callback_changes_nothing(partner: PartnerStack, widget: httpx.Client) -> None:
    callback = consent_at_provider(_start(partner, widget, _hubspot(widget)["next_step"]))
    assert _land(partner, callback)[1]["outcome"] == "completed"
    _, replay = _land(partner, callback)
    assert (replay["outcome"], replay["error"], replay["origin"]) == ("failed", "state_used", "")
    assert len(partner.emulator_requests("/provider/token")) == 1


def test_an_expired_state_fails_and_tells_the_widget(
    partner: PartnerStack, widget: httpx.Client
) -> None:
    created = _hubspot(widget)
    callback = consent_at_provider(_start(partner, widget, created["next_step"]))
    partner.clock.advance(601)
    _, result = _land(partner, callback)
    assert (result["outcome"], result["error"]) == ("failed", "state_expired")
    assert result["origin"] == APP_ORIGIN
    assert partner.emulator_requests("/provider/token") == []


def test_a_state_cannot_cross_tenants_or_flows(partner: PartnerStack, widget: httpx.Client) -> None:
    callback = consent_at_provider(_start(partner, widget, _hubspot(widget)["next_step"]))
    payload = json.loads(base64.urlsafe_b64decode(query_of(callback)["state"].split(".")[0] + "=="))
    signer = URLSafeSerializer([SECRET_KEY], salt=OAUTH_STATE_SALT)
    for forged in (
        {**payload, "ten": tenant_tag("rival")},
        {**payload, "knd": "stitch"},
    ):
        _, result = _land(partner, with_query(callback, state=signer.dumps(forged)))
        assert result["error"] == "state_invalid"
    # A provider state is no good at the Stitch callback either.
    stitch_page = partner.browser().get(
        f"/v1/oauth/stitch/callback?code=x&state={query_of(callback)['state']}"
    )
    assert page_data(stitch_page.text, "tenant-link")["error"] == "state_invalid"
    assert _land(partner, callback)[1]["outcome"] == "completed"


def test_the_callback_script_posts_only_to_the_recorded_origin(partner: PartnerStack) -> None:
    script = partner.browser().get("/oauth/oauth_callback.js")
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert '"use strict"' in script.text
    assert "postMessage(message, origin)" in script.text and '"*"' not in script.text


@pytest.mark.parametrize(
    "overrides",
    [{"oauth_apps": ()}, {"step_driver": "stitchjs"}],
    ids=["no-app-for-the-type", "stitchjs-driver"],
)
def test_without_white_label_oauth_the_step_runs_in_stitchjs(
    tmp_path: Path, overrides: dict[str, Any]
) -> None:
    with partner_stack(tmp_path, **overrides) as stack:
        stack.create_tenant("acme")
        widget = stack.widget(tenant="acme", end_user="alice")
        step = _hubspot(widget)["next_step"]
        started = widget.post("/v1/steps/start", json={"token": step["token"]}).json()
        assert started["driver"] == "stitchjs"
        assert started["js"]["function"] == "authorizeSource"
        assert "oauth_url" not in started
