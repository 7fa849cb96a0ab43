"""Sync health from Stitch's words: extractions and loads become a source's `sync` (§4.8).

Pure functions over Stitch's wire shapes (reference §4.11, §4.12), so the rules are testable
without HTTP. An extraction runs discovery → tap → target; the first non-zero exit status names
the phase that failed, its `*_description` the reason. A job whose extraction passed can still
fail while loading: the source's loads then carry an `error_state`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bridge.clock import iso
from bridge.stitch.models import Source
from bridge.store.tables import SourceRow

PHASES = ("discovery", "tap", "target")
NEVER = {
    "state": "never",
    "job_name": None,
    "trigger": None,
    "started_at": None,
    "completed_at": None,
    "last_succeeded_at": None,
    "error": None,
}


def epoch(stamp: object) -> float | None:
    if not isinstance(stamp, str) or not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp()
    except ValueError:
        return None


@dataclass(frozen=True)
class FinishedJob:
    """A replication job as its extraction tells it; `error` None and `loaded` False means the
    extraction passed and the loads have yet to say whether the job did."""

    job_name: str
    source_id: int
    started_at: float | None
    completed_at: float | None
    error: dict[str, str] | None

    @property
    def extracted(self) -> bool:
        return self.error is None


def finished_job(extraction: Mapping[str, Any]) -> FinishedJob | None:
    """The job an extraction object describes, or None when it is malformed or still running."""
    job_name, source_id = extraction.get("job_name"), extraction.get("source_id")
    if (
        not isinstance(job_name, str)
        or isinstance(source_id, bool)
        or not isinstance(source_id, int)
    ):
        return None
    error = None
    for phase in PHASES:
        status = extraction.get(f"{phase}_exit_status")
        if isinstance(status, int) and status != 0:
            description = extraction.get(f"{phase}_description")
            message = description if isinstance(description, str) and description else None
            error = {"phase": phase, "message": message or f"{phase} exited with status {status}"}
            break
    if error is None and extraction.get("tap_exit_status") is None:
        return None  # nothing has finished yet
    return FinishedJob(
        job_name=job_name,
        source_id=source_id,
        started_at=epoch(extraction.get("start_time")),
        completed_at=epoch(extraction.get("completion_time")),
        error=error,
    )


def load_error(loads: Iterable[Mapping[str, Any]], source_name: str) -> dict[str, str] | None:
    """The failure of the source's latest loads (`error_state` on any of its streams), if any."""
    for load in loads:
        state = load.get("error_state")
        if load.get("source_name") == source_name and state:
            return {"phase": "load", "message": _first_message(state) or "loading failed"}
    return None


def _first_message(value: object) -> str | None:
    """Stitch documents `error_state`'s structure as subject to change: take the first text
    found under a key naming a message, else the first text at all."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Mapping):
        ordered = sorted(value.items(), key=lambda kv: "message" not in str(kv[0]).lower())
        for _key, item in ordered:
            found = _first_message(item)
            if found:
                return found
    if isinstance(value, list):
        for item in value:
            found = _first_message(item)
            if found:
                return found
    return None


def is_newer(row: SourceRow, job: FinishedJob) -> bool:
    """Whether `job` tells the bridge something it has not recorded for the source yet."""
    if job.job_name == row.sync_job_name:
        return row.sync_state == "running"
    if row.sync_started_at is None:
        return True
    # Another job than the one recorded: news only when it started after that one.
    return job.started_at is not None and job.started_at > row.sync_started_at


def render_schedule(upstream: Source) -> dict[str, Any] | None:
    """`schedule` of CONTRACT §4.3 from Stitch's properties and schedule object (§4.6, §6.2)."""
    props = upstream.properties
    schedule = upstream.schedule or {}
    frequency = props.get("frequency_in_minutes")
    try:
        minutes = int(str(frequency)) if frequency is not None else None
    except ValueError:
        minutes = None
    if minutes is None and schedule.get("type") == "interval":
        interval = schedule.get("interval")
        minutes = int(interval) if isinstance(interval, int | float) else None
    rendered = {
        "frequency_in_minutes": minutes,
        "anchor_time": props.get("anchor_time")
        if isinstance(props.get("anchor_time"), str)
        else None,
        "cron_expression": (
            props.get("cron_expression") if isinstance(props.get("cron_expression"), str) else None
        ),
        "next_sync_at": schedule.get("next_fire_time")
        if isinstance(schedule.get("next_fire_time"), str)
        else None,
    }
    return rendered if any(v is not None for v in rendered.values()) else None


def same_schedule(a: Mapping[str, Any] | None, b: Mapping[str, Any] | None) -> bool:
    """Whether two rendered schedules are the same choice (the next run time moves by itself)."""
    keys = ("frequency_in_minutes", "anchor_time", "cron_expression")
    return all((a or {}).get(k) == (b or {}).get(k) for k in keys)


def render_sync(row: SourceRow) -> dict[str, Any]:
    if row.sync_state == "never" or row.sync_state is None:
        return dict(NEVER)
    return {
        "state": row.sync_state,
        "job_name": row.sync_job_name,
        "trigger": row.sync_trigger,
        "started_at": iso(row.sync_started_at) if row.sync_started_at is not None else None,
        "completed_at": iso(row.sync_completed_at) if row.sync_completed_at is not None else None,
        "last_succeeded_at": (
            iso(row.sync_last_succeeded_at) if row.sync_last_succeeded_at is not None else None
        ),
        "error": dict(row.sync_error) if row.sync_error else None,
    }
