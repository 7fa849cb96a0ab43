"""The events API: what the webhooks carry, listed newest first without gaps or repeats."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from tests.bridge.conftest import Stack
from tests.bridge.test_webhooks import WEBHOOK_SECRET, Receiver, receiver, verify, wait_for  # noqa: F401


def _make_events(stack: Stack, users: int) -> None:
    for n in range(users):
        stack.widget(end_user=f"ev-{n}").post("/v1/sources", json={"type": "platform.recurly"})


def test_events_are_listed_newest_first_with_their_webhook_body(stack: Stack) -> None:
    _make_events(stack, 3)
    backend = stack.backend()
    page = backend.get("/v1/events").json()
    assert page["has_more"] is False
    assert [e["data"]["end_user_id"] for e in page["data"]] == ["ev-2", "ev-1", "ev-0"]
    first = page["data"][0]
    assert set(first) == {"id", "type", "created_at", "data"}
    assert backend.get(f"/v1/events/{first['id']}").json() == first


def test_pages_have_no_gaps_or_repeats_while_new_events_arrive(stack: Stack) -> None:
    _make_events(stack, 7)
    backend = stack.backend()
    seen: list[str] = []
    cursor = None
    stop = threading.Event()

    def keep_adding() -> None:
        n = 100
        while not stop.is_set():
            stack.widget(end_user=f"late-{n}").post(
                "/v1/sources", json={"type": "platform.recurly"}
            )
            n += 1

    adder = threading.Thread(target=keep_adding)
    adder.start()
    try:
        first = backend.get("/v1/events", params={"limit": 3}).json()
        baseline = first["data"][0]["id"]
        seen.extend(e["id"] for e in first["data"])
        cursor = first["data"][-1]["id"]
        while True:
            page = backend.get("/v1/events", params={"limit": 3, "starting_after": cursor}).json()
            seen.extend(e["id"] for e in page["data"])
            if not page["has_more"]:
                break
            cursor = page["data"][-1]["id"]
    finally:
        stop.set()
        adder.join()
    assert len(seen) == len(set(seen)), "an event was listed twice"
    everything = [e["id"] for e in backend.get("/v1/events", params={"limit": 100}).json()["data"]]
    older = everything[everything.index(baseline) :]
    assert seen == older, "pagination skipped or reordered events"


def test_filters(stack: Stack) -> None:
    _make_events(stack, 2)
    backend = stack.backend()
    mine = backend.get("/v1/events", params={"end_user_id": "ev-1"}).json()["data"]
    assert mine and {e["data"]["end_user_id"] for e in mine} == {"ev-1"}
    source_id = mine[0]["data"]["source"]["id"]
    by_source = backend.get("/v1/events", params={"source_id": source_id}).json()["data"]
    assert {e["data"]["source"]["id"] for e in by_source} == {source_id}
    created = backend.get("/v1/events", params={"type": "source.created"}).json()["data"]
    assert {e["type"] for e in created} == {"source.created"} and len(created) == 2
    assert backend.get("/v1/events", params={"tenant": "nobody"}).json()["data"] == []


def test_bad_parameters_are_named(stack: Stack) -> None:
    backend = stack.backend()
    for params, field in [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"type": "source.exploded"}, "type"),
        ({"source_id": "x"}, "source_id"),
        ({"starting_after": "evt_missing"}, "starting_after"),
        ({"colour": "red"}, "colour"),
    ]:
        response = backend.get("/v1/events", params=params)
        assert response.status_code in (400, 422), params
        assert field in response.json()["error"]["details"]["fields"]
    assert backend.get("/v1/events/evt_nope").json()["error"]["code"] == "not_found"
    assert stack.widget().get("/v1/events").status_code == 401


@pytest.fixture
def bridge_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    if "receiver" not in request.fixturenames:
        return {}
    hook: Receiver = request.getfixturevalue("receiver")
    return {"webhook_url": hook.url, "webhook_secret": WEBHOOK_SECRET}


def test_redelivery_sends_the_same_event_again_with_a_valid_signature(
    stack: Stack,
    receiver: Receiver,  # noqa: F811
) -> None:
    stack.widget(end_user="again").post("/v1/sources", json={"type": "platform.recurly"})
    wait_for(lambda: len(receiver.received) == 1)
    event_id = receiver.bodies()[0]["id"]
    response = stack.backend().post(f"/v1/events/{event_id}/redeliver")
    assert response.status_code == 202
    wait_for(lambda: len(receiver.received) == 2)
    (raw1, _), (raw2, header2) = receiver.received
    assert raw1 == raw2 and receiver.bodies()[1]["id"] == event_id
    assert verify(WEBHOOK_SECRET, header2, raw2)
    assert stack.backend().post("/v1/events/evt_nope/redeliver").status_code == 404
