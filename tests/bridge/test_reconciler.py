"""The reconciler: a connected source whose connection starts failing is `needs_reauth`, and a
passing check afterwards clears it; each change is one event."""

from __future__ import annotations

import asyncio

import httpx

from bridge.reconciler import Reconciler
from bridge.services import open_services
from tests.bridge.conftest import RECURLY_PROPERTIES, Stack


def _connect(stack: Stack) -> int:
    widget = stack.widget(end_user="watched")
    source_id = int(
        widget.post(
            "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
        ).json()["source"]["id"]
    )
    stack.advance(3)
    widget.put(
        f"/v1/sources/{source_id}/streams",
        json={"streams": [{"tap_stream_id": "accounts", "selected": True}]},
    ).raise_for_status()
    assert widget.get(f"/v1/sources/{source_id}").json()["source"]["status"] == "connected"
    return source_id


def _recheck(stack: Stack, source_id: int, outcome: str) -> None:
    """Stitch runs a new connection check (properties changed) with the scripted outcome."""
    script = {"outcome": outcome, "source_id": source_id}
    if outcome == "failure":
        script["discovery_error_message"] = "FATAL: password authentication failed"
    httpx.post(f"{stack.emulator_url}/_emulator/checks", json=script).raise_for_status()
    frequency = "360" if outcome == "failure" else "720"
    stack.widget(end_user="watched").put(
        f"/v1/sources/{source_id}", json={"properties": {"frequency_in_minutes": frequency}}
    ).raise_for_status()
    stack.advance(3)


def _reconcile(stack: Stack) -> None:
    async def once() -> None:
        async with open_services(stack.settings, clock=stack.clock, run_workers=False) as services:
            await Reconciler(services).reconcile_once()

    asyncio.run(once())


def test_a_failing_check_marks_a_connected_source_and_a_passing_one_clears_it(stack: Stack) -> None:
    source_id = _connect(stack)
    _reconcile(stack)
    assert "source.needs_reauth" not in [e["type"] for e in stack.events()]

    _recheck(stack, source_id, "failure")
    _reconcile(stack)
    listed = stack.backend().get("/v1/end-users/watched/sources").json()["data"]
    assert listed[0]["status"] == "needs_reauth"
    _reconcile(stack)  # nothing new: no second event
    assert [e["type"] for e in stack.events()].count("source.needs_reauth") == 1

    _recheck(stack, source_id, "success")
    _reconcile(stack)
    types = [e["type"] for e in stack.events()]
    assert types.count("source.reauth_completed") == 1
    assert types.index("source.needs_reauth") < types.index("source.reauth_completed")
    assert (
        stack.backend().get("/v1/end-users/watched/sources").json()["data"][0]["status"]
        == "connected"
    )
