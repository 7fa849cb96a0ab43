"""Stitch.js and its popup in headless Chromium: a partner page on another origin loads the
emulator's `/stitch.js` and drives every flow through the popup, as a real page would."""

from __future__ import annotations

import json
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

pytestmark = pytest.mark.browser

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


@pytest.fixture(scope="module")
def stack(output_dir: Path) -> Iterator[Stack]:
    config = EmulatorConfig(check_delay=CHECK_DELAY)
    app = create_app(config, clock=Clock.frozen_at())
    shots = output_dir / "stitchjs"
    shots.mkdir(exist_ok=True)
    # Three origins: the emulator, the partner's page, and a stranger (another port of the same
    # site, so that Chromium still lets a page find the popup by its window name).
    with serve(app) as emulator, serve(opener_app()) as partner, serve(opener_app()) as foreign:
        yield Stack(emulator.url, partner.url, foreign.url, config.access_token, shots, count(1))


@pytest.fixture
def page(browser_context: Any, stack: Stack) -> Iterator[Any]:
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


def test_add_source_walks_form_check_and_streams_then_resolves(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    name = stack.unique("Recurly")
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").fill(name)
    by_id(popup, "property-start_date").fill("2018-01-10T00:00:00Z")
    by_id(popup, "property-api_key").fill("recurly-key")
    by_id(popup, "property-subdomain").fill("acme")
    by_id(popup, "property-quota_limit").fill("30")
    by_id(popup, "property-frequency_in_minutes").select_option("60")
    shot(stack, popup, "add-1-form")
    by_id(popup, "submit").click()

    expect(by_id(popup, "check-status")).to_have_text("running")
    shot(stack, popup, "add-2-check")
    stack.advance(CHECK_DELAY)
    wait_for_check_status(popup, "succeeded")
    expect(by_id(popup, "stream-accounts")).to_be_visible()
    by_id(popup, "stream-accounts").check()
    by_id(popup, "stream-invoices").check()
    shot(stack, popup, "add-3-streams")
    by_id(popup, "submit").click()

    result = outcome(page)
    assert result["resolved"]["type"] == "platform.recurly"
    source = stack.source(result["resolved"]["id"])
    assert source["display_name"] == name
    assert source["report_card"]["current_step_type"] == "fully_configured"
    assert source["properties"]["frequency_in_minutes"] == "60"
    assert "api_key" not in source["properties"]
    types = received_types(page)
    assert types[:1] == ["bootstrap"]
    assert types.index("connectionCreated") < types.index("integrationFlowCompleted")
    assert popup.is_closed()


def test_bad_properties_are_shown_next_to_their_inputs(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").fill(stack.unique("Recurly"))
    by_id(popup, "property-start_date").fill("2018-01-10 00:00:00")
    by_id(popup, "property-api_key").fill("recurly-key")
    by_id(popup, "property-subdomain").fill("acme")
    by_id(popup, "property-quota_limit").fill("thirty")
    by_id(popup, "submit").click()

    expect(by_id(popup, "error-start_date")).to_be_visible()
    expect(by_id(popup, "error-quota_limit")).to_be_visible()
    expect(by_id(popup, "error-subdomain")).to_have_count(0)
    shot(stack, popup, "bad-properties")
    assert "connectionCreated" not in received_types(page)

    by_id(popup, "property-start_date").fill("2018-01-10T00:00:00Z")
    by_id(popup, "property-quota_limit").fill("30")
    by_id(popup, "submit").click()
    expect(by_id(popup, "check-status")).to_be_visible()
    expect(by_id(popup, "error-start_date")).to_have_count(0)


def authorize_through_provider(popup: Any, decision: str) -> None:
    by_id(popup, "authorize").click()
    popup.wait_for_url("**/provider/authorize?**")
    by_id(popup, decision).click()
    popup.wait_for_url("**/v2/js-client")


def test_authorize_source_through_the_provider_after_a_denial(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    created = stack.create_hubspot()
    popup = start(
        page,
        "authorizeSource",
        {
            "id": created["id"],
            "ephemeral_token": stack.ephemeral_token(),
            "default_streams": {"contacts": True, "companies": True, "nonsense": True},
        },
    )
    expect(by_id(popup, "authorize")).to_be_visible()
    shot(stack, popup, "oauth-1-authorize")
    by_id(popup, "authorize").click()
    popup.wait_for_url("**/provider/authorize?**")
    expect(by_id(popup, "approve")).to_be_visible()
    shot(stack, popup, "oauth-2-consent")
    by_id(popup, "deny").click()

    expect(by_id(popup, "step-error")).to_be_visible()
    expect(by_id(popup, "authorize")).to_be_visible()
    shot(stack, popup, "oauth-3-denied")
    assert stack.source(created["id"])["report_card"]["current_step_type"] == "oauth"

    authorize_through_provider(popup, "approve")
    expect(by_id(popup, "check-status")).to_have_text("running")
    stack.advance(CHECK_DELAY)
    expect(by_id(popup, "stream-contacts")).to_be_visible()
    expect(by_id(popup, "stream-contacts")).to_be_checked()
    expect(by_id(popup, "stream-companies")).to_be_checked()
    expect(by_id(popup, "stream-deals")).not_to_be_checked()
    shot(stack, popup, "oauth-4-streams")
    by_id(popup, "submit").click()

    result = outcome(page)
    assert result == {"resolved": {"id": created["id"], "type": "platform.hubspot"}}
    source = stack.source(created["id"])
    assert source["report_card"]["current_step_type"] == "fully_configured"
    assert "refresh_token" not in source["properties"]
    types = received_types(page)
    assert "authorizeSuccess" in types and "authorizeFailure" not in types
    assert types.count("bootstrap") >= 3, "the popup bootstraps again after each round trip"


def test_only_authorize_source_settles_on_authorize_success(stack: Stack, page: Any) -> None:
    created = stack.create_hubspot()
    popup = start(
        page,
        "onlyAuthorizeSource",
        {"id": created["id"], "ephemeral_token": stack.ephemeral_token()},
    )
    authorize_through_provider(popup, "approve")
    assert outcome(page) == {"resolved": {"id": created["id"], "type": "platform.hubspot"}}
    assert stack.source(created["id"])["report_card"]["current_step_type"] != "oauth"


def test_closing_the_popup_rejects_with_app_closed_prematurely(stack: Stack, page: Any) -> None:
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").wait_for()
    popup.close()
    result = outcome(page)
    assert result == {
        "rejected": "AppClosedPrematurelyError",
        "message": "App closed before reaching end of flow.",
    }


def test_close_control_sends_integration_form_close(stack: Stack, page: Any) -> None:
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").wait_for()
    by_id(popup, "close").click()
    assert outcome(page)["rejected"] == "AppClosedPrematurelyError"
    assert "integrationFormClose" in received_types(page)
    assert popup.is_closed(), "Stitch.js closes the popup itself"


def test_used_ephemeral_token_rejects_with_upgrade_error(stack: Stack, page: Any) -> None:
    token = stack.ephemeral_token()
    exchanged = httpx.post(
        f"{stack.emulator}/v2/js-client/session", json={"ephemeral_token": token}
    )
    assert exchanged.status_code == 200
    popup = start(page, "addSource", {"type": "platform.recurly", "ephemeral_token": token})
    result = outcome(page)
    assert result == {
        "rejected": "UpgradeEphemeralTokenError",
        "message": "Error upgrading ephemeral token.",
    }
    assert popup.is_closed()


def test_unknown_source_and_type_reject_with_their_errors(stack: Stack, page: Any) -> None:
    start(page, "editSource", {"id": 987654, "ephemeral_token": stack.ephemeral_token()})
    assert outcome(page) == {
        "rejected": "SourceNotFoundError",
        "message": "Integration with id 987654 not found.",
    }
    page.evaluate("window.outcome = null")
    start(page, "addSource", {"type": "platform.nope", "ephemeral_token": stack.ephemeral_token()})
    assert outcome(page) == {
        "rejected": "UnknownSourceTypeError",
        "message": 'Unknown source type: "platform.nope".',
    }


def test_discovery_output_ends_when_the_check_screen_is_left(stack: Stack, page: Any) -> None:
    from playwright.sync_api import expect

    body = {
        "type": "platform.recurly",
        "display_name": stack.unique("Recurly"),
        "properties": {
            "start_date": "2018-01-10T00:00:00Z",
            "api_key": "k",
            "subdomain": "acme",
            "quota_limit": "30",
        },
    }
    created = stack.api("POST", "/v4/sources", json=body).json()
    assert created["report_card"]["current_step_type"] == "discover_schema"
    script = {"outcome": "failure", "source_id": created["id"]}
    scripted = stack.api("POST", "/_emulator/checks", json=script)
    assert scripted.status_code == 200, scripted.text
    job = created["check_job_name"]
    popup = start(
        page,
        "displayDiscoveryOutputForSource",
        {
            "id": created["id"],
            "discovery_job_name": job,
            "ephemeral_token": stack.ephemeral_token(),
        },
    )
    expect(by_id(popup, "check-status")).to_have_text("running")
    stack.advance(CHECK_DELAY)
    expect(by_id(popup, "check-status")).to_have_text("failed")
    expect(by_id(popup, "step-error")).to_be_visible()
    shot(stack, popup, "discover-failed")
    by_id(popup, "submit").click()
    assert outcome(page) == {"resolved": {"id": created["id"], "type": "platform.recurly"}}


def test_missing_options_throw_synchronously_with_the_vendor_messages(page: Any) -> None:
    messages = page.evaluate(
        """() => [
          () => Stitch.addSource({}),
          () => Stitch.editSource({}),
          () => Stitch.authorizeSource({id: 0}),
          () => Stitch.displayDiscoveryOutputForSource({id: 5}),
          () => Stitch.selectStreamsForSource({}),
        ].map((call) => { try { call(); return null; } catch (e) { return e.message; } })"""
    )
    assert messages == [
        "You must specify `options.type`",
        "You must specify `options.id`",
        "You must specify `options.id`",
        "You must specify `options.discovery_job_name`",
        "You must specify `options.id`",
    ]
    steps = page.evaluate("Stitch.STEPS")
    assert set(steps) == {
        "CREATE",
        "EDIT",
        "AUTHORIZE",
        "ONLY_AUTHORIZE",
        "DISCOVER",
        "SELECT_STREAMS",
    }


def test_stitchjs_ignores_events_from_the_popup_window_on_another_origin(
    stack: Stack, page: Any
) -> None:
    popup = start(
        page, "addSource", {"type": "platform.recurly", "ephemeral_token": stack.ephemeral_token()}
    )
    by_id(popup, "display-name").wait_for()
    # The same window, navigated to a foreign origin, posts a "completed" event to the opener.
    popup.goto(f"{stack.partner}/plain")
    forged = {"type": "integrationFlowCompleted", "data": {"id": 1, "type": "platform.recurly"}}
    popup.evaluate("([m, o]) => window.opener.postMessage(m, o)", [forged, stack.partner])
    page.wait_for_function(
        "window.everything.some((m) => m.data && m.data.type === 'integrationFlowCompleted')"
    )
    popup.close()
    assert outcome(page)["rejected"] == "AppClosedPrematurelyError"


def test_popup_ignores_update_from_a_foreign_origin(stack: Stack, browser_context: Any) -> None:
    from playwright.sync_api import expect

    partner = browser_context.new_page()
    partner.goto(f"{stack.partner}/plain")
    with partner.expect_popup() as popup_info:
        partner.evaluate(f"window.open('{stack.emulator}/v2/js-client', 'stitchpopup')")
    popup = popup_info.value
    popup.wait_for_load_state()

    def send_update_from(origin: str, token: str) -> None:
        context = {
            "version": 2,
            "additionalState": {"ephemeral_token": token},
            "targetState": {
                "name": "app.connections.create",
                "params": {"route": "platform.recurly"},
            },
        }
        payload = json.dumps({"type": "update", "data": context})
        query = httpx.QueryParams(target=stack.emulator, payload=payload)
        # Navigated by the page itself, as a script would: the tab stays in the popup's
        # browsing context group, so the popup can be found by name.
        with partner.expect_navigation():
            partner.evaluate(
                "(url) => { window.location.href = url; }", f"{origin}/foreign?{query}"
            )
        expect(partner.locator("body[data-sent=yes]")).to_have_count(1)
        assert len(browser_context.pages) == 2, "the named popup was found, not a new window"

    # The opener's tab, now on another origin, posts an `update`: ignored.
    forged_token = stack.ephemeral_token()
    send_update_from(stack.foreign, forged_token)
    popup.wait_for_timeout(1500)
    expect(by_id(popup, "display-name")).to_have_count(0)
    shot(stack, popup, "foreign-update-ignored")
    exchanged = httpx.post(
        f"{stack.emulator}/v2/js-client/session", json={"ephemeral_token": forged_token}
    )
    assert exchanged.status_code == 200, "the popup never used the forged context's token"

    # Back on the origin the popup was opened from, the same message is accepted.
    send_update_from(stack.partner, stack.ephemeral_token())
    expect(by_id(popup, "display-name")).to_be_visible()
