"""The Stitch.js popup in headless Chromium: its form, OAuth, check and stream screens driven
by their data-testid hooks (CONTRACT §8), and its postMessage origin checks."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.emulator.test_stitchjs_harness import (
    CHECK_DELAY,
    Stack,
    authorize_through_provider,
    by_id,
    outcome,
    page_fixture,  # noqa: F401 (a fixture)
    received_types,
    shot,
    stack_fixture,  # noqa: F401 (a fixture)
    start,
)

pytestmark = pytest.mark.browser


def test_bad_properties_are_shown_next_to_their_inputs(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").fill(stack.unique("Recurly"))
    by_id(popup, "property-start_date").fill("2018-01-10 00:00:00")
    by_id(popup, "property-api_key").fill("recurly-key")
    by_id(popup, "property-subdomain").fill("acme")
    by_id(popup, "property-quota_limit").fill("thirty")
    by_id(popup, "submit").click()

    expect(by_id(popup, "error-start_date")).to_be_visible()
    expect(by_id(popup, "error-quota_limit")).to_be_visible()
    expect(by_id(popup, "error-subdomain")).to_have_count(0)
    shot(stack, popup, "bad-properties")
    assert "connectionCreated" not in received_types(page)

    by_id(popup, "property-start_date").fill("2018-01-10T00:00:00Z")
    by_id(popup, "property-quota_limit").fill("30")
    by_id(popup, "submit").click()
    expect(by_id(popup, "check-status")).to_be_visible()
    expect(by_id(popup, "error-start_date")).to_have_count(0)


def test_edit_source_saves_changes_and_walks_the_steps_that_follow(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    body = {
        "type": "platform.recurly",
        "display_name": stack.unique("Recurly"),
        "properties": {
            "start_date": "2018-01-10T00:00:00Z",
            "api_key": "k",
            "subdomain": "acme",
            "quota_limit": "30",
        },
    }
    created = stack.api("POST", "/v4/sources", json=body).json()
    stack.advance(CHECK_DELAY)
    popup = start(
        page, "editSource", {"id": created["id"], "ephemeral_token": stack.ephemeral_token()}
    )
    expect(by_id(popup, "property-subdomain")).to_have_value("acme")
    expect(by_id(popup, "property-api_key")).to_have_value("")
    by_id(popup, "property-subdomain").fill("acme-eu")
    shot(stack, popup, "edit-1-form")
    by_id(popup, "submit").click()

    expect(by_id(popup, "check-status")).to_have_text("running")
    stack.advance(CHECK_DELAY)
    by_id(popup, "stream-plans").check()
    by_id(popup, "submit").click()
    assert outcome(page) == {"resolved": {"id": created["id"], "type": "platform.recurly"}}
    source = stack.source(created["id"])
    assert source["properties"]["subdomain"] == "acme-eu"
    assert source["report_card"]["current_step_type"] == "fully_configured"
    assert "connectionUpdated" in received_types(page)


def test_select_streams_configures_database_tables_and_views(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    body = {
        "type": "platform.hp-postgres",
        "display_name": stack.unique("Postgres"),
        "properties": {
            "host": "db.example.com",
            "port": "5432",
            "user": "stitch",
            "password": "secret",
            "dbname": "demni2mf59dt10",
        },
    }
    created = stack.api("POST", "/v4/sources", json=body).json()
    stack.advance(CHECK_DELAY)
    view = "demni2mf59dt10-public-customer_view"
    popup = start(
        page,
        "selectStreamsForSource",
        {
            "id": created["id"],
            "ephemeral_token": stack.ephemeral_token(),
            "default_streams": {"customers": True, "orders": "yes"},
        },
    )
    expect(by_id(popup, "stream-demni2mf59dt10-public-customers")).to_be_checked()
    expect(by_id(popup, "stream-demni2mf59dt10-heroku-orders")).not_to_be_checked()
    by_id(popup, f"stream-{view}").check()
    shot(stack, popup, "database-streams")
    by_id(popup, "submit").click()

    assert outcome(page) == {"resolved": {"id": created["id"], "type": "platform.hp-postgres"}}
    streams = stack.api("GET", f"/v4/sources/{created['id']}/streams").json()
    selected = {s["tap_stream_id"] for s in streams if s["selected"]}
    assert selected == {"demni2mf59dt10-public-customers", view}
    view_id = next(s["stream_id"] for s in streams if s["tap_stream_id"] == view)
    schema = stack.api("GET", f"/v4/sources/{created['id']}/streams/{view_id}").json()
    top = next(m["metadata"] for m in schema["metadata"] if m["breadcrumb"] == [])
    assert top["view-key-properties"] == ["id"]
    assert top["replication-method"] == "FULL_TABLE"


def test_authorize_source_through_the_provider_after_a_denial(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    created = stack.create_hubspot()
    popup = start(
        page,
        "authorizeSource",
        {
            "id": created["id"],
            "ephemeral_token": stack.ephemeral_token(),
            "default_streams": {"contacts": True, "companies": True, "nonsense": True},
        },
    )
    expect(by_id(popup, "authorize")).to_be_visible()
    shot(stack, popup, "oauth-1-authorize")
    by_id(popup, "authorize").click()
    popup.wait_for_url("**/provider/authorize?**")
    expect(by_id(popup, "approve")).to_be_visible()
    shot(stack, popup, "oauth-2-consent")
    by_id(popup, "deny").click()

    expect(by_id(popup, "step-error")).to_be_visible()
    expect(by_id(popup, "authorize")).to_be_visible()
    shot(stack, popup, "oauth-3-denied")
    assert stack.source(created["id"])["report_card"]["current_step_type"] == "oauth"

    authorize_through_provider(popup, "approve")
    expect(by_id(popup, "check-status")).to_have_text("running")
    stack.advance(CHECK_DELAY)
    expect(by_id(popup, "stream-contacts")).to_be_visible()
    expect(by_id(popup, "stream-contacts")).to_be_checked()
    expect(by_id(popup, "stream-companies")).to_be_checked()
    expect(by_id(popup, "stream-deals")).not_to_be_checked()
    shot(stack, popup, "oauth-4-streams")
    by_id(popup, "submit").click()

    result = outcome(page)
    assert result == {"resolved": {"id": created["id"], "type": "platform.hubspot"}}
    source = stack.source(created["id"])
    assert source["report_card"]["current_step_type"] == "fully_configured"
    assert "refresh_token" not in source["properties"]
    types = received_types(page)
    assert "authorizeSuccess" in types and "authorizeFailure" not in types
    assert types.count("bootstrap") >= 3, "the popup bootstraps again after each round trip"


def test_discovery_output_ends_when_the_check_screen_is_left(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    body = {
        "type": "platform.recurly",
        "display_name": stack.unique("Recurly"),
        "properties": {
            "start_date": "2018-01-10T00:00:00Z",
            "api_key": "k",
            "subdomain": "acme",
            "quota_limit": "30",
        },
    }
    created = stack.api("POST", "/v4/sources", json=body).json()
    assert created["report_card"]["current_step_type"] == "discover_schema"
    script = {"outcome": "failure", "source_id": created["id"]}
    scripted = stack.api("POST", "/_emulator/checks", json=script)
    assert scripted.status_code == 200, scripted.text
    job = created["check_job_name"]
    popup = start(
        page,
        "displayDiscoveryOutputForSource",
        {
            "id": created["id"],
            "discovery_job_name": job,
            "ephemeral_token": stack.ephemeral_token(),
        },
    )
    expect(by_id(popup, "check-status")).to_have_text("running")
    stack.advance(CHECK_DELAY)
    expect(by_id(popup, "check-status")).to_have_text("failed")
    expect(by_id(popup, "step-error")).to_be_visible()
    shot(stack, popup, "discover-failed")
    by_id(popup, "submit").click()
    assert outcome(page) == {"resolved": {"id": created["id"], "type": "platform.recurly"}}


def test_popup_ignores_update_from_a_foreign_origin(stack: Stack, browser_context: Any) -> None:
    from playwright.sync_api import expect

    partner = browser_context.new_page()
    partner.goto(f"{stack.partner}/plain")
    with partner.expect_popup() as popup_info:
        partner.evaluate(f"window.open('{stack.emulator}/v2/js-client', 'stitchpopup')")
    popup = popup_info.value
    popup.wait_for_load_state()

    def send_update_from(origin: str, token: str) -> None:
        context = {
            "version": 2,
            "additionalState": {"ephemeral_token": token},
            "targetState": {
                "name": "app.connections.create",
                "params": {"route": "platform.recurly"},
            },
        }
        payload = json.dumps({"type": "update", "data": context})
        query = httpx.QueryParams(target=stack.emulator, payload=payload)
        # Navigated by the page itself, as a script would: the tab stays in the popup's
        # browsing context group, so the popup can be found by name.
        with partner.expect_navigation():
            partner.evaluate(
                "(url) => { window.location.href = url; }", f"{origin}/foreign?{query}"
            )
        expect(partner.locator("body[data-sent=yes]")).to_have_count(1)
        assert len(browser_context.pages) == 2, "the named popup was found, not a new window"

    # The opener's tab, now on another origin, posts an `update`: ignored.
    forged_token = stack.ephemeral_token()
    send_update_from(stack.foreign, forged_token)
    popup.wait_for_timeout(1500)
    expect(by_id(popup, "display-name")).to_have_count(0)
    shot(stack, popup, "foreign-update-ignored")
    exchanged = httpx.post(
        f"{stack.emulator}/v2/js-client/session", json={"ephemeral_token": forged_token}
    )
    assert exchanged.status_code == 200, "the popup never used the forged context's token"

    # Back on the origin the popup was opened from, the same message is accepted.
    send_update_from(stack.partner, stack.ephemeral_token())
    expect(by_id(popup, "display-name")).to_be_visible()
