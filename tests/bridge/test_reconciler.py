"""The reconciler: a connected source whose connection starts failing is `needs_reauth`, and a
passing check afterwards clears it; each change is one event."""

from __future__ import annotations

import pytest

from bridge.reconciler import Reconciler
from tests.bridge.conftest import RECURLY_PROPERTIES, STITCH_TOKEN, Stack
from tests.bridge.sync_helpers import POLL, advance_and_poll

# Rounds of the sync poller are waited for, one after another: each comes at once.
pytestmark = pytest.mark.usefixtures("fast_sync_poller")


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
    stack.emulator_http().post("/_emulator/checks", json=script).raise_for_status()
    frequency = "360" if outcome == "failure" else "720"
    stack.widget(end_user="watched").put(
        f"/v1/sources/{source_id}", json={"properties": {"frequency_in_minutes": frequency}}
    ).raise_for_status()
    stack.advance(3)


def _reconcile(stack: Stack) -> None:
    async def once() -> None:
        async with stack.services() as services:
            await Reconciler(services).reconcile_once()

    stack.run(once)


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


def test_a_failed_extraction_marks_a_connected_source_until_one_passes(stack: Stack) -> None:
    source_id = _connect(stack)
    emulator = stack.emulator_http()
    emulator.post(
        "/_emulator/jobs",
        json={
            "source_id": source_id,
            "tap_error": "401 Unauthorized: the refresh token was revoked",
        },
    ).raise_for_status()
    headers = {"Authorization": f"Bearer {STITCH_TOKEN}"}
    emulator.post(f"/v4/sources/{source_id}/sync", headers=headers).raise_for_status()
    advance_and_poll(stack, POLL + 1)  # the job fails in the tap; the sync poller reads it
    _reconcile(stack)
    assert (
        stack.backend().get("/v1/end-users/watched/sources").json()["data"][0]["status"]
        == "needs_reauth"
    )
    assert [e["type"] for e in stack.events()].count("source.needs_reauth") == 1

    emulator.post(f"/v4/sources/{source_id}/sync", headers=headers).raise_for_status()
    advance_and_poll(stack, POLL + 1)  # the next one passes
    _reconcile(stack)
    assert [e["type"] for e in stack.events()].count("source.reauth_completed") == 1


def test_the_verdict_follows_what_stitch_ran_last() -> None:
    from bridge.reconciler import connection_verdict
    from bridge.stitch.models import ConnectionCheck

    def check(status: str, at: str) -> ConnectionCheck:
        return ConnectionCheck.from_json(
            {
                "name": "1.2.check.x",
                "status": status,
                "error": status == "failed",
                "mode": "check",
                "start_time": at,
                "completion_time": at,
                "check_exit_status": 0 if status == "succeeded" else 1,
                "discovery_exit_status": 0 if status == "succeeded" else 1,
                "discovery_error_message": None,
            }
        )

    def extraction(tap: int, at: str, description: str | None = None) -> dict[str, object]:
        return {"tap_exit_status": tap, "completion_time": at, "tap_description": description}

    connected = 1_600_000_000.0  # 2020-09-13T12:26:40Z
    assert connection_verdict(None, None, connected) is None
    assert connection_verdict(check("succeeded", "2020-09-14T00:00:00Z"), None, connected) is False
    assert connection_verdict(check("failed", "2020-09-14T00:00:00Z"), None, connected) is True
    # A failure from before the source was connected says nothing about it now.
    assert connection_verdict(check("failed", "2020-09-01T00:00:00Z"), None, connected) is None
    # The latest word wins: a failed extraction after a passing check, and the other way round.
    ok_check, bad_run = (
        check("succeeded", "2020-09-14T00:00:00Z"),
        extraction(1, "2020-09-15T00:00:00Z"),
    )
    assert connection_verdict(ok_check, bad_run, connected) is True
    later_ok = check("succeeded", "2020-09-16T00:00:00Z")
    assert connection_verdict(later_ok, bad_run, connected) is False
    # A job a person stopped is no failure of the connection.
    stopped = extraction(1, "2020-09-15T00:00:00Z", "Terminated")
    assert connection_verdict(ok_check, stopped, connected) is False
