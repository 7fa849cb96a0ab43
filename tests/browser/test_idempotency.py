"""Impatient people: a double click, or the same connect in two tabs, makes one source."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver, after_the_form_or_oauth, popups

pytestmark = pytest.mark.browser


def test_a_double_click_on_connect_opens_one_popup_and_makes_one_source(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("stitchjs"))
    page = demo.open(user)
    with page.expect_popup():
        page.get_by_test_id("connect-platform.recurly").dblclick()
    page.wait_for_timeout(500)
    assert len(popups(page)) == 1
    Driver(page, SPECS["platform.recurly"], shots).run()
    assert len(demo.sources(user)) == 1


def test_a_double_click_on_the_native_submit_makes_one_source(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page = demo.open(user)
    page.get_by_test_id("connect-platform.recurly").dblclick()
    widget = page.get_by_test_id("stitch-bridge")
    for name, value in SPECS["platform.recurly"].properties.items():
        widget.get_by_test_id(f"property-{name}").fill(value)
    widget.get_by_test_id("submit").dblclick()
    expect(after_the_form_or_oauth(widget)).to_be_visible()
    Driver(page, SPECS["platform.recurly"], shots).run()
    assert len(demo.sources(user)) == 1
    assert page.locator('[data-testid^="connection-"]').count() == 1


@pytest.mark.parametrize("driver", ["stitchjs", "native"])
def test_the_same_connect_in_two_tabs_makes_one_source(
    stacks: Any, demo_for: Any, user: str, shots: Any, driver: str
) -> None:
    demo = demo_for(stacks(driver))
    first, second = demo.open(user), demo.open(user)
    for tab in (first, second):
        tab.bring_to_front()
        if driver == "stitchjs":
            with tab.expect_popup():
                tab.get_by_test_id("connect-platform.recurly").click()
        else:
            tab.get_by_test_id("connect-platform.recurly").click()
    # Each tab finishes its own flow; the bridge makes them one source.
    Driver(first, SPECS["platform.recurly"], shots).run()
    Driver(second, SPECS["platform.recurly"], shots).run()
    sources = demo.sources(user)
    assert [s["status"] for s in sources] == ["connected"]
    for tab in (first, second):
        tab.reload()
        expect(tab.get_by_test_id("connections")).to_have_attribute("data-state", "ready")
        assert tab.locator('[data-testid^="connection-"]').count() == 1
