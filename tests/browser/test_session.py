"""The widget renews its connect session through fetchSession while a long flow runs."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver, events

pytestmark = pytest.mark.browser

SESSION_TTL = 3  # seconds: the flow below outlasts two of them


@pytest.mark.parametrize("driver", ["stitchjs", "native"])
def test_a_flow_longer_than_the_session_lifetime_still_connects(
    stacks: Any, demo_for: Any, user: str, shots: Any, driver: str
) -> None:
    demo = demo_for(stacks(driver, session_ttl=SESSION_TTL))
    page = demo.open(user)
    if driver == "stitchjs":
        with page.expect_popup():
            page.get_by_test_id("connect-platform.recurly").click()
    else:
        page.get_by_test_id("connect-platform.recurly").click()
        expect(page.get_by_test_id("stitch-bridge").get_by_test_id("submit")).to_be_visible()

    # The person takes their time: longer than two session lifetimes pass, in real time (the
    # widget renews on its own timer, and Stitch.js's popup keeps its own clock), before they
    # go on. Waiting here is the behaviour under test, not synchronisation.
    page.wait_for_timeout(SESSION_TTL * 2 * 1000 + 500)
    assert events(page, "session_renewed"), events(page)

    Driver(page, SPECS["platform.recurly"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]
    assert events(page, "error") == []


def test_a_session_the_bridge_calls_expired_is_renewed_once_and_the_call_retried(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("native", session_ttl=SESSION_TTL, movable_clock=True)
    demo = demo_for(stack)
    page = demo.open(user)
    # A browser clock a minute slow: the widget believes its session has long to live, so only
    # the bridge's `session_expired` answer can tell it otherwise. The bridge's clock passes
    # the session's lifetime; the page's does not move.
    page.evaluate("const now = Date.now; Date.now = () => now() - 60000;")
    stack.bridge_clock.advance(SESSION_TTL + 0.5)
    assert events(page) == []

    page.get_by_test_id("connect-platform.recurly").click()
    Driver(page, SPECS["platform.recurly"], shots).run()
    assert events(page, "session_renewed")
    assert events(page, "error") == []
    assert [s["status"] for s in demo.sources(user)] == ["connected"]
