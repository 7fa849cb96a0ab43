"""Replication job operations of the backend (§5.5, §5.6), kept apart from sources and accounts."""

from __future__ import annotations

from typing import Any

from . import jobs
from .errors import ApiError, job_error, not_found, unauthorized
from .operations import operation, reading


class ReplicationJobOperations:
    """Mixed into EmulatorBackend, whose world, clock, config and lock it uses."""

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
        )
        failure = self.job_failures.pop(source_id, None)
        if failure is not None and "job_name" in answer:
            for job in self.world.jobs:
                if job.name == answer["job_name"]:
                    job.tap_error = failure
        return answer

    @operation
    def script_job_failure(self, source_id: int, tap_error: str) -> None:
        """The next replication job of `source_id` fails in its tap with this message."""
        self.job_failures[source_id] = tap_error

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
