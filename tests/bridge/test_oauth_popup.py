"""In a real browser: the callback page tells exactly the SaaS page that opened it, then closes.

Playwright runs in a thread of its own here: a sync Playwright session in the main thread would
leave an event loop running there, which the async tests collected after these would trip on.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import expect, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from tests.bridge.partner_stack import (
    HUBSPOT,
    HUBSPOT_FORM,
    PartnerStack,
    consent_at_provider,
    partner_stack,
)
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.live import LiveServer, serve

pytestmark = pytest.mark.browser
T = TypeVar("T")

OPENER_HTML = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>SaaS page</title><script src="/opener.js" defer></script></head>
<body><button id="open" type="button">Connect</button><ol id="messages"></ol></body></html>"""

# The SaaS page: opens the OAuth window on a click, hands it the ticket when it asks (as the
# widget does, to the bridge's origin only) and writes down every other message it receives.
OPENER_JS = """"use strict";
let popup = null;
const params = new URLSearchParams(window.location.search);
document.getElementById("open").addEventListener("click", () => {
  popup = window.open(params.get("url"), "oauth", "popup,width=500,height=600");
});
window.addEventListener("message", (event) => {
  if (event.source === popup && event.data && event.data.type === "stitch-bridge:oauth-ready") {
    const ticket = { type: "stitch-bridge:oauth-ticket", ticket: params.get("ticket") };
    popup.postMessage(ticket, params.get("bridge"));
    return;
  }
  const item = document.createElement("li");
  item.textContent = JSON.stringify({
    origin: event.origin, fromPopup: event.source === popup, data: event.data,
  });
  document.getElementById("messages").append(item);
});
"""


def _opener_app() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(OPENER_HTML)

    async def script(request: Request) -> Response:
        return Response(OPENER_JS, media_type="text/javascript")

    return Starlette(routes=[Route("/", page), Route("/opener.js", script)])


def _in_browser(work: Callable[[Any], T]) -> T:
    """Run `work(context)` with a fresh headless Chromium context, in a thread of its own."""

    def run() -> T:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
            )
            try:
                return work(browser.new_context())
            finally:
                browser.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result(timeout=120)


@pytest.fixture(autouse=True)
def _needs_chromium() -> None:
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}")


@pytest.fixture
def saas() -> Iterator[LiveServer]:
    with serve(_opener_app()) as server:
        yield server


@pytest.fixture
def stack(tmp_path: Path, saas: LiveServer) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path, live=True, allowed_origins=(saas.url,)) as stack:
        yield stack


def _oauth_url(stack: PartnerStack, saas: LiveServer) -> tuple[dict[str, str], int]:
    """The SaaS page's query: the popup page's URL, the ticket and the bridge's origin."""
    stack.create_tenant("acme")
    token = stack.mint(end_user="alice", tenant="acme")
    widget = httpx.Client(
        base_url=stack.bridge_url,
        headers={"Authorization": f"Bearer {token}", "Origin": saas.url},
        timeout=30,
    )
    stack.clients.append(widget)
    created = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM})
    assert created.status_code == 201, created.text
    step = created.json()["next_step"]
    started = widget.post("/v1/steps/start", json={"token": step["token"]}).json()
    query = {
        "url": started["oauth_url"],
        "ticket": started["oauth_ticket"],
        "bridge": stack.bridge_url,
    }
    return query, int(created.json()["source"]["id"])


def _messages(page: Any) -> list[dict[str, Any]]:
    return [json.loads(text) for text in page.locator("#messages li").all_text_contents()]


@pytest.mark.parametrize(
    ("decision", "outcome", "error"),
    [("approve", "completed", None), ("deny", "failed", "access_denied")],
)
def test_the_callback_page_reports_to_its_opener_and_closes(
    stack: PartnerStack, saas: LiveServer, decision: str, outcome: str, error: str | None
) -> None:
    query, source_id = _oauth_url(stack, saas)

    console_errors: list[str] = []

    def work(context: Any) -> list[dict[str, Any]]:
        page = context.new_page()
        page.goto(f"{saas.url}/?{httpx.QueryParams(query)}")
        with page.expect_popup() as opened:
            page.locator("#open").click()
        popup = opened.value
        popup.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else 0)
        with popup.expect_event("close"):
            popup.get_by_test_id(decision).click()
        expect(page.locator("#messages li")).to_have_count(1)
        return _messages(page)

    [message] = _in_browser(work)
    assert console_errors == []  # a "no" at the provider is an outcome, not a failed load
    assert message == {
        "origin": stack.bridge_url,
        "fromPopup": True,
        "data": {
            "type": "stitch-bridge:oauth",
            "outcome": outcome,
            "source_id": source_id,
            "error": error,
        },
    }
    values = stack.source_values(source_id)
    assert ("refresh_token" in values) is (outcome == "completed")


def test_a_page_of_another_origin_cannot_start_the_sign_in(
    stack: PartnerStack, saas: LiveServer
) -> None:
    query, source_id = _oauth_url(stack, saas)

    def work(context: Any) -> list[dict[str, Any]]:
        page = context.new_page()
        # The same page on another origin, holding the real ticket. The popup page says "ready"
        # only to the origin the bridge named, so the stranger names itself in the popup's
        # address; the page then reports that origin to the bridge, which binds nothing and
        # never reveals the consent page.
        popup = httpx.URL(query["url"]).copy_with(params={"opener": stranger.url})
        page.goto(f"{stranger.url}/?{httpx.QueryParams({**query, 'url': str(popup)})}")
        with page.expect_popup() as opened:
            page.locator("#open").click()
        result = opened.value.get_by_test_id("oauth-result")
        expect(result).to_have_attribute("data-outcome", "failed")
        expect(result).to_have_attribute("data-error", "origin_not_allowed")
        assert context.cookies(stack.bridge_url) == []
        return _messages(page)

    with serve(_opener_app()) as stranger:
        assert _in_browser(work) == []
    assert stack.emulator_requests("/provider/authorize") == []
    assert "refresh_token" not in stack.source_values(source_id)


def test_the_code_leaves_the_popups_address(stack: PartnerStack, saas: LiveServer) -> None:
    query, _ = _oauth_url(stack, saas)

    def work(context: Any) -> str:
        # Bound the way the SaaS page's top-level form POST binds (same cookie jar as the page).
        bound = context.request.post(
            f"{stack.bridge_url}/v1/oauth/begin",
            form={"ticket": query["ticket"]},
            headers={"Origin": saas.url},
        )
        assert bound.status == 200
        consent = re.search(r'data-target="([^"]+)"', bound.text())
        assert consent is not None
        callback = consent_at_provider(html.unescape(consent.group(1)))
        page = context.new_page()
        page.goto(callback)  # opened without an opener: it stays, and says so
        expect(page.get_by_test_id("oauth-result")).to_have_attribute("data-outcome", "completed")
        url: str = page.url
        return url

    assert _in_browser(work) == f"{stack.bridge_url}/v1/oauth/provider/callback"
