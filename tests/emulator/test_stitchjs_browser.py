"""Stitch.js in headless Chromium: a partner page on another origin loads the emulator's
`/stitch.js`; its promises settle as the vendor's do (reference §10.2–10.5)."""

from __future__ import annotations

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
    wait_for_check_status,
)

pytestmark = pytest.mark.browser


def test_add_source_walks_form_check_and_streams_then_resolves(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    name = stack.unique("Recurly")
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    expect(popup.locator('[data-role="nav"]')).to_be_hidden()  # Stitch.js sends hideNav
    by_id(popup, "display-name").fill(name)
    by_id(popup, "property-start_date").fill("2018-01-10T00:00:00Z")
    by_id(popup, "property-api_key").fill("recurly-key")
    by_id(popup, "property-subdomain").fill("acme")
    by_id(popup, "property-quota_limit").fill("30")
    by_id(popup, "property-frequency_in_minutes").fill("60")
    shot(stack, popup, "add-1-form")
    by_id(popup, "submit").click()

    expect(by_id(popup, "check-status")).to_have_text("running")
    shot(stack, popup, "add-2-check")
    stack.advance(CHECK_DELAY)
    wait_for_check_status(popup, "succeeded")
    expect(by_id(popup, "stream-accounts")).to_be_visible()
    by_id(popup, "stream-accounts").check()
    by_id(popup, "stream-invoices").check()
    shot(stack, popup, "add-3-streams")
    by_id(popup, "submit").click()

    result = outcome(page)
    assert result["resolved"]["type"] == "platform.recurly"
    source = stack.source(result["resolved"]["id"])
    assert source["display_name"] == name
    assert source["report_card"]["current_step_type"] == "fully_configured"
    assert source["properties"]["frequency_in_minutes"] == "60"
    assert "api_key" not in source["properties"]
    types = received_types(page)
    assert types[:1] == ["bootstrap"]
    assert types.index("connectionCreated") < types.index("integrationFlowCompleted")
    assert popup.is_closed()


def test_only_authorize_source_settles_on_authorize_success(stack: Stack, page: Any) -> None:
    created = stack.create_hubspot()
    popup = start(
        page,
        "onlyAuthorizeSource",
        {"id": created["id"], "ephemeral_token": stack.ephemeral_token()},
    )
    authorize_through_provider(popup, "approve")
    assert outcome(page) == {"resolved": {"id": created["id"], "type": "platform.hubspot"}}
    assert stack.source(created["id"])["report_card"]["current_step_type"] != "oauth"


def test_closing_the_popup_rejects_with_app_closed_prematurely(stack: Stack, page: Any) -> None:
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").wait_for()
    popup.close()
    result = outcome(page)
    assert result == {
        "rejected": "AppClosedPrematurelyError",
        "message": "App closed before reaching end of flow.",
    }


def test_close_control_sends_integration_form_close(stack: Stack, page: Any) -> None:
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").wait_for()
    by_id(popup, "close").click()
    assert outcome(page)["rejected"] == "AppClosedPrematurelyError"
    assert "integrationFormClose" in received_types(page)
    assert popup.is_closed(), "Stitch.js closes the popup itself"


def test_used_ephemeral_token_rejects_with_upgrade_error(stack: Stack, page: Any) -> None:
    token = stack.ephemeral_token()
    exchanged = httpx.post(
        f"{stack.emulator}/v2/js-client/session", json={"ephemeral_token": token}
    )
    assert exchanged.status_code == 200
    popup = start(page, "addSource", {"type": "platform.recurly", "ephemeral_token": token})
    result = outcome(page)
    assert result == {
        "rejected": "UpgradeEphemeralTokenError",
        "message": "Error upgrading ephemeral token.",
    }
    assert popup.is_closed()


def test_unknown_source_and_type_reject_with_their_errors(stack: Stack, page: Any) -> None:
    start(page, "editSource", {"id": 987654, "ephemeral_token": stack.ephemeral_token()})
    assert outcome(page) == {
        "rejected": "SourceNotFoundError",
        "message": "Integration with id 987654 not found.",
    }
    page.evaluate("window.outcome = null")
    start(page, "addSource", {"type": "platform.nope", "ephemeral_token": stack.ephemeral_token()})
    assert outcome(page) == {
        "rejected": "UnknownSourceTypeError",
        "message": 'Unknown source type: "platform.nope".',
    }


def test_missing_options_throw_synchronously_with_the_vendor_messages(page: Any) -> None:
    messages = page.evaluate(
        """() => [
          () => Stitch.addSource({}),
          () => Stitch.editSource({}),
          () => Stitch.authorizeSource({id: 0}),
          () => Stitch.displayDiscoveryOutputForSource({id: 5}),
          () => Stitch.selectStreamsForSource({}),
        ].map((call) => { try { call(); return null; } catch (e) { return e.message; } })"""
    )
    assert messages == [
        "You must specify `options.type`",
        "You must specify `options.id`",
        "You must specify `options.id`",
        "You must specify `options.discovery_job_name`",
        "You must specify `options.id`",
    ]
    steps = page.evaluate("Stitch.STEPS")
    assert set(steps) == {
        "CREATE",
        "EDIT",
        "AUTHORIZE",
        "ONLY_AUTHORIZE",
        "DISCOVER",
        "SELECT_STREAMS",
    }


def test_stitchjs_ignores_events_from_the_popup_window_on_another_origin(
    stack: Stack, page: Any
) -> None:
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").wait_for()
    # The same window, navigated to a foreign origin, posts a "completed" event to the opener.
    popup.goto(f"{stack.partner}/plain")
    forged = {"type": "integrationFlowCompleted", "data": {"id": 1, "type": "platform.recurly"}}
    popup.evaluate("([m, o]) => window.opener.postMessage(m, o)", [forged, stack.partner])
    page.wait_for_function(
        "window.everything.some((m) => m.data && m.data.type === 'integrationFlowCompleted')"
    )
    popup.close()
    assert outcome(page)["rejected"] == "AppClosedPrematurelyError"
