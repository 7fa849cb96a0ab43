"""Redirect mode: the OAuth round trip as full-page navigations, resumed by an opaque id."""

from __future__ import annotations

import html
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
    partner_stack,
    query_of,
)

RETURN_URL = f"{APP_ORIGIN}/settings/data?tab=sources"


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        stack.create_tenant("acme")
        yield stack


def _oauth_url(
    partner: PartnerStack, widget: httpx.Client, return_url: str = RETURN_URL
) -> tuple[dict[str, Any], str]:
    """Start the step and bind a browser as the widget does in redirect mode (a top-level form
    POST from the SaaS page); returns the consent URL that browser goes on to."""
    created = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM}).json()
    started = widget.post(
        "/v1/steps/start", json={"token": created["next_step"]["token"], "return_url": return_url}
    )
    assert started.status_code == 200, started.text
    return created, partner.bind(started.json()["oauth_ticket"])


def _target(landed: httpx.Response) -> str:
    """Where the callback page sends the browser on (a page, not a 303: see bridge/api/oauth.py)."""
    assert landed.status_code == 200, landed.text
    match = re.search(r'data-target="([^"]+)"', landed.text)
    assert match is not None, landed.text
    assert f'content="0;url={match.group(1)}"' in landed.text  # also without JavaScript
    return html.unescape(match.group(1))


def _back_at_the_saas(partner: PartnerStack, oauth_url: str, decision: str = "approve") -> str:
    callback = consent_at_provider(oauth_url, decision)
    landed = partner.land(callback)
    location = _target(landed)
    assert location.startswith(RETURN_URL + "&stitch_bridge_resume=rs_")
    return query_of(location)["stitch_bridge_resume"]


def test_the_provider_sends_the_browser_back_with_only_a_resume_id(partner: PartnerStack) -> None:
    widget = partner.widget(tenant="acme", end_user="alice")
    created, oauth_url = _oauth_url(partner, widget)
    callback = consent_at_provider(oauth_url)
    landed = partner.land(callback)
    location = _target(landed)
    params = query_of(location)
    assert set(params) == {"tab", "stitch_bridge_resume"}
    session_token = widget.headers["authorization"].split()[1]
    for secret in (session_token, created["next_step"]["token"], *partner.settings.secrets):
        assert secret not in location
    assert landed.headers["referrer-policy"] == "no-referrer"


def test_resume_finishes_the_step_and_continues_once(partner: PartnerStack) -> None:
    widget = partner.widget(tenant="acme", end_user="alice")
    created, oauth_url = _oauth_url(partner, widget)
    resume_id = _back_at_the_saas(partner, oauth_url)
    # Back on the SaaS page, a fresh session of the same end user picks the flow up.
    page = partner.widget(tenant="acme", end_user="alice")
    resumed = page.post("/v1/resume", json={"resume_id": resume_id})
    assert resumed.status_code == 200, resumed.text
    body = resumed.json()
    assert body["outcome"] == "completed" and body["step_completed"] is True
    assert body["source"]["id"] == created["source"]["id"]
    assert body["source"]["current_step_type"] == "discover_schema"
    replay = page.post("/v1/resume", json={"resume_id": resume_id})
    assert replay.status_code == 409 and replay.json()["error"]["code"] == "token_used"


def test_a_denied_consent_resumes_as_a_failure_with_a_fresh_oauth_step(
    partner: PartnerStack,
) -> None:
    widget = partner.widget(tenant="acme", end_user="alice")
    _, oauth_url = _oauth_url(partner, widget)
    resume_id = _back_at_the_saas(partner, oauth_url, decision="deny")
    body = widget.post("/v1/resume", json={"resume_id": resume_id}).json()
    assert body["outcome"] == "failed" and body["error"] == "access_denied"
    assert body["step_completed"] is False
    assert body["next_step"]["type"] == "oauth"


def test_a_consent_finished_in_another_browser_gives_it_no_resume_id(
    partner: PartnerStack,
) -> None:
    widget = partner.widget(tenant="acme", end_user="alice")
    created, oauth_url = _oauth_url(partner, widget)
    callback = consent_at_provider(oauth_url)
    elsewhere = partner.browser().get(callback)
    assert "stitch_bridge_resume" not in elsewhere.text and "data-target" not in elsewhere.text
    assert 'data-outcome="failed"' in elsewhere.text
    assert partner.emulator_requests("/provider/token") == []
    # The browser that started the step comes back with its resume id and carries on.
    resume_id = query_of(_target(partner.land(callback)))["stitch_bridge_resume"]
    resumed = widget.post("/v1/resume", json={"resume_id": resume_id}).json()
    assert resumed["outcome"] == "completed"
    assert resumed["source"]["id"] == created["source"]["id"]


def test_resume_ids_are_refused_to_others_when_forged_or_late(partner: PartnerStack) -> None:
    widget = partner.widget(tenant="acme", end_user="alice")
    _, oauth_url = _oauth_url(partner, widget)
    resume_id = _back_at_the_saas(partner, oauth_url)
    intruder = partner.widget(tenant="acme", end_user="mallory")
    answer = intruder.post("/v1/resume", json={"resume_id": resume_id})
    assert answer.json()["error"]["code"] == "token_invalid"
    forged = widget.post("/v1/resume", json={"resume_id": resume_id[:-2] + "xx"})
    assert forged.json()["error"]["code"] == "token_invalid"
    assert (
        widget.post("/v1/resume", json={"resume_id": "evt_1"}).json()["error"]["code"]
        == "token_invalid"
    )
    partner.clock.advance(601)
    late = partner.widget(tenant="acme", end_user="alice", ttl=3600)
    assert (
        late.post("/v1/resume", json={"resume_id": resume_id}).json()["error"]["code"]
        == "token_expired"
    )


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/back", "//evil.example", f"{APP_ORIGIN}@evil.example", "javascript:x"],
)
def test_a_return_url_off_the_allowed_origins_is_refused(partner: PartnerStack, url: str) -> None:
    widget = partner.widget(tenant="acme", end_user="alice")
    created = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM}).json()
    answer = widget.post(
        "/v1/steps/start", json={"token": created["next_step"]["token"], "return_url": url}
    )
    assert answer.status_code == 422
    assert "return_url" in answer.json()["error"]["details"]["fields"]
