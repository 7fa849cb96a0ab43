"""Work Stitch does on its own, finished lazily once the clock has passed its end."""

from __future__ import annotations

import heapq
from datetime import datetime
from typing import Any

from . import checks, jobs
from .context import Context
from .job_operations import JobOperations
from .report_card import source_step_type

CHECK, JOB, FIRE = 0, 1, 2  # at the same instant: checks end, then jobs, then schedules fire


def _due(
    ctx: Context, job_part: JobOperations, now: datetime
) -> list[tuple[datetime, int, int, Any]]:
    due: list[tuple[datetime, int, int, Any]] = []
    for source in ctx.world.sources:
        check = source.last_check
        if check is not None and check.status == "running" and check.completes_at <= now:
            due.append((check.completes_at, CHECK, len(due), source))
        for fire in job_part.due_fires(source, now):
            due.append((fire, FIRE, len(due), source))
    for job in ctx.world.jobs:
        if job.completion_time is None and job.ends_at <= now:
            due.append((job.ends_at, JOB, len(due), job))
    return due


def settle(ctx: Context, job_part: JobOperations) -> bool:
    """Finish every check and job whose time has come and start every scheduled job whose
    fire time has come, in time order (a job ending at a fire time frees the source).
    True when anything changed."""
    now = ctx.now()
    due = _due(ctx, job_part, now)
    heapq.heapify(due)
    settled = bool(due)
    while due:
        when, kind, _, item = heapq.heappop(due)
        if kind == CHECK:
            card = ctx.type_card(item.type)
            before = source_step_type(item, card)
            checks.complete_check(ctx.world, item, ctx.catalogue.stream_fixtures(item.type))
            checks.refresh(item, card, before, False, when, ctx.config.check_delay)
        elif kind == JOB:
            jobs.complete_job(item, ctx.world.source(item.account_id, item.source_id))
        else:
            job = job_part.start_scheduled(item, when)
            if job is not None and job.ends_at <= now:
                heapq.heappush(due, (job.ends_at, JOB, -len(ctx.world.jobs), job))
    return settled
