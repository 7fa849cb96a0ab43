"""Full connection flows from the demo site, for each kind of source type and each step driver."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver, events, popups

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("driver", ["stitchjs", "native"])
@pytest.mark.parametrize("source_type", list(SPECS))
def test_a_flow_connects_exactly_one_source_with_a_verified_receipt(
    stacks: Any, demo_for: Any, user: str, shots: Any, driver: str, source_type: str
) -> None:
    demo = demo_for(stacks(driver))
    page = demo.open(user)
    shots.take(page, "demo-page")
    connect = page.get_by_test_id(f"connect-{source_type}")
    if driver == "stitchjs":
        # The popup opens inside the click itself, before any network round trip.
        with page.expect_popup():
            connect.click()
    else:
        connect.click()
        first = next(iter(SPECS[source_type].properties))
        expect(
            page.get_by_test_id("stitch-bridge").get_by_test_id(f"property-{first}")
        ).to_be_visible()
        assert popups(page) == []

    Driver(page, SPECS[source_type], shots).run()

    [source] = demo.sources(user)
    assert (source["type"], source["status"]) == (source_type, "connected")
    row = page.get_by_test_id(f"connection-{source['id']}")
    expect(row).to_have_attribute("data-status", "connected")
    expect(page.locator('[data-testid="events"] > [data-type="connected"]')).to_have_attribute(
        "data-receipt", "valid"
    )
    expect(page.get_by_test_id("stitch-bridge")).to_be_hidden()
    assert events(page, "error") == []
    assert demo.csp_violations() == []
    shots.take(page, "connections")
