"""After connecting (CONTRACT §4.8): sync now, stop, schedule, pause, and the sync state the
poller reads from Stitch's extractions and loads, end to end against the emulator."""

from __future__ import annotations

from datetime import datetime

import pytest

from tests.bridge.conftest import RECURLY_PROPERTIES, Stack
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

# Rounds of the sync poller are waited for, one after another: each comes at once.
pytestmark = pytest.mark.usefixtures("fast_sync_poller")


def test_sync_now_runs_a_job_that_the_poller_sees_succeed(stack: Stack) -> None:
    widget, source_id = connect(stack)
    wait_for(lambda: polled_at(stack) > 0, "the first poll of the account")
    answer = widget.post(f"/v1/sources/{source_id}/sync")
    assert answer.status_code == 202, answer.text
    sync = answer.json()["source"]["sync"]
    assert sync["state"] == "running" and sync["trigger"] == "manual"
    job_name = sync["job_name"]
    assert job_name.startswith(f"{stack.emulator_sources()[0]['stitch_client_id']}.{source_id}.")

    stack.emulator_http().delete("/_emulator/requests").raise_for_status()
    for _ in range(3):  # a widget polling its source reads the record, not Stitch's jobs
        assert widget.get(f"/v1/sources/{source_id}").json()["source"]["sync"]["state"] == "running"
    paths = [r["path"] for r in stack.emulator_http().get("/_emulator/requests").json()["requests"]]
    assert paths and not [p for p in paths if p.endswith(("/extractions", "/loads"))]

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


def test_a_session_without_the_action_is_refused_and_stitch_is_not_asked(stack: Stack) -> None:
    widget, source_id = connect(stack, actions=["sync"])
    before = stack.emulator_sources()[0]
    for method, path, body in (
        ("POST", "pause", None),
        ("POST", "unpause", None),
        ("PUT", "schedule", {"frequency_in_minutes": 360}),
    ):
        answer = widget.request(method, f"/v1/sources/{source_id}/{path}", json=body)
        assert answer.status_code == 403, answer.text
        assert answer.json()["error"]["code"] == "action_not_allowed"
    after = stack.emulator_sources()[0]
    assert after["paused_at"] is None and after["properties"] == before["properties"]

    only_pause = stack.widget(end_user="syncer", actions=["pause"])
    refused = only_pause.post(f"/v1/sources/{source_id}/sync")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "action_not_allowed"
    assert only_pause.delete(f"/v1/sources/{source_id}/sync").status_code == 403


def test_an_unknown_action_is_refused_at_mint_and_the_default_is_sync(stack: Stack) -> None:
    answer = stack.backend().post(
        "/v1/connect-sessions", json={"end_user": {"id": "u"}, "actions": ["sync", "delete"]}
    )
    assert answer.status_code == 422
    assert answer.json()["error"]["code"] == "invalid_request"
    assert "actions" in answer.json()["error"]["details"]["fields"]
    session = stack.widget(end_user="u").get("/v1/session").json()
    assert session["actions"] == ["sync"]


def test_other_end_users_sources_are_not_found_for_every_action(stack: Stack) -> None:
    _, source_id = connect(stack, end_user="owner")
    stranger = stack.widget(end_user="stranger", actions=["sync", "schedule", "pause"])
    backend = stack.backend()
    for method, suffix, body in (
        ("POST", "sync", None),
        ("DELETE", "sync", None),
        ("POST", "pause", None),
        ("POST", "unpause", None),
        ("PUT", "schedule", {"frequency_in_minutes": 360}),
    ):
        for client, prefix in (
            (stranger, "/v1/sources"),
            (backend, "/v1/end-users/stranger/sources"),
        ):
            answer = client.request(method, f"{prefix}/{source_id}/{suffix}", json=body)
            assert answer.status_code == 404, (method, suffix, answer.text)
            assert answer.json()["error"]["code"] == "source_not_found"
    assert stack.emulator_sources()[0]["paused_at"] is None


def test_a_source_not_fully_configured_cannot_sync(stack: Stack) -> None:
    widget = stack.widget(end_user="early")
    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    ).json()["source"]
    answer = widget.post(f"/v1/sources/{created['id']}/sync")
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "source_not_ready"
    answer = stack.backend().post(f"/v1/end-users/early/sources/{created['id']}/sync")
    assert answer.json()["error"]["code"] == "source_not_ready"


def test_a_second_sync_while_one_runs_is_refused_and_stop_ends_it(stack: Stack) -> None:
    widget, source_id = connect(stack)
    first = widget.post(f"/v1/sources/{source_id}/sync")
    assert first.status_code == 202
    again = stack.backend().post(f"/v1/end-users/syncer/sources/{source_id}/sync")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "sync_already_running"

    stopped = widget.delete(f"/v1/sources/{source_id}/sync")
    assert stopped.status_code == 202, stopped.text
    assert stopped.json()["source"]["id"] == source_id
    # Stitch stopped it: a new job may start at once.
    assert widget.post(f"/v1/sources/{source_id}/sync").status_code == 202
    started = event_bodies(stack, "source.sync_started")
    assert len(started) == 2 and len({e["data"]["job_name"] for e in started}) == 2


def test_pause_and_unpause_reach_stitch_and_are_idempotent(stack: Stack) -> None:
    widget, source_id = connect(stack, actions=["pause"])
    paused = widget.post(f"/v1/sources/{source_id}/pause")
    assert paused.status_code == 200, paused.text
    source = paused.json()["source"]
    assert source["status"] == "paused" and source["paused_at"]
    assert stack.emulator_sources()[0]["paused_at"] == source["paused_at"]
    stack.advance(5)
    again = widget.post(f"/v1/sources/{source_id}/pause").json()["source"]
    assert again["paused_at"] == source["paused_at"]  # nothing changed at Stitch

    backend = stack.backend()
    unpaused = backend.post(f"/v1/end-users/syncer/sources/{source_id}/unpause")
    assert unpaused.status_code == 200
    assert unpaused.json()["source"]["paused_at"] is None
    assert unpaused.json()["source"]["status"] == "connected"
    assert stack.emulator_sources()[0]["paused_at"] is None
    backend.post(f"/v1/end-users/syncer/sources/{source_id}/unpause").raise_for_status()
    assert len(event_bodies(stack, "source.paused")) == 1
    assert len(event_bodies(stack, "source.unpaused")) == 1


def test_a_schedule_change_reaches_stitch_and_is_one_event(stack: Stack) -> None:
    widget, source_id = connect(stack, actions=["schedule"])
    assert (
        widget.get(f"/v1/sources/{source_id}").json()["source"]["schedule"]["frequency_in_minutes"]
        == 60
    )
    answer = widget.put(f"/v1/sources/{source_id}/schedule", json={"frequency_in_minutes": 360})
    assert answer.status_code == 200, answer.text
    schedule = answer.json()["source"]["schedule"]
    assert schedule["frequency_in_minutes"] == 360 and schedule["next_sync_at"]
    upstream = stack.emulator_sources()[0]
    assert upstream["properties"]["frequency_in_minutes"] == "360"
    assert upstream["schedule"]["interval"] == 360
    widget.put(f"/v1/sources/{source_id}/schedule", json={"frequency_in_minutes": 360})
    changed = event_bodies(stack, "source.schedule_changed")
    assert len(changed) == 1
    assert changed[0]["data"]["source"]["schedule"]["frequency_in_minutes"] == 360


def test_end_users_are_limited_to_the_allowed_schedules_and_the_backend_is_not(
    stack: Stack,
) -> None:
    widget, source_id = connect(stack, actions=["schedule"])
    for body, field in (
        ({"frequency_in_minutes": 1}, "frequency_in_minutes"),
        ({"cron_expression": "0 0 12 ? * MON-FRI *"}, "cron_expression"),
    ):
        answer = widget.put(f"/v1/sources/{source_id}/schedule", json=body)
        assert answer.status_code == 422
        assert answer.json()["error"]["code"] == "invalid_request"
        assert field in answer.json()["error"]["details"]["fields"]
    assert stack.emulator_sources()[0]["properties"]["frequency_in_minutes"] == "60"
    backend = stack.backend()
    answer = backend.put(
        f"/v1/end-users/syncer/sources/{source_id}/schedule", json={"frequency_in_minutes": 1}
    )
    assert answer.status_code == 200, answer.text
    assert stack.emulator_sources()[0]["properties"]["frequency_in_minutes"] == "1"


def test_a_schedule_stitch_refuses_is_bad_properties_with_its_message(stack: Stack) -> None:
    _, source_id = connect(stack)
    backend = stack.backend()
    answer = backend.put(
        f"/v1/end-users/syncer/sources/{source_id}/schedule", json={"frequency_in_minutes": 45}
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_properties"
    assert error["details"]["bad_properties"] == ["frequency_in_minutes"]
    answer = backend.put(
        f"/v1/end-users/syncer/sources/{source_id}/schedule",
        json={"cron_expression": "* * * * * *"},
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_properties" and "cron" in error["message"]
    assert error["details"]["properties"]["cron_expression"] == error["message"]


@pytest.mark.parametrize("phase", ["discovery", "tap", "target", "load"])
def test_a_failure_in_each_phase_is_reported_with_its_phase_and_message(
    stack: Stack, phase: str
) -> None:
    widget, source_id = connect(stack)
    message = f"{phase} broke: the scripted reason"
    script_job(stack, source_id, outcome="failed", phase=phase, message=message)
    widget.post(f"/v1/sources/{source_id}/sync").raise_for_status()
    advance_and_poll(stack, POLL + 1)
    sync = sync_of(stack, source_id)
    assert sync["state"] == "failed" and sync["trigger"] == "manual"
    assert sync["error"] == {"phase": phase, "message": message}
    failed = event_bodies(stack, "source.sync_failed")
    assert [e["data"]["error"] for e in failed] == [{"phase": phase, "message": message}]


def advance_to_next_sync(stack: Stack, end_user: str) -> None:
    """Move both clocks to the source's next scheduled run, as the bridge shows it."""
    listed = stack.backend().get(f"/v1/end-users/{end_user}/sources").json()["data"]
    fire = datetime.fromisoformat(listed[0]["schedule"]["next_sync_at"].replace("Z", "+00:00"))
    now = stack.emulator_http().get("/_emulator/clock").json()["now"]
    stack.advance((fire - datetime.fromisoformat(now.replace("Z", "+00:00"))).total_seconds())


def test_scheduled_jobs_are_recognised_and_reported_once(stack: Stack) -> None:
    _, source_id = connect(stack)
    advance_to_next_sync(stack, "syncer")  # the schedule starts a job
    advance_and_poll(stack, POLL)  # it ran its 30 s; the poller reads it
    sync = sync_of(stack, source_id)
    assert sync["state"] == "succeeded" and sync["trigger"] == "schedule"
    started = event_bodies(stack, "source.sync_started")
    assert [(e["data"]["job_name"], e["data"]["trigger"]) for e in started] == [
        (sync["job_name"], "schedule")
    ]
    assert len(event_bodies(stack, "source.sync_succeeded")) == 1

    script_job(stack, source_id, outcome="failed", phase="tap", message="token revoked")
    advance_to_next_sync(stack, "syncer")
    advance_and_poll(stack, POLL + 1)
    sync = sync_of(stack, source_id)
    assert sync["state"] == "failed" and sync["trigger"] == "schedule"
    assert sync["error"] == {"phase": "tap", "message": "token revoked"}
    assert sync["last_succeeded_at"] is not None  # the earlier run still counts
