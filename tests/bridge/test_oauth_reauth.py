"""Re-authorization: a session scoped to a connected source re-runs OAuth on that same source."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

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
        yield stack


def _events(stack: PartnerStack, type: str) -> list[int]:
    return [e["source_id"] for e in stack.events() if e["type"] == type]


@pytest.fixture
def connected(partner: PartnerStack) -> int:
    """A HubSpot source of alice (tenant acme), connected through white-label OAuth."""
    partner.create_tenant("acme")
    widget = partner.widget(tenant="acme", end_user="alice")
    created = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM})
    source_id = int(created.json()["source"]["id"])
    started = widget.post("/v1/steps/start", json={"token": created.json()["next_step"]["token"]})
    partner.land(consent_at_provider(partner.bind(started.json()["oauth_ticket"])))
    partner.advance(3)
    widget.put(
        f"/v1/sources/{source_id}/streams",
        json={"streams": [{"tap_stream_id": "contacts", "selected": True}]},
    ).raise_for_status()
    assert widget.get(f"/v1/sources/{source_id}").json()["source"]["status"] == "connected"
    return source_id


def _reauth_widget(stack: PartnerStack, source_id: int) -> httpx.Client:
    return stack.widget(tenant="acme", end_user="alice", source_id=source_id)


def _flag_needs_reauth(stack: PartnerStack, source_id: int) -> None:
    # What the reconciler does when a connected source's connection check fails.
    with sqlite3.connect(stack.database) as db:
        db.execute(
            "UPDATE sources SET needs_reauth = 1, status = 'needs_reauth' WHERE id = ?",
            (source_id,),
        )


def _oauth_step(widget: httpx.Client, source_id: int) -> dict[str, Any]:
    answer = widget.get(f"/v1/sources/{source_id}").json()
    step = answer["next_step"]
    assert step is not None and step["type"] == "oauth", answer
    assert step["js"] == {"function": "authorizeSource", "options": {"id": source_id}}
    return dict(step)


def test_a_scoped_session_re_runs_oauth_on_the_same_source(
    partner: PartnerStack, connected: int
) -> None:
    _flag_needs_reauth(partner, connected)
    widget = _reauth_widget(partner, connected)
    assert widget.get(f"/v1/sources/{connected}").json()["source"]["status"] == "needs_reauth"
    old_refresh = partner.source_values(connected)["refresh_token"]
    sources_before = len(partner.state()["sources"])

    step = _oauth_step(widget, connected)
    started = widget.post("/v1/steps/start", json={"token": step["token"]}).json()
    assert started["action"] == "oauth"
    page = partner.land(consent_at_provider(partner.bind(started["oauth_ticket"])))
    assert page_data(page.text, "oauth-result")["outcome"] == "completed"
    assert partner.source_values(connected)["refresh_token"] != old_refresh
    assert _events(partner, "source.reauth_completed") == [connected]

    done = widget.post("/v1/steps/complete", json={"token": step["token"]})
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["step_completed"] is True
    assert body["next_step"] is None
    assert body["source"]["id"] == connected and body["source"]["status"] == "connected"
    assert body["receipt"]
    assert len(partner.state()["sources"]) == sources_before  # no new Stitch source
    listed = partner.backend().get("/v1/end-users/alice/sources", params={"tenant": "acme"})
    assert [(s["id"], s["status"]) for s in listed.json()["data"]] == [(connected, "connected")]


def test_an_unfinished_re_authorization_leaves_the_flag_and_offers_oauth_again(
    partner: PartnerStack, connected: int
) -> None:
    _flag_needs_reauth(partner, connected)
    widget = _reauth_widget(partner, connected)
    step = _oauth_step(widget, connected)
    started = widget.post("/v1/steps/start", json={"token": step["token"]}).json()
    partner.land(consent_at_provider(partner.bind(started["oauth_ticket"]), "deny"))
    done = widget.post("/v1/steps/complete", json={"token": step["token"]}).json()
    assert done["step_completed"] is False
    assert done["next_step"]["type"] == "oauth" and done["next_step"]["token"] != step["token"]
    assert done["source"]["status"] == "needs_reauth"
    assert _events(partner, "source.reauth_completed") == []


def test_only_a_session_scoped_to_the_source_is_offered_re_authorization(
    partner: PartnerStack, connected: int
) -> None:
    unscoped = partner.widget(tenant="acme", end_user="alice")
    assert unscoped.get(f"/v1/sources/{connected}").json()["next_step"] is None


def test_a_scoped_session_cannot_create_sources(partner: PartnerStack, connected: int) -> None:
    widget = _reauth_widget(partner, connected)
    answer = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM})
    assert answer.status_code == 400
    assert len([s for s in partner.state()["sources"] if s["type"] == HUBSPOT]) == 1
