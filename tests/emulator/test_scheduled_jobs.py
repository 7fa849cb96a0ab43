"""Replication jobs that Stitch starts on its own (§4.6, §6.2) and scripted job outcomes
(CONTRACT §7): what a client sees through extractions and loads as the emulator clock moves."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from stitch_emulator import EmulatorBackend
from stitch_emulator.state.timefmt import iso

from .conftest import AppClient
from .docs_data import assert_same_shape, reference_json_blocks
from .factories import RECURLY, fully_configured

HOUR = 3600


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _next_fire(stitch: AppClient, source_id: int) -> str:
    schedule = stitch.get(f"/v4/sources/{source_id}").json()["schedule"]
    assert schedule is not None
    return str(schedule["next_fire_time"])


def _extractions(stitch: AppClient, account_id: int) -> list[dict[str, Any]]:
    answer = stitch.get(f"/v4/{account_id}/extractions")
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]  # type: ignore[no-any-return]


def _loads(stitch: AppClient, account_id: int) -> list[dict[str, Any]]:
    answer = stitch.get(f"/v4/{account_id}/loads")
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]  # type: ignore[no-any-return]


def _advance_to(stitch: AppClient, moment: str, extra: float = 0) -> None:
    now = _moment(stitch.get("/_emulator/clock").json()["now"])
    seconds = (_moment(moment) - now).total_seconds() + extra
    assert seconds >= 0
    stitch.post("/_emulator/clock", json={"advance": seconds})


def _jobs(stitch: AppClient) -> list[dict[str, Any]]:
    return stitch.get("/_emulator/state").json()["jobs"]  # type: ignore[no-any-return]


def test_a_scheduled_job_starts_at_next_fire_time_and_reports_after_job_duration(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    fire = _next_fire(stitch, source["id"])
    _advance_to(stitch, fire, -1)
    assert _jobs(stitch) == [] and _extractions(stitch, account_id) == []

    _advance_to(stitch, fire, 29)  # the job started at the fire time and is still running
    assert [(j["trigger"], j["start_time"], j["completion_time"]) for j in _jobs(stitch)] == [
        ("schedule", fire, None)
    ]
    assert _extractions(stitch, account_id) == []
    assert stitch.post(f"/v4/sources/{source['id']}/sync").json()["error"]["type"] == (
        "already_running"
    )
    assert _next_fire(stitch, source["id"]) == iso(_moment(fire) + timedelta(minutes=60))

    stitch.post("/_emulator/clock", json={"advance": 1})
    extraction = _extractions(stitch, account_id)[0]
    assert_same_shape(extraction, reference_json_blocks("### 4.11")[0])
    assert extraction["start_time"] == fire
    assert extraction["completion_time"] == iso(_moment(fire) + timedelta(seconds=30))
    assert extraction["job_name"] == _jobs(stitch)[0]["job_name"]
    loads = _loads(stitch, account_id)
    assert_same_shape(loads[0], reference_json_blocks("### 4.12")[0])
    assert [(x["stream_name"], x["last_batch_loaded_at"]) for x in loads] == [
        ("accounts", extraction["completion_time"])
    ]


def test_every_fire_time_starts_a_job_as_the_clock_moves_on(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    first = _next_fire(stitch, source["id"])
    _advance_to(stitch, first, 3 * HOUR + 60)  # in one jump: four fire times passed
    starts = [j["start_time"] for j in _jobs(stitch)]
    assert starts == [iso(_moment(first) + timedelta(hours=k)) for k in range(4)]
    assert all(j["completion_time"] is not None for j in _jobs(stitch))
    assert _extractions(stitch, account_id)[0]["start_time"] == starts[-1]


def test_anchor_time_places_the_fire_times(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    body = {**RECURLY, "properties": {**RECURLY["properties"], "frequency_in_minutes": "360"}}
    body["properties"]["anchor_time"] = "2020-01-01T03:30:00Z"
    source = fully_configured(backend, account_id, body)
    assert _next_fire(stitch, source["id"]) == "2020-03-20T21:30:00Z"  # the clock is at 16:00
    stitch.post("/_emulator/clock", json={"advance": 6 * HOUR})  # 22:00: one fire, at 21:30
    assert [j["start_time"] for j in _jobs(stitch)] == ["2020-03-20T21:30:00Z"]
    assert _next_fire(stitch, source["id"]) == "2020-03-21T03:30:00Z"


def test_a_cron_expression_fires_on_its_days(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    body = {**RECURLY, "properties": {**RECURLY["properties"]}}
    body["properties"]["cron_expression"] = "0 0 12 ? * MON-FRI *"
    source = fully_configured(backend, account_id, body)  # Friday 2020-03-20, 16:00
    assert _next_fire(stitch, source["id"]) == "2020-03-23T12:00:00Z"
    stitch.post("/_emulator/clock", json={"advance": 4 * 24 * HOUR})  # to Tuesday 16:00
    starts = [j["start_time"] for j in _jobs(stitch)]
    assert starts == ["2020-03-23T12:00:00Z", "2020-03-24T12:00:00Z"]


def test_paused_sources_do_not_fire_until_unpaused(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    fire = _next_fire(stitch, source["id"])
    paused = stitch.put(f"/v4/sources/{source['id']}", json={"paused_at": "2020-03-20T16:00:00Z"})
    assert paused.status_code == 200 and paused.json()["schedule"] is None
    stitch.post("/_emulator/clock", json={"advance": 5 * HOUR})
    assert _jobs(stitch) == []

    stitch.put(f"/v4/sources/{source['id']}", json={"paused_at": None})
    later = _next_fire(stitch, source["id"])
    assert later == iso(_moment(fire) + timedelta(hours=5))  # the same anchor, after unpausing
    _advance_to(stitch, later, 30)
    assert [(j["trigger"], j["start_time"]) for j in _jobs(stitch)] == [("schedule", later)]


def test_a_fire_time_during_a_running_job_is_skipped(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    fire = _next_fire(stitch, source["id"])
    stitch.post("/_emulator/config", json={"job_duration": 2 * HOUR})
    _advance_to(stitch, fire, -60)
    manual = stitch.post(f"/v4/sources/{source['id']}/sync").json()["job_name"]
    _advance_to(stitch, fire, 90 * 60)  # the manual job ran over the fire times 0 and +1h
    assert [j["job_name"] for j in _jobs(stitch)] == [manual]
    _advance_to(stitch, fire, 2 * HOUR + 1)  # it ended at +1h59m; the +2h one started
    jobs = _jobs(stitch)
    assert [(j["trigger"], j["start_time"]) for j in jobs] == [
        ("manual", iso(_moment(fire) - timedelta(seconds=60))),
        ("schedule", iso(_moment(fire) + timedelta(hours=2))),
    ]


def test_a_long_clock_jump_leaves_the_last_runs_without_replaying_every_fire(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    body = {**RECURLY, "properties": {**RECURLY["properties"], "frequency_in_minutes": "1"}}
    source = fully_configured(backend, account_id, body)
    fire = _next_fire(stitch, source["id"])
    stitch.post("/_emulator/clock", json={"advance": 30 * 24 * HOUR})  # 43,200 fire times
    jobs = _jobs(stitch)
    assert 1 <= len(jobs) <= 10
    last_fire = _moment(_next_fire(stitch, source["id"])) - timedelta(minutes=1)
    assert jobs[-1]["start_time"] == iso(last_fire) and jobs[-1]["completion_time"] is None
    assert _extractions(stitch, account_id)[0]["start_time"] == iso(
        last_fire - timedelta(minutes=1)
    )
    assert _moment(jobs[0]["start_time"]) > _moment(fire)


def test_a_manual_job_is_reported_after_job_duration_under_the_name_it_was_given(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    started = stitch.post(f"/v4/sources/{source['id']}/sync").json()["job_name"]
    stitch.post("/_emulator/clock", json={"advance": 29})
    assert _extractions(stitch, account_id) == [] and _loads(stitch, account_id) == []
    stitch.post("/_emulator/clock", json={"advance": 1})
    extraction = _extractions(stitch, account_id)[0]
    assert extraction["job_name"] == started
    assert (extraction["tap_exit_status"], extraction["target_exit_status"]) == (0, 0)
    assert [j["trigger"] for j in _jobs(stitch)] == ["manual"]
    assert [x["error_state"] for x in _loads(stitch, account_id)] == [None]


EXIT_STATUSES = {
    # phase: (discovery, tap, target) exit statuses, the description field, loads added
    "discovery": ((1, None, None), "discovery_description", False),
    "tap": ((0, 1, None), "tap_description", False),
    "target": ((0, 0, 1), "target_description", False),
    "load": ((0, 0, 0), None, True),
}


@pytest.mark.parametrize("phase", list(EXIT_STATUSES))
def test_a_scripted_failure_shows_in_the_phase_it_names(
    stitch: AppClient, backend: EmulatorBackend, account_id: int, phase: str
) -> None:
    source = fully_configured(backend, account_id)
    message = f"{phase} broke: 401 Unauthorized"
    scripted = stitch.post(
        "/_emulator/jobs",
        json={"source_id": source["id"], "outcome": "failed", "phase": phase, "message": message},
    )
    assert scripted.status_code == 200, scripted.text
    stitch.post(f"/v4/sources/{source['id']}/sync")
    stitch.post("/_emulator/clock", json={"advance": 30})
    extraction = _extractions(stitch, account_id)[0]
    statuses, described, loaded = EXIT_STATUSES[phase]
    assert (
        extraction["discovery_exit_status"],
        extraction["tap_exit_status"],
        extraction["target_exit_status"],
    ) == statuses
    descriptions = ("discovery_description", "tap_description", "target_description")
    for field in descriptions:
        assert extraction[field] == (message if field == described else None), field
    assert set(extraction) == set(reference_json_blocks("### 4.11")[0])
    loads = _loads(stitch, account_id)
    assert len(loads) == (1 if loaded else 0)
    if loaded:
        assert loads[0]["last_batch_loaded_at"] is None
        error_state = loads[0]["error_state"]
        assert set(error_state) == {"notification_data", "exception_chain"}
        assert error_state["notification_data"]["message"] == message
        assert error_state["exception_chain"][0]["message"] == message

    # Only the next job: the one after it succeeds.
    stitch.post(f"/v4/sources/{source['id']}/sync")
    stitch.post("/_emulator/clock", json={"advance": 30})
    extraction = _extractions(stitch, account_id)[0]
    assert (extraction["tap_exit_status"], extraction["target_exit_status"]) == (0, 0)
    assert [x["error_state"] for x in _loads(stitch, account_id)] == [None]


def test_a_load_failure_replaces_the_last_successful_load_of_the_stream(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    stitch.post(f"/v4/sources/{source['id']}/sync")
    stitch.post("/_emulator/clock", json={"advance": 30})
    assert _loads(stitch, account_id)[0]["last_batch_loaded_at"] is not None
    stitch.post(
        "/_emulator/jobs", json={"source_id": source["id"], "outcome": "failed", "phase": "load"}
    )
    stitch.post(f"/v4/sources/{source['id']}/sync")
    stitch.post("/_emulator/clock", json={"advance": 30})
    (load,) = _loads(stitch, account_id)
    assert load["last_batch_loaded_at"] is None and load["error_state"] is not None


def test_a_script_applies_to_the_next_scheduled_job_too(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    stitch.post(
        "/_emulator/jobs",
        json={"source_id": source["id"], "outcome": "failed", "phase": "tap", "message": "revoked"},
    )
    _advance_to(stitch, _next_fire(stitch, source["id"]), 30)
    extraction = _extractions(stitch, account_id)[0]
    assert (extraction["tap_exit_status"], extraction["tap_description"]) == (1, "revoked")
    assert stitch.get("/_emulator/state").json()["job_scripts"] == []


def test_the_older_tap_error_body_still_scripts_a_tap_failure(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    stitch.post("/_emulator/jobs", json={"source_id": source["id"], "tap_error": "revoked"})
    stitch.post(f"/v4/sources/{source['id']}/sync")
    stitch.post("/_emulator/clock", json={"advance": 30})
    extraction = _extractions(stitch, account_id)[0]
    assert (extraction["tap_exit_status"], extraction["tap_description"]) == (1, "revoked")
    assert _loads(stitch, account_id) == []


def test_a_scripted_success_and_delete_clear_a_scripted_failure(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    stitch.post("/_emulator/jobs", json={"source_id": source["id"], "outcome": "failed"})
    stitch.post("/_emulator/jobs", json={"source_id": source["id"], "outcome": "succeeded"})
    stitch.post(f"/v4/sources/{source['id']}/sync")
    stitch.post("/_emulator/clock", json={"advance": 30})
    assert _extractions(stitch, account_id)[0]["tap_exit_status"] == 0
    stitch.post("/_emulator/jobs", json={"source_id": source["id"], "outcome": "failed"})
    assert stitch.delete("/_emulator/jobs").json() == {"job_scripts": []}
    stitch.post(f"/v4/sources/{source['id']}/sync")
    stitch.post("/_emulator/clock", json={"advance": 30})
    assert _extractions(stitch, account_id)[0]["tap_exit_status"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"source_id": "1"},
        {"source_id": 1, "outcome": "maybe"},
        {"source_id": 1, "outcome": "failed", "phase": "preparation"},
        {"source_id": 1, "outcome": "succeeded", "phase": "tap"},
        {"source_id": 1, "outcome": "failed", "message": 7},
    ],
)
def test_bad_job_scripts_are_refused(stitch: AppClient, body: dict[str, Any]) -> None:
    answer = stitch.post("/_emulator/jobs", json=body)
    assert answer.status_code == 400 and answer.json()["error"] == "InvalidControl"


def test_a_paused_source_keeps_its_last_runs_for_60_days(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    stitch.put(f"/v4/sources/{source['id']}", json={"paused_at": "2020-03-20T16:00:00Z"})
    stitch.post(f"/v4/sources/{source['id']}/sync")  # paused sources accept manual jobs
    stitch.post("/_emulator/clock", json={"advance": 30})
    stitch.post("/_emulator/clock", json={"advance": 60 * 24 * HOUR - 30})
    assert len(_extractions(stitch, account_id)) == 1 and len(_loads(stitch, account_id)) == 1
    stitch.post("/_emulator/clock", json={"advance": 31})
    assert _extractions(stitch, account_id) == [] and _loads(stitch, account_id) == []
    assert [j["trigger"] for j in _jobs(stitch)] == ["manual"]


@pytest.mark.parametrize("paused_at", ["2026-12-06T01:57:15.123456", "2026-12-06T01:57:15"])
def test_a_pause_time_without_a_zone_is_accepted(
    stitch: AppClient, backend: EmulatorBackend, account_id: int, paused_at: str
) -> None:
    source = fully_configured(backend, account_id)
    answer = stitch.put(f"/v4/sources/{source['id']}", json={"paused_at": paused_at})
    assert answer.status_code == 200, answer.text
    assert answer.json()["paused_at"] == paused_at and answer.json()["schedule"] is None
    refused = stitch.put(f"/v4/sources/{source['id']}", json={"paused_at": "yesterday"})
    assert refused.status_code == 400 and refused.json()["error"] == "InvalidBody"


def test_the_command_line_switches_the_rate_limit_on() -> None:
    from bridge.cli import _build_parser
    from stitch_emulator.server import config_from_args

    parser = _build_parser()
    assert config_from_args(parser.parse_args(["emulator"])).rate_limit_jobs is False
    switched = config_from_args(
        parser.parse_args(["emulator", "--rate-limit-jobs", "--job-duration", "5"])
    )
    assert switched.rate_limit_jobs is True and switched.job_duration == 5.0
