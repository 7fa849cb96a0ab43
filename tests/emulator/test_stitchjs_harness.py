"""Harness of the browser tests of Stitch.js and the popup (no tests here): the emulator on a
frozen clock, a partner page on a second origin that loads `<emulator>/stitch.js`, a third
origin for strangers, and helpers to start a call and read how its promise settled."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import count
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from stitch_emulator import Clock, EmulatorConfig, create_app
from tests.live import serve

TIMEOUT_MS = 15_000
CHECK_DELAY = 2.0
OPENER_JS = """
"use strict";
const emulator = new URL(document.querySelector("script[data-stitch]").src).origin;
window.received = [];
window.everything = [];
window.outcome = null;
window.pending = null;
window.addEventListener("message", (event) => {
  window.everything.push({ origin: event.origin, data: event.data });
  if (event.origin === emulator) { window.received.push(event.data); }
});
const ERRORS = ["SourceNotFoundError", "UnknownSourceTypeError", "AppClosedPrematurelyError",
  "UpgradeEphemeralTokenError", "AuthorizeFailureError"];
document.getElementById("go").addEventListener("click", () => {
  const { fn, options } = window.pending;
  try {
    window.Stitch[fn](options).then(
      (value) => { window.outcome = { resolved: value }; },
      (error) => {
        const kind = ERRORS.find((name) => error instanceof window.Stitch[name]) || null;
        window.outcome = { rejected: kind, message: error.message };
      });
  } catch (error) {
    window.outcome = { thrown: error.message };
  }
});
"""
FOREIGN_JS = """
"use strict";
const target = new URLSearchParams(location.search).get("target");
const payload = JSON.parse(new URLSearchParams(location.search).get("payload"));
const popup = window.open("", "stitchpopup");
popup.postMessage(payload, target);
document.body.dataset.sent = "yes";
"""


def opener_app() -> Starlette:
    """The partner's page: loads the emulator's stitch.js and offers one button to run a call."""

    async def opener(request: Request) -> Response:
        emulator = request.query_params["emulator"]
        return HTMLResponse(
            "<!doctype html><html><head><title>Partner</title></head><body>"
            '<button id="go" type="button">Connect</button>'
            f'<script data-stitch src="{emulator}/stitch.js"></script>'
            '<script src="/opener.js"></script></body></html>'
        )

    async def foreign(request: Request) -> Response:
        return HTMLResponse(
            "<!doctype html><html><body><p>foreign</p>"
            '<script src="/foreign.js"></script></body></html>'
        )

    async def plain_opener(request: Request) -> Response:
        return HTMLResponse("<!doctype html><html><body><p>partner</p></body></html>")

    def script(source: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return Response(source, media_type="text/javascript")

        return endpoint

    return Starlette(
        routes=[
            Route("/opener", opener),
            Route("/opener.js", script(OPENER_JS)),
            Route("/foreign", foreign),
            Route("/foreign.js", script(FOREIGN_JS)),
            Route("/plain", plain_opener),
        ]
    )


@dataclass
class Stack:
    emulator: str
    partner: str
    foreign: str
    token: str
    output_dir: Path
    names: Iterator[int]

    def api(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.request(method, self.emulator + path, headers=headers, timeout=10, **kwargs)

    def ephemeral_token(self) -> str:
        answer = self.api("POST", "/v3/sessions/ephemeral")
        assert answer.status_code == 200, answer.text
        return str(answer.json()["ephemeral_token"])

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock, e.g. past a connection check's delay."""
        answer = httpx.post(f"{self.emulator}/_emulator/clock", json={"advance": seconds})
        assert answer.status_code == 200, answer.text

    def unique(self, stem: str) -> str:
        return f"{stem} {next(self.names)}"

    def source(self, source_id: int) -> dict[str, Any]:
        answer = self.api("GET", f"/v4/sources/{source_id}")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def create_hubspot(self) -> dict[str, Any]:
        body = {
            "type": "platform.hubspot",
            "display_name": self.unique("HubSpot"),
            "properties": {"start_date": "2017-01-01T00:00:00Z"},
        }
        answer = self.api("POST", "/v4/sources", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["report_card"]["current_step_type"] == "oauth"
        return dict(answer.json())


@pytest.fixture(scope="module", name="stack")
def stack_fixture(output_dir: Path) -> Iterator[Stack]:
    config = EmulatorConfig(check_delay=CHECK_DELAY)
    app = create_app(config, clock=Clock.frozen_at())
    shots = output_dir / "stitchjs"
    shots.mkdir(exist_ok=True)
    # Three origins: the emulator, the partner's page, and a stranger (another port of the same
    # site, so that Chromium still lets a page find the popup by its window name).
    with serve(app) as emulator, serve(opener_app()) as partner, serve(opener_app()) as foreign:
        yield Stack(emulator.url, partner.url, foreign.url, config.access_token, shots, count(1))


@pytest.fixture(name="page")
def page_fixture(browser_context: Any, stack: Stack) -> Iterator[Any]:
    """The partner's page; afterwards, no page may have hit a script error or the CSP."""
    problems: list[str] = []
    browser_context.on("weberror", lambda error: problems.append(str(error.error)))
    browser_context.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    browser_context.set_default_timeout(TIMEOUT_MS)
    opener = browser_context.new_page()
    opener.goto(f"{stack.partner}/opener?emulator={stack.emulator}")
    opener.wait_for_function("window.Stitch !== undefined && window.received !== undefined")
    yield opener
    assert problems == []


def start(page: Any, fn: str, options: dict[str, Any]) -> Any:
    """Click the partner's button that calls `Stitch[fn](options)`; returns the popup page."""
    page.evaluate("(pending) => { window.pending = pending; }", {"fn": fn, "options": options})
    with page.expect_popup() as popup_info:
        page.click("#go")
    popup = popup_info.value
    popup.wait_for_load_state()
    return popup


def outcome(page: Any) -> dict[str, Any]:
    page.wait_for_function("window.outcome !== null", timeout=TIMEOUT_MS)
    return dict(page.evaluate("window.outcome"))


def received_types(page: Any) -> list[str]:
    return [m.get("type") for m in page.evaluate("window.received")]


def shot(stack: Stack, popup: Any, name: str) -> None:
    popup.screenshot(path=str(stack.output_dir / f"{name}.png"), full_page=True)


def wait_for_check_status(popup: Any, status: str) -> None:
    # Polled every animation frame: "succeeded" shows for under a second before moving on.
    popup.wait_for_function(
        "(s) => document.querySelector('[data-testid=check-status]')?.textContent === s", arg=status
    )


def by_id(popup: Any, testid: str) -> Any:
    return popup.get_by_test_id(testid)


def authorize_through_provider(popup: Any, decision: str) -> None:
    by_id(popup, "authorize").click()
    popup.wait_for_url("**/provider/authorize?**")
    by_id(popup, decision).click()
    popup.wait_for_url("**/v2/js-client")
