"""The demo's events page (CONTRACT §4.7): the signed-in user's bridge events, read through the
events API by Acme's backend, paged by cursor while new events arrive, and redelivered."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from bridge.demo import Stack

pytestmark = pytest.mark.browser


class Backend:
    """What Acme's servers (and the bridge's webhooks) do meanwhile, over HTTP."""

    def __init__(self, stack: Stack, user: str) -> None:
        self.stack = stack
        self.user = user
        self.api = httpx.Client(
            base_url=stack.bridge_url,
            headers={"Authorization": f"Bearer {stack.api_key}"},
            timeout=10,
        )
        token = self.api.post("/v1/connect-sessions", json={"end_user": {"id": user}}).json()[
            "token"
        ]
        self.widget = httpx.Client(
            base_url=stack.bridge_url,
            headers={"Authorization": f"Bearer {token}", "Origin": stack.demo_url},
            timeout=10,
        )

    def create_source(self) -> int:
        # The bridge resumes an unfinished source of the same type instead of making a second:
        # a new one only after the last one is gone.
        made = self.widget.post(
            "/v1/sources",
            json={"type": "platform.recurly"},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert made.status_code == 201, made.text
        return int(made.json()["source"]["id"])

    def churn(self) -> None:
        """Two new events: a source made and deleted."""
        self.delete_source(self.create_source())

    def delete_source(self, source_id: int) -> None:
        gone = self.api.delete(f"/v1/end-users/{self.user}/sources/{source_id}")
        assert gone.status_code == 204, gone.text

    def event_ids(self) -> list[str]:
        listed = self.api.get("/v1/events", params={"end_user_id": self.user, "limit": 100})
        return [e["id"] for e in listed.json()["data"]]

    def close(self) -> None:
        self.api.close()
        self.widget.close()


def _page_ids(page: Any) -> list[str]:
    expect(page.get_by_test_id("events-list")).to_have_attribute("data-state", "ready")
    return page.eval_on_selector_all(
        '[data-testid="events-list"] > *', "items => items.map(i => i.dataset.eventId)"
    )


def test_the_events_page_pages_without_gaps_or_repeats_while_events_arrive(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    backend = Backend(stack, user)
    for _ in range(3):
        backend.churn()
    unfinished = backend.create_source()
    before = backend.event_ids()
    assert len(before) == 7

    page = demo.new_page()
    page.goto(f"{stack.demo_url}/events?user={user}&limit=3")
    seen: list[str] = []
    pages = 0
    while True:
        pages += 1
        ids = _page_ids(page)
        assert page.get_by_test_id("events-list").get_attribute("data-page") == str(pages)
        seen.extend(ids)
        shots.take(page, f"page-{pages}")
        # New events arrive between every two pages.
        backend.delete_source(unfinished)
        unfinished = backend.create_source()
        more = page.get_by_test_id("events-next")
        if not more.is_enabled():
            break
        more.click()
    assert pages == 3
    assert seen == before  # every event once, newest first, none of the newcomers
    types = page.eval_on_selector_all(
        '[data-testid="events-list"] > *', "items => items.map(i => i.dataset.type)"
    )
    assert types == ["source.created"]  # the oldest page ends with the first event

    page.get_by_test_id("events-first").click()
    newest = _page_ids(page)
    assert newest == backend.event_ids()[:3]
    assert not set(newest) & set(before)
    backend.close()


def test_an_event_is_redelivered_from_the_page_with_the_same_id_and_a_valid_signature(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("native")
    demo = demo_for(stack)
    backend = Backend(stack, user)
    backend.create_source()
    (event_id,) = backend.event_ids()
    page = demo.new_page()
    page.goto(f"{stack.demo_url}/events?user={user}")
    item = page.locator(f'[data-testid="events-list"] > [data-event-id="{event_id}"]')
    expect(item).to_have_attribute("data-type", "source.created")
    # The outbox delivered it once to Acme's receiver, which counts signed deliveries only.
    for _ in range(50):
        if item.get_attribute("data-deliveries") == "1":
            break
        page.reload()
        page.wait_for_timeout(100)
    expect(item).to_have_attribute("data-deliveries", "1")

    page.get_by_test_id(f"redeliver-{event_id}").click()
    expect(item).to_have_attribute("data-redelivery", "delivered")
    expect(item).to_have_attribute("data-deliveries", "2")
    shots.take(page, "redelivered")
    assert backend.event_ids() == [event_id]  # the same event again, not a new one
    backend.close()
