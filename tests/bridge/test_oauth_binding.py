"""An OAuth attempt completes only in the browser that started it (RFC 9700 §4.7.1): a consent
URL forwarded to another person ends on a failed result page and changes nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bridge.conftest import APP_ORIGIN
from tests.bridge.partner_stack import (
    HUBSPOT,
    HUBSPOT_FORM,
    PartnerStack,
    consent_at_provider,
    page_data,
    partner_stack,
)


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        stack.create_tenant("acme")
        yield stack


def _started(widget: httpx.Client) -> tuple[int, dict[str, Any]]:
    created = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM})
    assert created.status_code == 201, created.text
    started = widget.post("/v1/steps/start", json={"token": created.json()["next_step"]["token"]})
    assert started.status_code == 200, started.text
    assert started.headers["cache-control"] == "no-store"
    return created.json()["source"]["id"], started.json()


def _emulator_source(partner: PartnerStack, source_id: int) -> dict[str, Any]:
    [source] = [s for s in partner.state()["sources"] if s["id"] == source_id]
    return dict(source)


def _events(partner: PartnerStack, source_id: int) -> list[str]:
    listed = partner.backend().get("/v1/events", params={"source_id": source_id}).json()
    return [event["type"] for event in listed["data"]]


def _bind(
    partner: PartnerStack, ticket: str, headers: dict[str, str], **fields: str
) -> httpx.Response:
    return partner.browser().post(
        "/v1/oauth/begin", data={"ticket": ticket, **fields}, headers=headers
    )


def test_the_step_gives_a_ticket_and_the_bridges_popup_page_not_the_consent_url(
    partner: PartnerStack,
) -> None:
    _, started = _started(partner.widget(tenant="acme", end_user="alice"))
    # The popup page, told the one origin it may ask for the ticket (it never says "ready" to
    # any origin); the consent URL itself appears nowhere.
    assert started["oauth_url"] == f"{partner.bridge_url}/oauth/begin?opener=http%3A%2F%2Fapp.test"
    assert partner.emulator_url not in str(started)
    popup = partner.browser().get(started["oauth_url"])  # opened alone, it binds nothing
    assert popup.status_code == 200 and "set-cookie" not in popup.headers
    assert page_data(popup.text, "oauth-begin") == {"testid": "oauth-begin"}
    assert popup.headers["referrer-policy"] == "same-origin"  # its POST carries its Origin
    assert "form-action 'self'" in popup.headers["content-security-policy"]


def test_binding_sets_a_short_lived_httponly_lax_cookie_for_the_callbacks_only(
    partner: PartnerStack,
) -> None:
    _, started = _started(partner.widget(tenant="acme", end_user="alice"))
    answer = _bind(partner, started["oauth_ticket"], {"Origin": APP_ORIGIN})
    assert answer.status_code == 200
    cookie = answer.headers["set-cookie"]
    assert re.match(r"stitch_bridge_oauth_oa_[\w-]+=[\w-]{40,};", cookie), cookie
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "path=/v1/oauth/", "samesite=lax"} <= attributes
    [max_age] = [a for a in attributes if a.startswith("max-age=")]
    assert 0 < int(max_age.split("=")[1]) <= 600
    assert "secure" not in attributes  # the test bridge runs on http; https sets Secure
    target = page_data(answer.text, "oauth-begin")["target"]
    assert target.startswith(f"{partner.emulator_url}/provider/authorize?")
    assert f'content="0;url={target}"' in answer.text  # goes on without JavaScript too


def test_a_consent_completed_in_another_browser_is_refused_and_changes_nothing(
    partner: PartnerStack,
) -> None:
    source_id, started = _started(partner.widget(tenant="acme", end_user="alice"))
    consent_url = partner.bind(started["oauth_ticket"])
    before = _emulator_source(partner, source_id)
    events_before = _events(partner, source_id)
    # Alice forwards the consent URL; Bob consents in his own browser, which was never bound.
    bobs_callback = consent_at_provider(consent_url)
    refused = partner.browser().get(bobs_callback)
    result = page_data(refused.text, "oauth-result")
    assert (result["outcome"], result["error"]) == ("failed", "browser_mismatch")
    assert (result["origin"], result["source-id"]) == ("", "")  # nobody is told
    assert "another browser" in refused.text
    assert partner.emulator_requests("/provider/token") == []
    assert _emulator_source(partner, source_id) == before
    assert _events(partner, source_id) == events_before
    widget = partner.widget(tenant="acme", end_user="alice")
    assert widget.get(f"/v1/sources/{source_id}").json()["next_step"]["type"] == "oauth"
    # The attempt is still Alice's: her own browser completes it.
    landed = partner.land(consent_at_provider(consent_url))
    assert page_data(landed.text, "oauth-result")["outcome"] == "completed"
    assert partner.source_values(source_id)["refresh_token"]


def test_another_attempts_cookie_does_not_fit(partner: PartnerStack) -> None:
    _, alices = _started(partner.widget(tenant="acme", end_user="alice"))
    alices_consent = partner.bind(alices["oauth_ticket"])
    alices_browser = partner.oauth_browser
    bob_source, bobs = _started(partner.widget(tenant="acme", end_user="bob"))
    partner.bind(bobs["oauth_ticket"])  # Bob's browser holds a cookie of its own attempt
    callback = consent_at_provider(alices_consent)
    result = page_data(partner.land(callback).text, "oauth-result")
    assert (result["outcome"], result["error"]) == ("failed", "browser_mismatch")
    assert partner.emulator_requests("/provider/token") == []
    assert alices_browser is not None
    assert page_data(alices_browser.get(callback).text, "oauth-result")["outcome"] == "completed"
    assert "refresh_token" not in partner.source_values(bob_source)


@pytest.mark.parametrize(
    ("headers", "fields", "status", "error"),
    [
        ({}, {}, 403, "origin_not_allowed"),  # no Origin: not a page's POST
        ({"Origin": "BRIDGE"}, {}, 403, "origin_not_allowed"),  # own origin, no opener named
        (
            {"Origin": "BRIDGE"},
            {"opener_origin": "https://evil.example"},
            403,
            "origin_not_allowed",
        ),
    ],
    ids=["no-origin", "bridge-page-without-opener", "opener-of-another-origin"],
)
def test_a_bind_the_bridge_cannot_trace_to_the_starting_page_is_refused(
    partner: PartnerStack, headers: dict[str, str], fields: dict[str, str], status: int, error: str
) -> None:
    source_id, started = _started(partner.widget(tenant="acme", end_user="alice"))
    headers = {k: partner.bridge_url if v == "BRIDGE" else v for k, v in headers.items()}
    refused = _bind(partner, started["oauth_ticket"], headers, **fields)
    assert refused.status_code == status
    assert "set-cookie" not in refused.headers
    assert page_data(refused.text, "oauth-result")["error"] == error
    # The ticket is still good for the page that started the step.
    assert _bind(partner, started["oauth_ticket"], {"Origin": APP_ORIGIN}).status_code == 200


def test_a_page_of_another_origin_cannot_bind(partner: PartnerStack) -> None:
    _, started = _started(partner.widget(tenant="acme", end_user="alice"))
    refused = _bind(partner, started["oauth_ticket"], {"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "set-cookie" not in refused.headers
    assert refused.json()["error"]["code"] == "origin_not_allowed"


def test_the_bridges_popup_page_binds_for_the_opener_that_started_the_step(
    partner: PartnerStack,
) -> None:
    _, started = _started(partner.widget(tenant="acme", end_user="alice"))
    bound = _bind(
        partner,
        started["oauth_ticket"],
        {"Origin": partner.bridge_url},
        opener_origin=APP_ORIGIN,
    )
    assert bound.status_code == 200 and "set-cookie" in bound.headers


def test_a_ticket_binds_one_browser_once_and_only_by_post(partner: PartnerStack) -> None:
    _, started = _started(partner.widget(tenant="acme", end_user="alice"))
    ticket = started["oauth_ticket"]
    as_link = partner.browser().get("/v1/oauth/begin", params={"ticket": ticket})
    assert as_link.status_code == 405 and "set-cookie" not in as_link.headers
    assert _bind(partner, ticket, {"Origin": APP_ORIGIN}).status_code == 200
    again = _bind(partner, ticket, {"Origin": APP_ORIGIN})
    assert again.status_code == 409 and "set-cookie" not in again.headers
    assert page_data(again.text, "oauth-result")["error"] == "token_used"
    for forged in (ticket[:-2] + "xx", "garbage"):
        refused = _bind(partner, forged, {"Origin": APP_ORIGIN})
        assert page_data(refused.text, "oauth-result")["error"] == "token_invalid"


def test_a_late_bind_is_refused(partner: PartnerStack) -> None:
    _, started = _started(partner.widget(tenant="acme", end_user="alice"))
    partner.clock.advance(601)
    late = _bind(partner, started["oauth_ticket"], {"Origin": APP_ORIGIN})
    assert late.status_code == 400 and "set-cookie" not in late.headers
    assert page_data(late.text, "oauth-result")["error"] == "token_expired"
