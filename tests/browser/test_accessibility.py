"""axe-core finds no accessibility violation on the demo page, on it with the widget's form open
(the dialog), or on the bridge's /docs page."""

from __future__ import annotations

import os
from typing import Any

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

try:
    from axe_playwright_python.sync_playwright import Axe
except ImportError:  # like Chromium: skipped locally without it, never in CI
    if os.environ.get("CI") == "true":
        raise
    pytest.skip(
        "axe checks need axe-playwright-python (pip install -e '.[dev]')", allow_module_level=True
    )


def violations(page: Any) -> list[str]:
    found = Axe().run(page).response["violations"]
    return [f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']]}" for v in found]


def test_the_demo_and_the_widget_form_have_no_violation(
    stacks: Any, demo_for: Any, other_context: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    # axe-core injects inline styles, which the demo's strict CSP rightly refuses (and reports):
    # this browser does not enforce the CSP, so only axe's findings count here. The CSP itself
    # is held by every other browser test.
    page = demo.open(user, context=other_context(bypass_csp=True))
    assert violations(page) == []
    page.get_by_test_id("connect-platform.recurly").click()
    widget = page.get_by_test_id("stitch-bridge")
    expect(widget.get_by_test_id("property-api_key")).to_be_visible()
    shots.take(page, "form-open")
    assert violations(page) == []


def test_the_docs_page_has_no_violation(stacks: Any, browser_context: Any) -> None:
    page = browser_context.new_page()
    page.goto(f"{stacks('native').bridge_url}/docs")
    expect(page.locator("h1").first).to_be_visible()
    assert violations(page) == []
