"""Replication jobs (§5.5, §5.6) and the schedule that starts them, as a part of the backend.

Plain and unlocked: `EmulatorBackend` serialises and settles around every call.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from . import jobs, schedule
from .context import Context
from .errors import ApiError, job_error, not_found, unauthorized
from .model import Job, JobScript, Source


class JobOperations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def start(self, account_id: int, source_id: int) -> dict[str, Any]:
        ctx = self.ctx
        source = ctx.world.source(account_id, source_id)
        configured = source is not None and ctx.step_type(source) == "fully_configured"
        answer = jobs.start_replication(
            ctx.world,
            source,
            source_id,
            account_id,
            configured=configured,
            now=ctx.now(),
            duration=ctx.config.job_duration,
            script=ctx.job_scripts.get(source_id),
        )
        if "job_name" in answer:
            ctx.job_scripts.pop(source_id, None)
        return answer

    def stop(self, account_id: int, source_id: int) -> dict[str, int]:
        if self.ctx.world.source(account_id, source_id) is None:
            raise job_error(
                "invalid_source", f"Unable to locate source({source_id}) for client ({account_id})"
            )
        running = self.ctx.world.running_job(source_id)
        if running is not None:
            jobs.stop_job(running, self.ctx.now())
        return {"status": 200}

    def script(self, script: JobScript) -> None:
        """The next replication job of `script.source_id`, manual or scheduled, ends so."""
        self.ctx.job_scripts[script.source_id] = script

    def clear_scripts(self) -> None:
        self.ctx.job_scripts.clear()

    # -- the schedule ---------------------------------------------------------------------

    def reschedule(self, source: Source) -> None:
        """After a change to the source: its next fire time from now, if Stitch schedules it."""
        source.next_fire = schedule.next_fire_after(
            source, self.ctx.step_type(source), self.ctx.now()
        )

    def due_fires(self, source: Source, now: datetime) -> list[datetime]:
        """The fire times that have come (at most the last few), and the next one noted."""
        if source.next_fire is None or source.next_fire > now:
            return []
        next_fire = schedule.fire_function(source, now)
        if next_fire is None:
            source.next_fire = None
            return []
        fires = schedule.due_fires(next_fire, source.next_fire, now)
        source.next_fire = next_fire(now)
        return fires

    def start_scheduled(self, source: Source, when: datetime) -> Job | None:
        """A fire time came: start a job unless one is still running (then Stitch skips it)."""
        ctx = self.ctx
        if ctx.world.running_job(source.id) is not None:
            return None
        script = ctx.job_scripts.pop(source.id, None)
        return jobs.start_job(
            ctx.world, source, when, ctx.config.job_duration, trigger="schedule", script=script
        )

    # -- job history (§5.6) ---------------------------------------------------------------

    def _jobs_request(self, account_id: int, client_id: int) -> None:
        if client_id != account_id:
            raise unauthorized("the access token has no access to this client id")
        if self.ctx.config.rate_limit_jobs:
            wait = self.ctx.jobs_rate_limit.hit(account_id, self.ctx.now())
            if wait is not None:
                raise ApiError(
                    429,
                    {"error": "TooManyRequests", "data": {"message": "jobs rate limit exceeded"}},
                    {"Retry-After": str(int(wait + 0.999))},
                )

    def extractions(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        self._jobs_request(account_id, client_id)
        items = jobs.extractions(self.ctx.world, account_id, self.ctx.now())
        return jobs.paginate(items, page, f"/v4/{client_id}/extractions")

    def loads(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        self._jobs_request(account_id, client_id)
        items = jobs.loads(self.ctx.world, account_id, self.ctx.now())
        return jobs.paginate(items, page, f"/v4/{client_id}/loads")

    def extraction_logs(self, account_id: int, client_id: int, job_name: str) -> str:
        """The job whose logs exist; the route answers with a 302 to them."""
        self._jobs_request(account_id, client_id)
        owned = (j for j in self.ctx.world.jobs if j.account_id == account_id)
        if not any(j.name == job_name for j in owned):
            raise not_found(f"extraction job not found ({job_name})")
        return job_name

    def log_text(self, job_name: str) -> str | None:
        job = next((j for j in self.ctx.world.jobs if j.name == job_name), None)
        return None if job is None else jobs.log_text(job)
