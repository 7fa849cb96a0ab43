"""Replication job operations of the backend (§5.5, §5.6), kept apart from sources and accounts."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import jobs, schedule
from .errors import ApiError, job_error, not_found, unauthorized
from .model import Job, JobScript, Source
from .operations import operation, reading

if TYPE_CHECKING:
    from ..clock import Clock
    from ..config import EmulatorConfig
    from .model import World


class ReplicationJobOperations:
    """Mixed into EmulatorBackend, whose world, clock, config and lock it uses."""

    world: World
    clock: Clock
    config: EmulatorConfig
    job_scripts: dict[int, JobScript]
    jobs_rate_limit: jobs.JobsRateLimit

    def _step_type(self, source: Source) -> str:
        raise NotImplementedError  # EmulatorBackend's

    @operation
    def start_replication_job(self, account_id: int, source_id: int) -> dict[str, Any]:
        source = self.world.source(account_id, source_id)
        configured = source is not None and self._step_type(source) == "fully_configured"
        answer = jobs.start_replication(
            self.world,
            source,
            source_id,
            account_id,
            configured=configured,
            now=self.clock.now(),
            duration=self.config.job_duration,
            script=self.job_scripts.get(source_id),
        )
        if "job_name" in answer:
            self.job_scripts.pop(source_id, None)
        return answer

    @operation
    def script_job(self, script: JobScript) -> None:
        """The next replication job of `script.source_id`, manual or scheduled, ends so."""
        self.job_scripts[script.source_id] = script

    @operation
    def clear_job_scripts(self) -> None:
        self.job_scripts.clear()

    def _reschedule(self, source: Source) -> None:
        """After a change to the source: its next fire time from now, if Stitch schedules it."""
        source.next_fire = schedule.next_fire_after(
            source, self._step_type(source), self.clock.now()
        )

    def _due_fires(self, source: Source, now: datetime) -> list[datetime]:
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

    def _start_scheduled_job(self, source: Source, when: datetime) -> Job | None:
        """A fire time came: start a job unless one is still running (then Stitch skips it)."""
        if self.world.running_job(source.id) is not None:
            return None
        script = self.job_scripts.pop(source.id, None)
        return jobs.start_job(
            self.world,
            source,
            when,
            self.config.job_duration,
            trigger="schedule",
            script=script,
        )

    @operation
    def stop_replication_job(self, account_id: int, source_id: int) -> dict[str, int]:
        if self.world.source(account_id, source_id) is None:
            raise job_error(
                "invalid_source", f"Unable to locate source({source_id}) for client ({account_id})"
            )
        running = self.world.running_job(source_id)
        if running is not None:
            jobs.stop_job(running, self.clock.now())
        return {"status": 200}

    def _jobs_request(self, account_id: int, client_id: int) -> None:
        if client_id != account_id:
            raise unauthorized("the access token has no access to this client id")
        if self.config.rate_limit_jobs:
            wait = self.jobs_rate_limit.hit(account_id, self.clock.now())
            if wait is not None:
                raise ApiError(
                    429,
                    {"error": "TooManyRequests", "data": {"message": "jobs rate limit exceeded"}},
                    {"Retry-After": str(int(wait + 0.999))},
                )

    @reading
    def list_extractions(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        self._jobs_request(account_id, client_id)
        items = jobs.extractions(self.world, account_id, self.clock.now())
        return jobs.paginate(items, page, f"/v4/{client_id}/extractions")

    @reading
    def list_loads(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        self._jobs_request(account_id, client_id)
        items = jobs.loads(self.world, account_id, self.clock.now())
        return jobs.paginate(items, page, f"/v4/{client_id}/loads")

    @reading
    def get_extraction_logs(self, account_id: int, client_id: int, job_name: str) -> str:
        """The job whose logs exist; the route answers with a 302 to them."""
        self._jobs_request(account_id, client_id)
        if not any(j.name == job_name and j.account_id == account_id for j in self.world.jobs):
            raise not_found(f"extraction job not found ({job_name})")
        return job_name

    def extraction_log_text(self, job_name: str) -> str | None:
        with self._lock:
            job = next((j for j in self.world.jobs if j.name == job_name), None)
            return None if job is None else jobs.log_text(job)
