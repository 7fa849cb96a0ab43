"""Signed webhooks from a durable outbox: at least once, the same id on every retry."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.bridge.conftest import RECURLY_PROPERTIES, Stack
from tests.live import serve
from tests.waiting import eventually

WEBHOOK_SECRET = "whsec_" + "w" * 32


@dataclass
class Receiver:
    """A SaaS webhook endpoint that misbehaves on cue: fail, hang, or answer slowly."""

    script: list[str] = field(default_factory=list)  # "fail", "hang", "slow", then "ok" forever
    received: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    async def endpoint(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.received.append((body, request.headers.get("bridge-signature", "")))
            action = self.script.pop(0) if self.script else "ok"
        if action == "fail":
            return JSONResponse({"error": "try later"}, status_code=500)
        # Sleeping is the receiver's behaviour under test here (it answers late), not a wait.
        if action == "hang":
            await asyncio.sleep(3)  # past the bridge's webhook_timeout of 1 s
        if action == "slow":
            await asyncio.sleep(0.5)  # within it
        return JSONResponse({"ok": True})

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(body) for body, _ in self.received]


def verify(secret: str, header: str, body: bytes) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), f"{parts['t']}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), parts["v1"])


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(routes=[Route("/hooks", receiver.endpoint, methods=["POST"])])
    with serve(app) as server:
        receiver.url = f"{server.url}/hooks"
        yield receiver


@pytest.fixture
def bridge_overrides(receiver: Receiver) -> dict[str, Any]:
    return {
        "webhook_url": receiver.url,
        "webhook_secret": WEBHOOK_SECRET,
        "webhook_timeout": 1.0,
    }


def wait_for(condition: Any, timeout: float = 15.0) -> None:
    eventually(condition, "the receiver to get it", timeout)


def connect_recurly(stack: Stack, end_user: str = "ella") -> int:
    widget = stack.widget(end_user=end_user)
    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    ).json()
    source_id = int(created["source"]["id"])
    stack.advance(3)
    widget.put(
        f"/v1/sources/{source_id}/streams",
        json={"streams": [{"tap_stream_id": "accounts", "selected": True}]},
    ).raise_for_status()
    return source_id


def test_every_event_arrives_signed_with_the_contracts_body(
    stack: Stack, receiver: Receiver
) -> None:
    source_id = connect_recurly(stack)
    wait_for(lambda: "source.connected" in [b["type"] for b in receiver.bodies()])
    for raw, header in receiver.received:
        assert verify(WEBHOOK_SECRET, header, raw)
        body = json.loads(raw)
        assert set(body) == {"id", "type", "created_at", "data"}
        assert body["id"].startswith("evt_")
        assert body["data"]["end_user_id"] == "ella"
        assert body["data"]["source"]["id"] == source_id
        assert WEBHOOK_SECRET not in raw.decode()
    types = [b["type"] for b in receiver.bodies()]
    assert types[0] == "source.created"
    assert types.count("source.connected") == 1


def test_a_failing_hanging_and_slow_receiver_still_gets_each_event_with_one_id(
    stack: Stack, receiver: Receiver
) -> None:
    receiver.script[:] = ["fail", "hang", "fail", "slow"]
    widget = stack.widget(end_user="fred")
    widget.post("/v1/sources", json={"type": "platform.recurly"}).raise_for_status()

    def delivered() -> bool:
        # Each failure schedules a retry with backoff on the bridge's clock: move it along.
        stack.clock.advance(120)
        return len(receiver.received) >= 4  # fail, hang, fail, then a slow success

    wait_for(delivered, timeout=30)
    bodies = receiver.bodies()
    assert len(bodies) == 4
    assert {b["id"] for b in bodies} == {bodies[0]["id"]}, "a retry must carry the same event id"
    assert all(raw == receiver.received[0][0] for raw, _ in receiver.received)
    assert all(verify(WEBHOOK_SECRET, header, raw) for raw, header in receiver.received)
    # Accepted once: nothing more is sent for it. The outbox sends every due event of a round,
    # oldest first, so once a later event has arrived a resend of this one would have too.
    count = len(receiver.received)
    stack.clock.advance(3600)
    later_widget = stack.widget(end_user="gus")  # fred's session expired with the clock
    later_widget.post("/v1/sources", json={"type": "platform.recurly"}).raise_for_status()
    wait_for(lambda: len(receiver.received) > count)
    later = receiver.bodies()[count:]
    assert bodies[0]["id"] not in {b["id"] for b in later}


def test_a_wrong_secret_does_not_verify(stack: Stack, receiver: Receiver) -> None:
    stack.widget().post("/v1/sources", json={"type": "platform.recurly"}).raise_for_status()
    wait_for(lambda: bool(receiver.received))
    raw, header = receiver.received[0]
    assert verify(WEBHOOK_SECRET, header, raw)
    assert not verify("another secret", header, raw)
    assert not verify(WEBHOOK_SECRET, header, raw + b" ")
