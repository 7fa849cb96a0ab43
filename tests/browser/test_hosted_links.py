"""Hosted connect links in a browser (CONTRACT §4.7): the demo's "send me a link", the flow on
the bridge's own page, the way back with a receipt, and what other browsers see."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.flows import SPECS, Driver

pytestmark = pytest.mark.browser


def _unavailable(page: Any, reason: str, *private: str) -> None:
    """The page says why the link cannot be used, and nothing about whose it is."""
    expect(page.get_by_test_id("link-unavailable")).to_have_attribute("data-reason", reason)
    assert page.get_by_test_id("hosted-link").count() == 0
    content = page.content()
    for secret in private:
        assert secret not in content, secret


def test_a_link_is_finished_in_one_browser_and_refused_in_another(
    stacks: Any, demo_for: Any, other_context: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    page = demo.open(user)
    page.get_by_test_id("send-link").click()
    link = page.get_by_test_id("link-url")
    expect(link).to_be_visible()
    url = link.get_attribute("href")
    assert url and url.startswith(f"{stack.bridge_url}/connect/")
    shots.take(page, "link")

    # A mail scanner and a chat preview fetch it first, as they do; that claims nothing.
    assert "set-cookie" not in httpx.head(url, timeout=10).headers
    assert "set-cookie" not in httpx.get(url, timeout=10).headers

    # The person opens the link (here: in the same browser); it is theirs from now on.
    hosted = demo.new_page()
    hosted.goto(url)
    expect(hosted.get_by_test_id("hosted-link")).to_be_visible()
    expect(hosted.get_by_test_id("connect-platform.recurly")).to_be_visible()
    shots.take(hosted, "hosted")

    # Anyone else with the address meanwhile: in use, and not whose.
    stranger = demo.new_page(other_context())
    stranger.goto(url)
    _unavailable(stranger, "in_use", user, user.capitalize(), f"{user}@acme.example")
    assert stranger.context.cookies() == []  # no claim of its own
    shots.take(stranger, "in-use")

    hosted.get_by_test_id("connect-platform.recurly").click()

    def back_at_the_demo() -> str | None:
        return hosted.url if hosted.url.startswith(stack.demo_url) else None

    Driver(hosted, SPECS["platform.recurly"], shots, finished=back_at_the_demo).run()
    # Back on the SaaS page with a receipt the SaaS verified, and the address cleaned.
    done = hosted.locator('[data-testid="events"] > [data-type="link_completed"]')
    expect(done).to_have_attribute("data-receipt", "valid")
    assert "stitch_bridge_receipt" not in hosted.url
    assert [s["status"] for s in demo.sources(user)] == ["connected"]
    shots.take(hosted, "returned")

    # Used up: the stranger, and the owner too, get the "used" page; nothing more is minted.
    stranger.reload()
    _unavailable(stranger, "used", user, user.capitalize(), f"{user}@acme.example")
    again = demo.new_page()
    again.goto(url)
    _unavailable(again, "used", user)
    shots.take(again, "used")
    minted = again.evaluate(
        "async (path) => (await fetch(path + '/session', {method: 'POST'})).status",
        url.removeprefix(stack.bridge_url),
    )
    assert minted == 401


def test_an_expired_link_says_so_to_its_owner_and_to_anyone_else(
    stacks: Any, demo_for: Any, other_context: Any, user: str, shots: Any
) -> None:
    stack = stacks("native", movable_clock=True)
    demo = demo_for(stack)
    made = httpx.post(
        f"{stack.bridge_url}/v1/connect-links",
        headers={"Authorization": f"Bearer {stack.api_key}"},
        json={
            "end_user": {"id": user, "name": "Ada Lovelace", "email": "ada@example.test"},
            "expires_in": 60,
            "return_url": f"{stack.demo_url}/?user={user}",
        },
        timeout=10,
    )
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    owner = demo.new_page()
    owner.goto(url)
    expect(owner.get_by_test_id("connect-platform.recurly")).to_be_visible()

    stack.bridge_clock.advance(61)  # the bridge's own clock: the link's minute is over
    # The page still open gets no session any more, and reloaded it says why.
    status = owner.evaluate(
        "async (path) => (await fetch(path + '/session', {method: 'POST'})).status",
        url.removeprefix(stack.bridge_url),
    )
    assert status == 401
    owner.reload()
    _unavailable(owner, "expired", user, "Ada", "ada@example.test")
    shots.take(owner, "expired")
    stranger = demo.new_page(other_context())
    stranger.goto(url)
    _unavailable(stranger, "expired", user, "Ada", "ada@example.test")


def _make_link(stack: Any, user: str) -> str:
    made = httpx.post(
        f"{stack.bridge_url}/v1/connect-links",
        headers={"Authorization": f"Bearer {stack.api_key}"},
        json={"end_user": {"id": user, "name": "Ada Lovelace", "email": "ada@example.test"}},
        timeout=10,
    )
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert isinstance(url, str)
    return url


def test_a_link_left_idle_for_half_an_hour_can_be_continued_in_another_browser(
    stacks: Any, demo_for: Any, other_context: Any, user: str, shots: Any
) -> None:
    stack = stacks("native", movable_clock=True)
    demo = demo_for(stack)
    url = _make_link(stack, user)
    laptop = demo.new_page()
    laptop.goto(url)
    expect(laptop.get_by_test_id("connect-platform.recurly")).to_be_visible()
    assert [c["name"] for c in laptop.context.cookies()] == ["stitch_bridge_link"]

    phone = demo.new_page(other_context())
    phone.goto(url)
    _unavailable(phone, "in_use", user, "Ada", "ada@example.test")

    stack.bridge_clock.advance(31 * 60)  # nothing happened on the laptop for 31 minutes
    phone.reload()
    expect(phone.get_by_test_id("connect-platform.recurly")).to_be_visible()
    shots.take(phone, "taken-over")
    laptop.reload()
    _unavailable(laptop, "in_use", user, "Ada", "ada@example.test")


def test_a_browser_that_loses_the_race_for_a_link_says_it_is_in_use(
    stacks: Any, demo_for: Any, other_context: Any, user: str
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    url = _make_link(stack, user)
    page = demo.new_page(other_context())

    def someone_else_claims_first(route: Any) -> None:
        # Between this page's GET (the link was free) and its claim, another browser claims it.
        won = httpx.post(f"{url}/claim", headers={"Origin": stack.bridge_url}, timeout=10)
        assert won.status_code == 200, won.text
        route.continue_()

    page.route("**/claim", someone_else_claims_first, times=1)
    page.goto(url)
    _unavailable(page, "in_use", user, "Ada", "ada@example.test")
    assert page.context.cookies() == []


def test_white_label_oauth_completes_from_the_hosted_page(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    """The hosted page is on the bridge's own origin: its OAuth popup takes the ticket from it."""
    stack = stacks("native")
    demo = demo_for(stack)
    page = demo.open(user)
    page.get_by_test_id("send-link").click()
    link = page.get_by_test_id("link-url")
    expect(link).to_have_attribute("href", re.compile("/connect/"))
    url = link.get_attribute("href")
    hosted = demo.new_page()
    hosted.goto(url)
    hosted.get_by_test_id("connect-platform.hubspot").click()

    def back_at_the_demo() -> str | None:
        return hosted.url if hosted.url.startswith(stack.demo_url) else None

    Driver(hosted, SPECS["platform.hubspot"], shots, finished=back_at_the_demo).run()
    assert [s["status"] for s in demo.sources(user)] == ["connected"]
    # The consent completed in the browser the hosted page bound, HttpOnly on the callbacks.
    [bound] = [c for c in hosted.context.cookies() if c["name"].startswith("stitch_bridge_oauth_")]
    assert (bound["path"], bound["httpOnly"], bound["sameSite"]) == ("/v1/oauth/", True, "Lax")
