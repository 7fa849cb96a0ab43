"""Redirect mode (CONTRACT §4.7): steps that leave the page navigate it instead of opening a
popup, and `resume()` finishes the flow back on the SaaS page; the widget switches to it by
itself after a blocked popup or in an in-app browser."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.flows import (
    SPECS,
    Driver,
    after_the_form_or_oauth,
    hubspot_to_oauth_step,
    popups,
)

pytestmark = pytest.mark.browser

RESUME = "stitch_bridge_resume"
BLOCK_POPUPS = "window.open = () => null;"
# Widget events kept across the page's navigations (the demo's panel starts empty on each load).
KEEP_EVENTS = """() => {
  window.acmeDemo.bridge.on("event", (e) => {
    const kept = JSON.parse(sessionStorage.getItem("kept-events") || "[]");
    kept.push({type: e.type, mode: e.mode || null, reason: e.reason || null});
    sessionStorage.setItem("kept-events", JSON.stringify(kept));
  });
}"""


def _record_navigations(page: Any) -> list[str]:
    """Every URL the page's main frame was sent to, redirects included."""
    seen: list[str] = []
    page.on(
        "request",
        lambda request: (
            seen.append(request.url)
            if request.is_navigation_request() and request.frame == page.main_frame
            else None
        ),
    )
    return seen


def test_redirect_mode_goes_to_the_provider_and_back_and_resumes_once(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    page = demo.open(user, mode="redirect")
    navigations = _record_navigations(page)
    widget = hubspot_to_oauth_step(page)
    shots.take(page, "authorize")
    widget.get_by_test_id("authorize").click()

    # The page itself goes to the provider: no popup. Denied first: back with the step's
    # error and `authorize` again; then granted.
    page.wait_for_url(re.compile(r"/provider/authorize"))
    assert popups(page) == []
    page.get_by_test_id("deny").click()
    page.wait_for_url(f"{stack.demo_url}/**")
    expect(widget.get_by_test_id("step-error")).to_be_visible()
    shots.take(page, "denied")
    widget.get_by_test_id("authorize").click()
    page.wait_for_url(re.compile(r"/provider/authorize"))
    shots.take(page, "consent")
    page.get_by_test_id("approve").click()

    # Back on the demo page, which resumes the flow: check, stream selection, connected.
    page.wait_for_url(f"{stack.demo_url}/**")
    expect(after_the_form_or_oauth(page.get_by_test_id("stitch-bridge"))).to_be_visible()
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]
    connected = page.locator('[data-testid="events"] > [data-type="connected"]')
    expect(connected).to_have_attribute("data-receipt", "valid")  # the demo verified it

    # The address carried an opaque id only, and the widget took it out of the address bar.
    returns = [url for url in navigations if RESUME in url]
    assert len(returns) == 2  # the denial, then the grant
    query = parse_qs(urlsplit(returns[-1]).query)
    assert set(query) == {"user", "mode", RESUME}
    assert query[RESUME][0].startswith("rs_") and len(query[RESUME][0]) < 100
    assert RESUME not in page.url
    assert parse_qs(urlsplit(page.url).query) == {"user": [user], "mode": ["redirect"]}

    # The same resume address again (a reload from history, a leaked link) is refused.
    page.goto(returns[-1])
    demo.wait_ready(page)
    expect(page.locator('[data-testid="events"] > [data-type="error"]')).to_contain_text(
        "token_used"
    )
    shots.take(page, "replayed")
    assert RESUME not in page.url
    # The page's own resume() call: nothing to do without an id; a used id is a typed refusal.
    assert page.evaluate("window.acmeDemo.bridge.resume()") is None
    page.evaluate("(url) => history.replaceState(null, '', url)", returns[-1])
    rejected = page.evaluate(
        """() => window.acmeDemo.bridge.resume().then(
             () => null, (err) => ({name: err.name, code: err.code}))"""
    )
    assert rejected == {"name": "SourceError", "code": "token_used"}
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def test_a_return_url_off_the_allowed_origins_is_refused_before_anything_navigates(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    page = demo.open(user)
    widget = hubspot_to_oauth_step(page)
    widget.get_by_test_id("close").click()
    source_id = demo.sources(user)[0]["id"]
    host = urlsplit(stack.demo_url).netloc
    forms = [
        "https://evil.example/back",
        "//evil.example/back",
        f"http://{host}@evil.example/back",
        f"http://{host.split(':')[0]}.evil.example/",
        f"{stack.demo_url.replace('http://', 'https://')}/back",
    ]
    outcomes = page.evaluate(
        """async ([forms, sourceId]) => {
          const token = document.querySelector('meta[name="acme-user"]').content;
          const fetchSession = async () => (await fetch("/api/stitch-session", {
            method: "POST", body: JSON.stringify({source_id: sourceId}),
            headers: {"Content-Type": "application/json", "X-Acme-User": token}})).json();
          const outcomes = [];
          for (const returnUrl of [...forms, "javascript:alert(1)"]) {
            try {
              const w = StitchBridge.create({bridgeUrl: document.body.dataset.bridgeUrl,
                fetchSession, mode: "redirect", returnUrl, stylesheet: false});
              const code = await w.reconnect({sourceId}).then(() => "navigated", (e) => e.code);
              w.destroy();
              outcomes.push(code);
            } catch (err) {
              outcomes.push(err.name);
            }
          }
          return outcomes;
        }""",
        [forms, source_id],
    )
    assert outcomes == ["invalid_request"] * len(forms) + ["TypeError"]
    assert page.url.startswith(stack.demo_url)
    shots.take(page, "refused")

    # The refusals used nothing up: the same source finishes in redirect mode.
    page.goto(f"{stack.demo_url}/?user={user}&mode=redirect")
    demo.wait_ready(page)
    page.get_by_test_id(f"reconnect-{source_id}").click()
    page.get_by_test_id("stitch-bridge").get_by_test_id("authorize").click()
    page.get_by_test_id("approve").click()
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]


def test_after_a_blocked_popup_continue_here_finishes_the_flow_in_this_window(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    page = demo.open(user)
    page.evaluate(KEEP_EVENTS)
    widget = hubspot_to_oauth_step(page)
    page.evaluate(BLOCK_POPUPS)
    widget.get_by_test_id("authorize").click()
    expect(widget.get_by_test_id("retry")).to_be_visible()
    expect(widget.get_by_test_id("continue-here")).to_be_visible()
    shots.take(page, "blocked")

    widget.get_by_test_id("continue-here").click()
    page.wait_for_url(re.compile(r"/provider/authorize"))
    assert popups(page) == []
    page.get_by_test_id("approve").click()
    page.wait_for_url(f"{stack.demo_url}/**")
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]

    kept = page.evaluate("JSON.parse(sessionStorage.getItem('kept-events') || '[]')")
    changed = [e for e in kept if e["type"] == "mode_changed"]
    assert changed == [{"type": "mode_changed", "mode": "redirect", "reason": "popup_blocked"}]
    assert kept.index(changed[0]) > [e["type"] for e in kept].index("error")  # after the block


IN_APP_AGENTS = {
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Instagram 300.0": True,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) Mobile/15E148 [FBAN/FBIOS;FBAV/4]": True,
    "Mozilla/5.0 (Linux; Android 13; Pixel 7 Build/TQ3A; wv) AppleWebKit/537.36 Chrome/120": True,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Line/13.1.0": True,
    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 Chrome/120 Mobile": False,
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120": False,
}


def test_an_in_app_browser_starts_in_redirect_mode_and_says_so(
    stacks: Any, demo_for: Any, other_context: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    agent = next(ua for ua, in_app in IN_APP_AGENTS.items() if "Instagram" in ua)
    page = demo.open(user, context=other_context(user_agent=agent))
    expect(page.locator('[data-testid="events"] > [data-type="mode_changed"]')).to_contain_text(
        "redirect (in_app_browser)"
    )
    assert page.evaluate("window.acmeDemo.bridge.mode") == "redirect"
    hubspot_to_oauth_step(page).get_by_test_id("authorize").click()
    page.wait_for_url(re.compile(r"/provider/authorize"))
    assert popups(page) == []
    shots.take(page, "in-app-consent")

    # The `userAgent` option decides the same way; an explicit mode is left alone.
    desktop = demo.open(user)
    modes = desktop.evaluate(
        """(agents) => agents.map((userAgent) => StitchBridge.create({
             bridgeUrl: document.body.dataset.bridgeUrl, fetchSession: async () => ({}),
             userAgent, stylesheet: false}).mode)""",
        list(IN_APP_AGENTS),
    )
    assert modes == ["redirect" if in_app else "popup" for in_app in IN_APP_AGENTS.values()]
    explicit = desktop.evaluate(
        """(userAgent) => StitchBridge.create({bridgeUrl: document.body.dataset.bridgeUrl,
             fetchSession: async () => ({}), userAgent, mode: "popup", stylesheet: false}).mode""",
        agent,
    )
    assert explicit == "popup"


def test_a_consent_url_finished_in_another_browser_sends_it_nowhere(
    stacks: Any, demo_for: Any, other_context: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    page = demo.open(user, mode="redirect")
    widget = hubspot_to_oauth_step(page)
    widget.get_by_test_id("authorize").click()
    page.wait_for_url(re.compile(r"/provider/authorize"))

    # The consent URL, forwarded: approved elsewhere, it stops on the bridge's result page,
    # with no resume id and no way back to the SaaS page.
    elsewhere = demo.new_page(other_context())
    elsewhere.goto(page.url)
    elsewhere.get_by_test_id("approve").click()
    expect(elsewhere.get_by_test_id("oauth-result")).to_have_attribute(
        "data-outcome", "failed", timeout=15_000
    )
    shots.take(elsewhere, "refused-elsewhere")
    assert elsewhere.url.startswith(f"{stack.bridge_url}/v1/oauth/provider/callback")
    assert [s["status"] for s in demo.sources(user)] == ["needs_input"]

    # The browser that started it comes back to the SaaS page and carries on.
    page.get_by_test_id("approve").click()
    page.wait_for_url(f"{stack.demo_url}/**")
    expect(after_the_form_or_oauth(page.get_by_test_id("stitch-bridge"))).to_be_visible()
    Driver(page, SPECS["platform.hubspot"], shots).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]
