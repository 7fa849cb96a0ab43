"""The OAuth step under the native driver: the demo's own OAuth app (white-label) at the fake
provider, a denial that can be tried again, and the Stitch.js fallback without an app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.flows import (
    SPECS,
    Driver,
    after_the_form_or_oauth,
    hubspot_to_oauth_step,
    popups,
)

pytestmark = pytest.mark.browser


def test_white_label_oauth_opens_the_provider_and_comes_back_to_the_widget(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page = demo.open(user)
    widget = hubspot_to_oauth_step(page)
    shots.take(page, "authorize")
    with page.expect_popup() as opened:
        widget.get_by_test_id("authorize").click()
    provider = opened.value
    expect(provider.get_by_test_id("approve")).to_be_visible()
    assert "/provider/authorize" in provider.url
    shots.take(provider, "consent")
    provider.get_by_test_id("approve").click()

    # The callback page reports to the widget and closes; the flow goes on in the widget.
    expect(after_the_form_or_oauth(widget)).to_be_visible()
    assert popups(page) == []
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def test_a_denied_consent_shows_a_step_error_and_authorize_again(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page = demo.open(user)
    widget = hubspot_to_oauth_step(page)
    with page.expect_popup() as opened:
        widget.get_by_test_id("authorize").click()
    opened.value.get_by_test_id("deny").click()

    expect(widget.get_by_test_id("step-error")).to_be_visible()
    expect(widget.get_by_test_id("authorize")).to_be_visible()
    shots.take(page, "denied")
    assert [s["status"] for s in demo.sources(user)] == ["needs_input"]
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def test_without_a_white_label_app_the_oauth_step_falls_back_to_stitchjs(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native", white_label_oauth=False))
    page = demo.open(user)
    widget = hubspot_to_oauth_step(page)
    with page.expect_popup() as opened:
        widget.get_by_test_id("authorize").click()
    popup = opened.value
    expect(popup.get_by_test_id("authorize")).to_be_visible()  # Stitch's own OAuth screen
    assert "/v2/js-client" in popup.url
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def test_a_consent_url_finished_in_another_browser_is_refused_and_the_first_completes(
    stacks: Any, demo_for: Any, other_context: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    page = demo.open(user)
    widget = hubspot_to_oauth_step(page)
    with page.expect_popup() as opened:
        widget.get_by_test_id("authorize").click()
    own = opened.value
    expect(own.get_by_test_id("approve")).to_be_visible()
    consent_url = own.url
    [source] = demo.sources(user)
    before = _emulator_source(stack, source["id"])
    events_before = _events(stack, source["id"])

    # The end user sends the consent URL to someone else, who approves in a browser of their own.
    elsewhere = demo.new_page(other_context())
    elsewhere.goto(consent_url)
    elsewhere.get_by_test_id("approve").click()
    result = elsewhere.get_by_test_id("oauth-result")
    expect(result).to_have_attribute("data-outcome", "failed", timeout=15_000)
    expect(result).to_contain_text("another browser")
    shots.take(elsewhere, "refused-elsewhere")
    assert _emulator_source(stack, source["id"]) == before
    assert _events(stack, source["id"]) == events_before
    assert [s["status"] for s in demo.sources(user)] == ["needs_input"]

    # The browser that started the step still completes it.
    own.get_by_test_id("approve").click()
    expect(after_the_form_or_oauth(widget)).to_be_visible()
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def _emulator_source(stack: Any, source_id: int) -> dict[str, Any]:
    state = httpx.get(f"{stack.emulator_url}/_emulator/state", timeout=10).json()
    [found] = [s for s in state["sources"] if s["id"] == source_id]
    return dict(found)


def _events(stack: Any, source_id: int) -> list[str]:
    listed = httpx.get(
        f"{stack.bridge_url}/v1/events",
        params={"source_id": source_id},
        headers={"Authorization": f"Bearer {stack.api_key}"},
        timeout=10,
    ).json()
    return [event["id"] for event in listed["data"]]
