"""Reconnect: a flow left half-way is finished later from the connections list, same source."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver, events, popups

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("driver", ["stitchjs", "native"])
def test_a_flow_closed_at_stream_selection_is_finished_by_reconnect(
    stacks: Any, demo_for: Any, user: str, shots: Any, driver: str
) -> None:
    demo = demo_for(stacks(driver))
    page = demo.open(user)
    spec = SPECS["platform.recurly"]
    if driver == "stitchjs":
        with page.expect_popup() as opened:
            page.get_by_test_id("connect-platform.recurly").click()
        surface = opened.value
    else:
        page.get_by_test_id("connect-platform.recurly").click()
        surface = page.get_by_test_id("stitch-bridge")
    for name, value in spec.properties.items():
        surface.get_by_test_id(f"property-{name}").fill(value)
    surface.get_by_test_id("submit").click()
    expect(surface.get_by_test_id(f"stream-{spec.streams[0]}")).to_be_visible()
    shots.take(page if driver == "native" else opened.value, "streams-before-closing")
    surface.get_by_test_id("close").click()

    expect(page.locator('[data-testid="events"] > [data-type="cancelled"]')).to_have_count(1)
    [source] = demo.sources(user)
    assert source["status"] == "needs_input"
    row = page.get_by_test_id(f"connection-{source['id']}")
    expect(row).to_have_attribute("data-status", "needs_input")
    expect(page.get_by_test_id("stitch-bridge")).to_be_hidden()
    assert popups(page) == []

    page.get_by_test_id(f"reconnect-{source['id']}").click()
    Driver(page, spec, shots).run()
    assert [(s["id"], s["status"]) for s in demo.sources(user)] == [(source["id"], "connected")]
    expect(row).to_have_attribute("data-status", "connected")
    assert not any("error" in e for e in events(page, "error"))
