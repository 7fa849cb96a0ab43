"""Drives a connection flow through whichever surface shows the next step.

A step may show in the widget's own panel (native driver), in the Stitch.js popup, or at the fake
OAuth provider; the driver can change from one step to the next. Only the contract's
`data-testid` names (CONTRACT §8) are used, so this works against any markup.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect


@dataclass
class Shots:
    """Numbered screenshots of one test, under test-output/browser/<test>/."""

    folder: Path
    count: int = 0
    taken: list[Path] = field(default_factory=list)

    def take(self, page: Any, label: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{label}.png"
        with contextlib.suppress(Exception):  # a popup may close under us; the test goes on
            page.screenshot(path=str(path))
            self.taken.append(path)
        return path


@dataclass(frozen=True)
class FlowSpec:
    type: str
    properties: dict[str, str]
    streams: tuple[str, ...]


SPECS = {
    "platform.hubspot": FlowSpec(
        "platform.hubspot", {"start_date": "2017-01-01T00:00:00Z"}, ("contacts", "deals")
    ),
    "platform.recurly": FlowSpec(
        "platform.recurly",
        {
            "start_date": "2018-01-10T00:00:00Z",
            "api_key": "recurly-secret-key",
            "subdomain": "acme",
            "quota_limit": "30",
        },
        ("accounts", "invoices"),
    ),
    "platform.hp-postgres": FlowSpec(
        "platform.hp-postgres",
        {
            "host": "db.acme.example",
            "port": "5432",
            "user": "acme",
            "password": "pg-secret",
            "dbname": "analytics",
        },
        ("demni2mf59dt10-public-customers",),
    ),
}


def events(page: Any, kind: str | None = None) -> list[str]:
    """Text of the demo's event-panel entries (of one type, or all)."""
    selector = '[data-testid="events"] > *'
    if kind:
        selector += f'[data-type="{kind}"]'
    return page.locator(selector).all_inner_texts()


def event_types(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        '[data-testid="events"] > *', "items => items.map(i => i.dataset.type)"
    )


def popups(page: Any) -> list[Any]:
    """The open windows that `page` opened (not other tabs of the same browser)."""
    return [p for p in page.context.pages if not p.is_closed() and p.opener() == page]


def after_the_form_or_oauth(widget: Any) -> Any:
    """What the widget shows once the form or OAuth is done: the connection check or, when the
    check (half a second here) ended before the page drew it on a loaded machine, the stream
    selection that follows it. Either shows the flow went on."""
    return (
        widget.get_by_test_id("check-status").or_(widget.locator('[data-testid^="stream-"]')).first
    )


# Which screen a surface (the widget's root, or a popup's document) shows right now.
SCREEN_OF = """(node, isWidget) => {
  const root = node;
  const has = (prefix) => root.querySelector(`[data-testid^="${prefix}"]`) !== null;
  if (has("property-")) return "form";
  if (has("stream-")) return "streams";
  if (has("check-status")) return "check";
  return isWidget ? "continue" : "other";
}"""
MARK_ONCE = """(node, wanted) => {
  const root = node;
  const has = (prefix) => root.querySelector(`[data-testid^="${prefix}"]`) !== null;
  const screen = has("property-") ? "form" : has("stream-") ? "streams"
    : has("check-status") ? "check" : "continue";
  const submits = root.querySelectorAll('[data-testid="submit"]');
  const submit = submits[submits.length - 1];
  if (screen !== wanted || !submit || submit.dataset.driven) return false;
  submit.dataset.driven = "1";
  return true;
}"""


@dataclass
class Driver:
    """Acts on what is on screen until the demo page logs `connected` (or `finished` says so,
    on pages without the demo's events panel, such as a hosted link)."""

    page: Any
    spec: FlowSpec
    shots: Shots
    done_marks: set[str] = field(default_factory=set)
    finished: Callable[[], str | None] | None = None

    def run(self, timeout: float = 45.0) -> str:
        deadline = time.monotonic() + timeout
        known_errors = self._errors_so_far(deadline)
        while time.monotonic() < deadline:
            try:
                done = self.finished() if self.finished else self._connected()
                errors = events(self.page, "error")[known_errors:]
            except PlaywrightError:  # the page is navigating (redirect mode): look again
                self.page.wait_for_timeout(100)
                continue
            if done:
                self.shots.take(self.page, "connected")
                return done
            if errors and "bad_properties" not in errors[-1]:
                raise AssertionError(f"the widget reported an error: {errors[-1]}")
            if not self.step():
                self.page.wait_for_timeout(100)
        raise AssertionError(f"not connected in {timeout}s; events: {events(self.page)}")

    def _errors_so_far(self, deadline: float) -> int:
        while True:
            try:
                return len(events(self.page, "error"))
            except PlaywrightError:  # the page is navigating (redirect mode): look again
                if time.monotonic() >= deadline:
                    raise
                self.page.wait_for_timeout(100)

    def _connected(self) -> str | None:
        connected = events(self.page, "connected")
        return connected[-1] if connected else None

    def step(self) -> bool:
        """Acts once on the newest surface that asks for something; False when none does."""
        try:
            # Redirect mode: the page itself went to the provider's consent screen.
            approve = self.page.get_by_test_id("approve")
            if approve.count() and approve.is_visible():
                self.shots.take(self.page, "page-consent")
                approve.click()
                return True
        except PlaywrightError:
            return False
        for popup in reversed(popups(self.page)):
            try:
                if self.act(popup, popup.locator("body"), "popup"):
                    return True
            except PlaywrightTimeout:  # its screen changed while we looked; look again
                continue
            except Exception:  # the popup closed while we looked; look again next round
                if not popup.is_closed():
                    raise
        root = self.page.get_by_test_id("stitch-bridge")
        try:
            return self.act(self.page, root, "widget")
        except PlaywrightTimeout:  # the panel changed while we looked; look again next round
            return False
        except PlaywrightError:  # the page navigated away (redirect mode); look again
            return False

    def act(self, page: Any, surface: Any, where: str) -> bool:
        approve = surface.get_by_test_id("approve")
        if approve.count() and approve.is_visible():
            self.shots.take(page, "provider-consent")
            approve.click()
            return True
        authorize = surface.get_by_test_id("authorize")
        if authorize.count() and authorize.is_visible() and authorize.is_enabled():
            # The widget keeps its button after opening the sign-in window: click it once.
            if where == "widget" and popups(self.page):
                return False
            self.shots.take(page, f"{where}-authorize")
            authorize.click()
            return True
        submit = surface.get_by_test_id("submit").last
        if not (submit.count() and submit.is_visible() and submit.is_enabled(timeout=1000)):
            return False
        # The screen is read and its submit marked in one step in the page: a panel replaced
        # between two separate looks would otherwise be taken for the wrong screen.
        screen = surface.evaluate(SCREEN_OF, where == "widget")
        if screen == "form":
            return self.fill_form(page, surface, submit, where)
        if screen == "streams":
            return self.pick_streams(page, surface, submit, where)
        if screen == "continue" and not popups(self.page) and self.once(surface, "continue"):
            # The widget's "continue in Stitch" screen: a click opens the next popup.
            self.shots.take(page, "widget-continue")
            submit.click()
            return True
        return False  # the check screen: it moves on by itself

    def once(self, surface: Any, screen: str) -> bool:
        """Marks the screen's submit as used (if it still is that screen), never twice."""
        return surface.evaluate(MARK_ONCE, screen)

    def fill_form(self, page: Any, surface: Any, submit: Any, where: str) -> bool:
        filled = False
        for name, value in self.spec.properties.items():
            control = surface.get_by_test_id(f"property-{name}")
            if control.count() and control.is_enabled():
                control.fill(value)
                filled = True
        if not filled or not self.once(surface, "form"):
            return False
        self.shots.take(page, f"{where}-form")
        submit.click()
        return True

    def pick_streams(self, page: Any, surface: Any, submit: Any, where: str) -> bool:
        for stream in self.spec.streams:
            surface.get_by_test_id(f"stream-{stream}").check()
        if not self.once(surface, "streams"):
            return False
        self.shots.take(page, f"{where}-streams")
        submit.click()
        return True


def hubspot_to_oauth_step(page: Any) -> Any:
    """Start a HubSpot connection on the demo page and fill its form: the widget at `authorize`."""
    page.get_by_test_id("connect-platform.hubspot").click()
    widget = page.get_by_test_id("stitch-bridge")
    widget.get_by_test_id("property-start_date").fill("2017-01-01T00:00:00Z")
    widget.get_by_test_id("submit").click()
    expect(widget.get_by_test_id("authorize")).to_be_visible()
    return widget
