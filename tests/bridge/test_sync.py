"""After connecting (CONTRACT §4.8): sync now, stop, schedule, pause, and the sync state the
poller reads from Stitch's extractions and loads, end to end against the emulator."""

from __future__ import annotations

from tests.bridge.conftest import Stack
from tests.bridge.sync_helpers import (
    POLL,
    advance_and_poll,
    connect,
    event_bodies,
    polled_at,
    reconcile,
    script_job,
    sync_of,
    wait_for,
)

NEEDS_EMULATOR_JOBS = "needs emulator scheduled jobs (h-emu-jobs)"


def test_sync_now_runs_a_job_that_the_poller_sees_succeed(stack: Stack) -> None:
    widget, source_id = connect(stack)
    wait_for(lambda: polled_at(stack) > 0, "the first poll of the account")
    answer = widget.post(f"/v1/sources/{source_id}/sync")
    assert answer.status_code == 202, answer.text
    sync = answer.json()["source"]["sync"]
    assert sync["state"] == "running" and sync["trigger"] == "manual"
    job_name = sync["job_name"]
    assert job_name.startswith(f"{stack.emulator_sources()[0]['stitch_client_id']}.{source_id}.")

    advance_and_poll(stack, POLL + 1)  # the job ran its 30 s; the next poll is due
    sync = sync_of(stack, source_id)
    assert sync["state"] == "succeeded" and sync["job_name"] == job_name
    assert sync["trigger"] == "manual" and sync["error"] is None
    assert sync["completed_at"] and sync["last_succeeded_at"] == sync["completed_at"]

    started = event_bodies(stack, "source.sync_started")
    succeeded = event_bodies(stack, "source.sync_succeeded")
    assert [e["data"]["job_name"] for e in started] == [job_name]
    assert started[0]["data"]["trigger"] == "manual"
    assert [e["data"]["job_name"] for e in succeeded] == [job_name]
    assert succeeded[0]["data"]["source"]["sync"]["state"] == "succeeded"


def test_a_tap_failure_is_a_failed_sync_in_stitchs_words_and_needs_reauth(stack: Stack) -> None:
    widget, source_id = connect(stack)
    message = "401 Unauthorized: the API key was revoked"
    script_job(stack, source_id, tap_error=message)
    widget.post(f"/v1/sources/{source_id}/sync").raise_for_status()
    advance_and_poll(stack, POLL + 1)
    sync = sync_of(stack, source_id)
    assert sync["state"] == "failed"
    assert sync["error"] == {"phase": "tap", "message": message}
    assert sync["last_succeeded_at"] is None
    failed = event_bodies(stack, "source.sync_failed")
    assert [e["data"]["error"] for e in failed] == [{"phase": "tap", "message": message}]
    assert failed[0]["data"]["job_name"] == sync["job_name"]
    reconcile(stack)  # as today: a failing extraction means the end user must reconnect
    listed = stack.backend().get("/v1/end-users/syncer/sources").json()["data"]
    assert listed[0]["status"] == "needs_reauth"
    assert listed[0]["sync"]["error"]["message"] == message
