"""The widget is a modal dialog a person can use with the keyboard alone (WAI-ARIA dialog
pattern): Tab stays inside it, Escape cancels it, and focus goes back to what opened it."""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, events

pytestmark = pytest.mark.browser

RECURLY = "platform.recurly"
OPENER = f"connect-{RECURLY}"
# The focused element: its test id (or tag), and whether it is inside the widget's dialog.
FOCUSED = """() => {
  const el = document.activeElement;
  const root = document.querySelector('#stitch-bridge-container [data-testid="stitch-bridge"]');
  return {
    id: el ? (el.dataset.testid || el.tagName.toLowerCase()) : null,
    inside: Boolean(root && el && root.contains(el)),
    checked: Boolean(el && el.checked),
  };
}"""


def focused(page: Any) -> dict[str, Any]:
    answer: dict[str, Any] = page.evaluate(FOCUSED)
    return answer


def tab_to(page: Any, testid: str, *, limit: int = 40) -> None:
    """Presses Tab until the element with `testid` has focus."""
    for _ in range(limit):
        if focused(page)["id"] == testid:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{limit} presses of Tab never reached {testid}")


def open_by_keyboard(demo: Any, user: str) -> tuple[Any, Any]:
    page = demo.open(user)
    tab_to(page, OPENER)
    page.keyboard.press("Enter")
    widget = page.get_by_test_id("stitch-bridge")
    expect(widget.get_by_test_id("property-api_key")).to_be_visible()
    expect(widget.get_by_test_id("display-name")).to_be_focused()
    return page, widget


def test_a_recurly_source_connects_with_the_keyboard_alone(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page, widget = open_by_keyboard(demo, user)
    spec = SPECS[RECURLY]
    for name, value in spec.properties.items():
        tab_to(page, f"property-{name}")
        page.keyboard.type(value)
    shots.take(page, "form-filled")
    tab_to(page, "submit")
    page.keyboard.press("Enter")

    # The check passes and moves on by itself; then the streams, chosen with Space.
    expect(widget.get_by_test_id(f"stream-{spec.streams[0]}")).to_be_visible(timeout=30_000)
    assert focused(page)["inside"], "focus left the dialog when the panel changed"
    for stream in spec.streams:
        tab_to(page, f"stream-{stream}")
        if not focused(page)["checked"]:
            page.keyboard.press("Space")
        assert focused(page)["checked"]
    shots.take(page, "streams-chosen")
    tab_to(page, "submit")
    page.keyboard.press("Enter")

    [source] = demo.sources(user)
    row = page.get_by_test_id(f"connection-{source['id']}")
    expect(row).to_have_attribute("data-status", "connected", timeout=30_000)
    expect(widget).to_be_hidden()
    expect(page.get_by_test_id(OPENER)).to_be_focused()
    shots.take(page, "connected")


def test_tab_and_shift_tab_cycle_inside_the_dialog(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page, widget = open_by_keyboard(demo, user)
    forward = []
    for _ in range(20):  # more than the form has controls: it must wrap round
        page.keyboard.press("Tab")
        now = focused(page)
        assert now["inside"], f"Tab left the dialog for {now['id']} after {forward}"
        forward.append(now["id"])
    # Last control, then round to the first (the close button in the panel's head).
    wrap = forward.index("submit")
    assert forward[wrap + 1] == "close", forward
    assert {"display-name", "property-api_key", "property-quota_limit"} <= set(forward)

    tab_to(page, "close")
    page.keyboard.press("Shift+Tab")
    assert focused(page)["id"] == "submit"
    backward = []
    for _ in range(20):
        page.keyboard.press("Shift+Tab")
        now = focused(page)
        assert now["inside"], f"Shift+Tab left the dialog for {now['id']} after {backward}"
        backward.append(now["id"])
    assert set(backward) == set(forward)
    shots.take(page, "still-inside")
    expect(widget.get_by_test_id("property-api_key")).to_be_visible()


def test_escape_cancels_and_gives_focus_back_to_the_opener(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    demo = demo_for(stacks("native"))
    page, widget = open_by_keyboard(demo, user)
    # A second connect() of the same type joins the running flow: its promise is the flow's.
    page.evaluate(
        """(type) => {
          window.__outcome = null;
          window.acmeDemo.bridge.connect({type}).then(
            () => { window.__outcome = "resolved"; },
            (err) => { window.__outcome = err.name; });
        }""",
        RECURLY,
    )
    tab_to(page, "property-subdomain")
    page.keyboard.type("acme")
    page.keyboard.press("Escape")

    expect(widget).to_be_hidden()
    expect(page.get_by_test_id("events").locator('[data-type="cancelled"]')).to_have_count(1)
    expect(page.get_by_test_id(OPENER)).to_be_focused()
    deadline = time.monotonic() + 10
    while page.evaluate("window.__outcome") is None and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.evaluate("window.__outcome") == "CancelledError"
    assert events(page, "error") == []
    shots.take(page, "cancelled")
    # Escape on the page with no dialog open does nothing more.
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("events").locator('[data-type="cancelled"]')).to_have_count(1)
