"""The widget's own form (native driver): labels, Stitch's per-property errors, then success."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver

pytestmark = pytest.mark.browser


def test_a_rejected_property_is_shown_next_to_its_input_and_can_be_fixed(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page = demo.open(user)
    page.get_by_test_id("connect-platform.recurly").click()
    widget = page.get_by_test_id("stitch-bridge")
    spec = SPECS["platform.recurly"]
    for name, value in spec.properties.items():
        widget.get_by_test_id(f"property-{name}").fill(value)
    widget.get_by_test_id("property-start_date").fill("next tuesday")
    widget.get_by_test_id("submit").click()

    error = widget.get_by_test_id("error-start_date")
    expect(error).to_be_visible()
    expect(error).not_to_be_empty()
    expect(widget.get_by_test_id("error-subdomain")).to_be_hidden()
    expect(widget.get_by_test_id("property-start_date")).to_have_value("next tuesday")
    shots.take(page, "bad-property")
    assert all(s["status"] == "needs_input" for s in demo.sources(user))

    widget.get_by_test_id("property-start_date").fill(spec.properties["start_date"])
    widget.get_by_test_id("submit").click()
    expect(error).to_be_hidden()
    Driver(page, spec, shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def test_the_form_offers_only_the_schedules_an_end_user_may_choose(
    stacks: Any, demo_for: Any, user: str
) -> None:
    demo = demo_for(stacks("native"))
    page = demo.open(user)
    page.get_by_test_id("connect-platform.recurly").click()
    widget = page.get_by_test_id("stitch-bridge")
    frequency = widget.get_by_test_id("property-frequency_in_minutes")
    expect(frequency).to_be_attached()
    values = frequency.locator("option").evaluate_all("options => options.map(o => o.value)")
    assert values == ["", "30", "60", "360", "720", "1440"], "no 1-minute schedule on offer"
    expect(widget.get_by_test_id("property-cron_expression")).to_have_count(0)
    expect(widget.get_by_test_id("property-anchor_time")).to_have_count(0)
