"""Browser-test fixtures: running stacks (emulator + bridge + demo site), demo pages, screenshots."""

from __future__ import annotations

import contextlib
import re
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridge.demo import Stack, start_stack
from tests.browser.flows import Shots

# Fast checks keep the suite to a few minutes; the demo command uses the emulator's 2 s.
CHECK_DELAY = 0.5

# Records CSP violations as the page sees them (the demo's report endpoint is checked too).
CSP_PROBE = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push({directive: e.violatedDirective, blocked: e.blockedURI});
});
"""


class MovableClock:
    """Real time plus an offset a test moves forward: the bridge runs in real time (the browser
    and the emulator do too) until a test needs it later, e.g. past a link's expiry."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture(scope="session")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Stack]]:
    """Stacks by configuration, started on first use and shared by the session's tests.

    `movable_clock=True` gives a stack of its own whose `bridge_clock` is a `MovableClock`
    (moving the clock of a shared stack would change other tests' world)."""
    running: dict[tuple[Any, ...], Stack] = {}
    with contextlib.ExitStack() as exits:

        def get(
            driver: str,
            *,
            session_ttl: int = 900,
            white_label_oauth: bool = True,
            movable_clock: bool = False,
        ) -> Stack:
            key = (driver, session_ttl, white_label_oauth, movable_clock)
            if key not in running:
                data_dir = tmp_path_factory.mktemp(f"stack-{driver}")
                running[key] = exits.enter_context(
                    start_stack(
                        data_dir,
                        step_driver=driver,  # type: ignore[arg-type]
                        check_delay=CHECK_DELAY,
                        session_ttl=session_ttl,
                        persist=False,
                        white_label_oauth=white_label_oauth,
                        bridge_clock=MovableClock() if movable_clock else None,
                    )
                )
            return running[key]

        yield get


@pytest.fixture
def shots(output_dir: Path, request: pytest.FixtureRequest) -> Shots:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name).strip("-")
    folder = output_dir / "browser" / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.png"):
        old.unlink()
    return Shots(folder)


@pytest.fixture
def user() -> str:
    """A fresh end user per test, so tests sharing a stack never see each other's sources."""
    return f"u{uuid.uuid4().hex[:10]}"


@dataclass
class Demo:
    """The demo site open in a browser, and what a test asks of it."""

    stack: Stack
    context: Any
    pages: list[Any] = field(default_factory=list)

    def open(self, user: str, *, mode: str | None = None, context: Any = None) -> Any:
        """The demo page for `user` (its widget in `mode`, when given), in this test's browser
        context or in `context` (another browser, as far as the bridge can tell)."""
        page = self.new_page(context)
        page.goto(f"{self.stack.demo_url}/?user={user}" + (f"&mode={mode}" if mode else ""))
        self.wait_ready(page)
        return page

    def new_page(self, context: Any = None) -> Any:
        """A page whose CSP violations are checked after the test (whatever it opens)."""
        page = (context or self.context).new_page()
        self.pages.append(page)
        return page

    @staticmethod
    def wait_ready(page: Any) -> None:
        from playwright.sync_api import expect

        expect(page.get_by_test_id("connections")).to_have_attribute("data-state", "ready")
        expect(page.locator("button.connect").first).to_be_enabled()

    def sources(self, user: str) -> list[dict[str, Any]]:
        answer = httpx.get(
            f"{self.stack.bridge_url}/v1/end-users/{user}/sources",
            headers={"Authorization": f"Bearer {self.stack.api_key}"},
            timeout=10,
        )
        answer.raise_for_status()
        return [s for s in answer.json()["data"] if s["status"] != "deleted"]

    def csp_violations(self) -> list[Any]:
        seen: list[Any] = []
        for page in self.pages:
            if not page.is_closed():
                seen.extend(page.evaluate("window.__cspViolations || []"))
        reported = httpx.get(f"{self.stack.demo_url}/csp-reports", timeout=10).json()["data"]
        return seen + reported


@pytest.fixture
def other_context(chromium: Any) -> Iterator[Callable[..., Any]]:
    """More browser contexts for one test (another browser, an in-app browser's user agent),
    with the same CSP probe as the test's own; all closed after the test."""
    made: list[Any] = []

    def make(**options: Any) -> Any:
        context = chromium.new_context(**options)
        context.add_init_script(CSP_PROBE)
        context.set_default_timeout(15_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def demo_for(browser_context: Any, other_context: Any) -> Iterator[Callable[[Stack], Demo]]:
    """Opens demo pages on a stack; after the test, asserts that no page broke its CSP (pages
    of `other_context` too: it is torn down after this check, hence the dependency)."""
    browser_context.add_init_script(CSP_PROBE)
    browser_context.set_default_timeout(15_000)
    made: list[Demo] = []

    def make(stack: Stack) -> Demo:
        demo = Demo(stack, browser_context)
        made.append(demo)
        return demo

    yield make
    for demo in made:
        assert demo.csp_violations() == []
