"""Reading sync health from Stitch's wire shapes (reference §4.11, §4.12): which phase failed,
in whose words, and whether an extraction is news for a source."""

from __future__ import annotations

from typing import Any

from bridge.poller import poll_period
from bridge.store.tables import SourceRow
from bridge.sync_state import finished_job, is_newer, load_error


def extraction(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "job_name": "116078.233312.sync.e4d8eae5",
        "source_id": 233312,
        "start_time": "2020-06-19T15:09:38Z",
        "completion_time": "2020-06-19T15:09:43Z",
        "discovery_exit_status": 0,
        "discovery_description": None,
        "tap_exit_status": 0,
        "tap_description": None,
        "target_exit_status": 0,
        "target_description": None,
    }
    return {**base, **overrides}


def test_the_first_failing_phase_is_the_error_with_stitchs_description() -> None:
    assert finished_job(extraction()).error is None  # type: ignore[union-attr]
    tap = finished_job(
        extraction(tap_exit_status=1, tap_description="401 Unauthorized", target_exit_status=None)
    )
    assert tap is not None and tap.error == {"phase": "tap", "message": "401 Unauthorized"}
    discovery = finished_job(
        extraction(discovery_exit_status=2, discovery_description=None, tap_exit_status=None)
    )
    assert discovery is not None and discovery.error is not None
    assert discovery.error["phase"] == "discovery" and "status 2" in discovery.error["message"]
    target = finished_job(extraction(target_exit_status=1, target_description="rejected"))
    assert target is not None and target.error == {"phase": "target", "message": "rejected"}
    assert finished_job({"job_name": 3, "source_id": 1}) is None  # malformed: ignored


def test_a_load_error_state_is_a_load_failure_of_that_source_only() -> None:
    loads = [
        {"source_name": "other", "stream_name": "a", "error_state": {"x": "not ours"}},
        {"source_name": "billing", "stream_name": "a", "error_state": None},
        {
            "source_name": "billing",
            "stream_name": "b",
            "error_state": {
                "notification_data": {"error_type": "load_error", "message": "disk full"},
                "exception_chain": [{"message": "LoadError: disk full"}],
            },
        },
    ]
    assert load_error(loads, "billing") == {"phase": "load", "message": "disk full"}
    assert load_error(loads[1:2], "billing") is None


def test_an_extraction_is_news_only_for_a_newer_or_running_job() -> None:
    row = SourceRow(sync_state="never", sync_job_name=None, sync_started_at=None)
    job = finished_job(extraction())
    assert job is not None and job.started_at is not None
    assert is_newer(row, job)
    row.sync_state, row.sync_job_name, row.sync_started_at = "running", job.job_name, 1.0
    assert is_newer(row, job)  # the job the bridge started has finished
    row.sync_state = "succeeded"
    assert not is_newer(row, job)  # already recorded
    row.sync_job_name, row.sync_started_at = "a later manual job", job.started_at + 60
    assert not is_newer(row, job)  # an older job than the one running now


def test_the_poll_period_leaves_half_the_jobs_budget_for_loads() -> None:
    assert poll_period(60, 20) == 60  # the defaults: 10 extractions + 10 loads per 10 minutes
    assert poll_period(10, 20) == 60
    assert poll_period(10, 6) == 200
    assert poll_period(300, 20) == 300
