"""A blocked popup is reported as PopupBlockedError, and the retry control recovers the flow."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver, events, popups

pytestmark = pytest.mark.browser

BLOCK_POPUPS = "window.__open = window.open; window.open = () => null;"
ALLOW_POPUPS = "window.open = window.__open;"
CAPTURE_REJECTION = """
window.__rejections = [];
window.acmeDemo.bridge.connect({type: %r}).catch((err) => window.__rejections.push(
  {name: err.name, code: err.code, typed: err instanceof StitchBridge.PopupBlockedError}));
"""


def test_a_blocked_stitch_popup_rejects_with_popup_blocked_and_retry_connects(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("stitchjs"))
    page = demo.open(user)
    page.evaluate(BLOCK_POPUPS)
    page.evaluate(CAPTURE_REJECTION % "platform.recurly")

    widget = page.get_by_test_id("stitch-bridge")
    expect(widget.get_by_test_id("retry")).to_be_visible()
    # Every step of this driver is a Stitch window: nothing could continue in this one.
    expect(widget.get_by_test_id("continue-here")).to_have_count(0)
    shots.take(page, "retry")
    rejection = page.evaluate("window.__rejections")
    assert rejection == [{"name": "PopupBlockedError", "code": "popup_blocked", "typed": True}]
    assert any("popup_blocked" in e for e in events(page, "error"))
    # Nothing is connected, and at most one source waits for input (none at all when the
    # session names the bridge's step driver, so the widget knows before it creates anything).
    assert [s["status"] for s in demo.sources(user)] in ([], ["needs_input"])

    page.evaluate(ALLOW_POPUPS)
    with page.expect_popup():
        widget.get_by_test_id("retry").click()
    Driver(page, SPECS["platform.recurly"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def test_a_blocked_sign_in_window_mid_flow_can_be_retried(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page = demo.open(user)
    page.get_by_test_id("connect-platform.hubspot").click()
    widget = page.get_by_test_id("stitch-bridge")
    widget.get_by_test_id("property-start_date").fill("2017-01-01T00:00:00Z")
    widget.get_by_test_id("submit").click()
    expect(widget.get_by_test_id("authorize")).to_be_visible()

    page.evaluate(BLOCK_POPUPS)
    widget.get_by_test_id("authorize").click()
    expect(widget.get_by_test_id("retry")).to_be_visible()
    expect(widget.get_by_test_id("continue-here")).to_be_visible()  # the redirect fallback
    shots.take(page, "retry")
    assert popups(page) == []

    page.evaluate(ALLOW_POPUPS)
    with page.expect_popup():
        widget.get_by_test_id("retry").click()
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]
