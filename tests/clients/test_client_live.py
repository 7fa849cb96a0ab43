"""The Python client against a live bridge and emulator: every resource, as a SaaS backend
calls it. (The §4.8 actions are covered with MockTransport in test_client_requests.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import stitch_bridge_client as sbc
from tests.bridge.conftest import API_KEY, RECURLY_PROPERTIES, Stack


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    return {"step_driver": "stitchjs", "shared_account_stitchjs": True}


@pytest.fixture
def stack(live_stack: Stack) -> Stack:
    """The client is tested over real HTTP: this module's stack runs on loopback servers."""
    return live_stack


@pytest.fixture
def client(stack: Stack) -> Iterator[sbc.Client]:
    with sbc.Client(stack.bridge_url, API_KEY, timeout=30) as made:
        yield made


def connect_recurly(stack: Stack, token: str) -> dict[str, Any]:
    """What the widget does for Recurly, through the widget API; returns the final answer."""
    widget = stack.widget(token)
    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    assert created.status_code == 201, created.text
    source_id = created.json()["source"]["id"]
    stack.advance(3)
    step = widget.get(f"/v1/sources/{source_id}").json()["next_step"]
    widget.put(
        f"/v1/sources/{source_id}/streams",
        json={"streams": [{"tap_stream_id": "accounts", "selected": True}]},
    )
    done = widget.post("/v1/steps/complete", json={"token": step["token"]})
    assert done.status_code == 200, done.text
    answer: dict[str, Any] = done.json()
    return answer


def test_a_session_from_the_client_lets_the_widget_connect_and_the_receipt_verifies(
    stack: Stack, client: sbc.Client
) -> None:
    session = client.sessions.create(end_user={"id": "alice", "name": "Alice"}, ttl=600)
    assert session.id.startswith("cs_") and session.expires_at
    done = connect_recurly(stack, session.token)

    receipt = client.receipts.verify(done["receipt"])
    assert receipt.valid and receipt.end_user_id == "alice"
    assert receipt.source.status == "connected" and receipt.source.type == "platform.recurly"

    (listed,) = client.end_users.sources("alice")
    assert listed.id == receipt.source.id and listed.status == "connected"
    assert client.end_users.sources("bob") == []


def test_a_forged_receipt_raises_receipt_invalid(client: sbc.Client) -> None:
    with pytest.raises(sbc.ReceiptInvalidError) as caught:
        client.receipts.verify("not-a-receipt")
    assert caught.value.code == "receipt_invalid" and caught.value.status == 400
    assert caught.value.request_id


def test_deleting_a_source_removes_it_and_a_second_delete_is_not_found(
    stack: Stack, client: sbc.Client
) -> None:
    session = client.sessions.create(end_user="carol")
    source = stack.widget(session.token).post("/v1/sources", json={"type": "platform.recurly"})
    source_id = source.json()["source"]["id"]
    client.end_users.delete_source("carol", source_id)
    assert [s.status for s in client.end_users.sources("carol")] in ([], ["deleted"])
    with pytest.raises(sbc.NotFoundError):
        client.end_users.delete_source("carol", 999_999)


def test_links_create_returns_a_url_that_opens_the_hosted_flow(
    stack: Stack, client: sbc.Client
) -> None:
    link = client.links.create(end_user="dave", expires_in=3600, return_url="http://app.test/back")
    assert link.id.startswith("cl_")
    page = httpx.get(link.url)
    assert page.status_code == 200 and 'data-testid="hosted-link"' in page.text


def test_bad_input_raises_invalid_request_with_details(client: sbc.Client) -> None:
    with pytest.raises(sbc.InvalidRequestError) as caught:
        client.sessions.create(end_user="erin", ttl=0)
    assert caught.value.code == "invalid_request" and "ttl" in caught.value.details["fields"]


def test_a_wrong_api_key_raises_authentication_error(stack: Stack) -> None:
    with sbc.Client(stack.bridge_url, "wrong-" + "k" * 32) as wrong:
        with pytest.raises(sbc.AuthenticationError) as caught:
            wrong.end_users.sources("alice")
    assert caught.value.code == "unauthorized"


def test_events_list_pages_through_everything_and_get_and_redeliver_work(
    stack: Stack, client: sbc.Client
) -> None:
    for n in range(5):
        token = client.sessions.create(end_user=f"paging-{n}").token
        stack.widget(token).post("/v1/sources", json={"type": "platform.recurly"})
    events = list(client.events.list(type="source.created", page_size=2))
    assert len(events) == 5 and len({e.id for e in events}) == 5
    assert {e.end_user_id for e in events} == {f"paging-{n}" for n in range(5)}
    one = client.events.get(events[0].id)
    assert one.id == events[0].id and one.source is not None
    client.events.redeliver(one.id)
    with pytest.raises(sbc.NotFoundError):
        client.events.get("evt_nope")


async def test_the_async_client_against_the_live_bridge(stack: Stack) -> None:
    async with sbc.AsyncClient(stack.bridge_url, API_KEY) as client:
        session = await client.sessions.create(end_user="frank")
        stack.widget(session.token).post("/v1/sources", json={"type": "platform.recurly"})
        (source,) = await client.end_users.sources("frank")
        assert source.end_user_id == "frank"
        events = [e async for e in client.events.list(end_user_id="frank")]
        assert [e.type for e in events] == ["source.created"]


def test_the_after_connect_calls_steer_a_connected_source_at_stitch(
    stack: Stack, client: sbc.Client
) -> None:
    session = client.sessions.create(end_user="grace", actions=["sync", "schedule", "pause"])
    assert stack.widget(session.token).get("/v1/session").json()["actions"] == [
        "sync",
        "schedule",
        "pause",
    ]
    source_id = connect_recurly(stack, session.token)["source"]["id"]

    started = client.end_users.sync("grace", source_id)
    assert started.sync is not None
    assert (started.sync.state, started.sync.trigger) == ("running", "manual")
    assert started.sync.job_name
    with pytest.raises(sbc.ConflictError) as running:
        client.end_users.sync("grace", source_id)
    assert running.value.code == "sync_already_running" and running.value.status == 409
    client.end_users.stop_sync("grace", source_id)

    # The SaaS backend is not held to the end users' frequencies.
    scheduled = client.end_users.set_schedule("grace", source_id, frequency_in_minutes=1)
    assert scheduled.schedule is not None and scheduled.schedule.frequency_in_minutes == 1

    paused = client.end_users.pause("grace", source_id)
    assert paused.paused_at is not None
    assert client.end_users.pause("grace", source_id).paused_at is not None  # idempotent
    state = httpx.get(f"{stack.emulator_url}/_emulator/state").json()
    [at_stitch] = [s for s in state["sources"] if s["id"] == source_id]
    assert at_stitch["paused_at"] is not None
    assert client.end_users.unpause("grace", source_id).paused_at is None


def test_an_unfinished_or_foreign_source_cannot_be_synced(stack: Stack, client: sbc.Client) -> None:
    token = client.sessions.create(end_user="heidi").token
    created = stack.widget(token).post("/v1/sources", json={"type": "platform.recurly"})
    source_id = created.json()["source"]["id"]
    with pytest.raises(sbc.ConflictError) as not_ready:
        client.end_users.sync("heidi", source_id)
    assert not_ready.value.code == "source_not_ready"
    with pytest.raises(sbc.NotFoundError) as foreign:
        client.end_users.pause("ivan", source_id)
    assert foreign.value.code == "source_not_found"
