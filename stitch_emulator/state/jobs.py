"""Replication jobs (§5.5), and the extractions and loads they leave behind (§5.6, §8.2)."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta
from typing import Any

from .checks import job_name
from .errors import job_error
from .model import Job, JobScript, Source, World
from .timefmt import iso

PAGE_SIZE = 100
HISTORY = timedelta(days=60)


PHASES = ("discovery", "tap", "target", "load")
DEFAULT_MESSAGES = {
    "discovery": "discovery failed: 401 Unauthorized (credentials revoked)",
    "tap": "tap failed: 401 Unauthorized (credentials revoked)",
    "target": "target failed: the Import API rejected the batch",
    "load": "load failed: the destination rejected the batch",
}


def start_job(
    world: World,
    source: Source,
    now: datetime,
    duration: float,
    *,
    trigger: str = "manual",
    script: JobScript | None = None,
) -> Job:
    job = Job(
        name=job_name(source, "sync"),
        source_id=source.id,
        account_id=source.account_id,
        start_time=now,
        ends_at=now + timedelta(seconds=duration),
        trigger=trigger,
    )
    if script is not None and script.outcome == "failed":
        job.failed_phase = script.phase or "tap"
        job.message = script.message or DEFAULT_MESSAGES[job.failed_phase]
    world.jobs.append(job)
    return job


def complete_job(job: Job, source: Source | None) -> None:
    job.completion_time = job.ends_at
    # A job that fails before loading loads nothing; a load failure is a failed load attempt.
    if source is not None and job.failed_phase in (None, "load"):
        job.loaded_streams = sorted(s.stream_name for s in source.streams if s.selected)


def stop_job(job: Job, now: datetime) -> None:
    job.completion_time = now
    job.stopped = True


def _tap_name(source_type: str) -> str:
    return "tap-" + source_type.split(".")[-1] if "." in source_type else source_type


def _exit_statuses(job: Job) -> dict[str, tuple[int | None, str | None]]:
    """(exit status, description) per phase; phases after the failing one never ran (null)."""
    if job.stopped:
        return {"discovery": (0, None), "tap": (1, "Terminated"), "target": (None, None)}
    ok: tuple[int | None, str | None] = (0, None)
    never: tuple[int | None, str | None] = (None, None)
    failed: tuple[int | None, str | None] = (1, job.message)
    if job.failed_phase == "discovery":
        return {"discovery": failed, "tap": never, "target": never}
    if job.failed_phase == "tap":
        return {"discovery": ok, "tap": failed, "target": never}
    if job.failed_phase == "target":
        return {"discovery": ok, "tap": ok, "target": failed}
    return {"discovery": ok, "tap": ok, "target": ok}  # a load failure is not the extraction's


def extraction_view(job: Job, source: Source) -> dict[str, Any]:
    """The Extraction object of §4.11 for a finished job."""
    phases = _exit_statuses(job)
    return {
        "target_exit_status": phases["target"][0],
        "job_name": job.name,
        "start_time": iso(job.start_time),
        "stitch_client_id": job.account_id,
        "tap_exit_status": phases["tap"][0],
        "source_type": _tap_name(source.type),
        "target_description": phases["target"][1],
        "discovery_exit_status": phases["discovery"][0],
        "discovery_description": phases["discovery"][1],
        "tap_description": phases["tap"][1],
        "completion_time": iso(job.completion_time),
        "source_id": job.source_id,
    }


def load_error_state(job: Job, source: Source, stream_name: str) -> dict[str, Any]:
    """§4.12 names only the two keys (structure "subject to change"); the rest is ours."""
    return {
        "notification_data": {
            "error_type": "load_error",
            "message": job.message,
            "source_name": source.name,
            "stream_name": stream_name,
            "job_name": job.name,
        },
        "exception_chain": [{"type": "LoadError", "message": job.message}],
    }


def _recent_finished(world: World, account_id: int, now: datetime) -> list[Job]:
    return [
        j
        for j in world.jobs
        if j.account_id == account_id
        and j.completion_time is not None
        and now - j.completion_time <= HISTORY
    ]


def extractions(world: World, account_id: int, now: datetime) -> list[dict[str, Any]]:
    """The last completed extraction per source, ascending by source id."""
    last: dict[int, Job] = {}
    # Jobs are kept in start order, so a later one replaces an earlier one of the same source.
    for job in _recent_finished(world, account_id, now):
        last[job.source_id] = job
    views = []
    for source_id in sorted(last):
        source = world.source(account_id, source_id)
        if source is not None:
            views.append(extraction_view(last[source_id], source))
    return views


def loads(world: World, account_id: int, now: datetime) -> list[dict[str, Any]]:
    """The most recent load per stream, ascending by stream name (§5.6)."""
    latest: dict[tuple[int, str], Job] = {}
    for job in _recent_finished(world, account_id, now):
        for stream_name in job.loaded_streams:
            latest[(job.source_id, stream_name)] = job
    views = []
    for (source_id, stream_name), job in latest.items():
        source = world.source(account_id, source_id)
        if source is None:
            continue
        failed = job.failed_phase == "load"
        views.append(
            {
                "stitch_client_id": account_id,
                "source_name": source.name,
                "stream_name": stream_name,
                "last_batch_loaded_at": None if failed else iso(job.completion_time),
                "error_state": load_error_state(job, source, stream_name) if failed else None,
            }
        )
    return sorted(views, key=lambda v: (v["stream_name"], v["source_name"]))


def paginate(items: list[dict[str, Any]], page: int, path: str) -> dict[str, Any]:
    """§8.2: 100 per page, `links` with relative `next`/`previous` paths, `{}` on one page."""
    total = len(items)
    last_page = max(1, -(-total // PAGE_SIZE))
    links: dict[str, str] = {}
    if page > 1:
        links["previous"] = f"{path}?page={min(page - 1, last_page)}"
    if page < last_page:
        links["next"] = f"{path}?page={page + 1}"
    start = (page - 1) * PAGE_SIZE
    return {
        "data": items[start : start + PAGE_SIZE],
        "page": page,
        "total": total,
        "links": links,
    }


class JobsRateLimit:
    """The `jobs` resource type of §8.1: 30 requests per 10 minutes per client id."""

    LIMIT = 30
    WINDOW = timedelta(minutes=10)

    def __init__(self) -> None:
        self._seen: dict[int, deque[datetime]] = {}

    def hit(self, account_id: int, now: datetime) -> float | None:
        """Count one request; None if allowed, else the seconds until the next is allowed."""
        seen = self._seen.setdefault(account_id, deque())
        while seen and now - seen[0] >= self.WINDOW:
            seen.popleft()
        if len(seen) >= self.LIMIT:
            return max(1.0, (seen[0] + self.WINDOW - now).total_seconds())
        seen.append(now)
        return None


def start_replication(
    world: World,
    source: Source | None,
    source_id: int,
    account_id: int,
    *,
    configured: bool,
    now: datetime,
    duration: float,
    script: JobScript | None = None,
) -> dict[str, Any]:
    """`POST /v4/sources/{id}/sync` (§5.5, §13.12); `script` is used only if a job starts."""
    if source is None:
        raise job_error(
            "invalid_source", f"Unable to locate source({source_id}) for client ({account_id})"
        )
    if source.deleted_at is not None:
        raise job_error("invalid_source", "Integration is deleted.")
    if not configured:
        raise job_error(
            "generic",
            f"Could not create job for client-id: {account_id}; connection-id: {source_id}",
        )
    if world.running_job(source.id) is not None:
        # Documented with status 200, not an error status.
        return {
            "error": {
                "type": "already_running",
                "message": f"Did not create job for client-id: {account_id}; "
                f"connection-id: {source_id} because one already exists",
            }
        }
    return {"job_name": start_job(world, source, now, duration, script=script).name}


def log_text(job: Job) -> str:
    """What the extraction-log download holds for a job."""
    lines = [f"{iso(job.start_time)} INFO {job.trigger} job {job.name} started"]
    if job.completion_time is not None:
        if job.stopped:
            lines.append(f"{iso(job.completion_time)} INFO job stopped")
        elif job.failed_phase is not None:
            lines.append(f"{iso(job.completion_time)} ERROR {job.failed_phase}: {job.message}")
            lines.append(f"{iso(job.completion_time)} INFO job failed")
        else:
            lines.append(f"{iso(job.completion_time)} INFO job finished")
    return "\n".join(lines) + "\n"
