"""Helpers for the after-connect tests: a connected source, and waiting for the sync poller."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any

import httpx

from bridge.reconciler import Reconciler
from tests.bridge.conftest import RECURLY_PROPERTIES, Stack
from tests.waiting import eventually

POLL = 60  # BRIDGE_SYNC_POLL's default, and the poll period the default budget allows


def connect(stack: Stack, end_user: str = "syncer", **mint: Any) -> tuple[httpx.Client, int]:
    """A connected Recurly source, and a widget whose session may do `mint`'s actions."""
    widget = stack.widget(end_user=end_user, **mint)
    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    source_id = int(created.json()["source"]["id"])
    stack.advance(3)  # the connection check passes
    widget.put(
        f"/v1/sources/{source_id}/streams",
        json={"streams": [{"tap_stream_id": "accounts", "selected": True}]},
    ).raise_for_status()
    assert widget.get(f"/v1/sources/{source_id}").json()["source"]["status"] == "connected"
    return widget, source_id


def wait_for(condition: Callable[[], Any], what: str, timeout: float = 15.0) -> Any:
    return eventually(condition, what, timeout)


def polled_at(stack: Stack) -> float:
    with sqlite3.connect(stack.database) as db:
        row = db.execute("SELECT min(polled_at) FROM sync_leases").fetchone()
    return float(row[0] or 0.0)


def advance_and_poll(stack: Stack, seconds: float) -> None:
    """Move both clocks on, then wait until the bridge's poller has had its round."""
    stack.advance(seconds)
    now = stack.clock.time()
    wait_for(lambda: polled_at(stack) == now, "the sync poller's round")


def sync_of(stack: Stack, source_id: int, end_user: str = "syncer") -> dict[str, Any]:
    listed = stack.backend().get(f"/v1/end-users/{end_user}/sources").json()["data"]
    source = next(s for s in listed if s["id"] == source_id)
    sync = source["sync"]
    assert isinstance(sync, dict)
    return sync


def event_bodies(stack: Stack, type: str) -> list[dict[str, Any]]:
    answer = stack.backend().get("/v1/events", params={"type": type, "limit": 100}).json()
    data = answer["data"]
    assert isinstance(data, list)
    return data


def script_job(stack: Stack, source_id: int, **script: Any) -> None:
    stack.emulator_http().post(
        "/_emulator/jobs", json={"source_id": source_id, **script}
    ).raise_for_status()


def reconcile(stack: Stack) -> None:
    async def once() -> None:
        async with stack.services() as services:
            await Reconciler(services).reconcile_once()

    stack.run(once)
