"""`GET /_emulator/state`: the whole emulator as one JSON document, for tests to assert on."""

from __future__ import annotations

import dataclasses
from typing import Any

from ..config import EmulatorConfig
from . import checks
from .context import Context
from .controls import Controls
from .destination_operations import DestinationOperations
from .model import Account, Job
from .source_operations import SourceOperations
from .timefmt import iso


def _account(account: Account, default_id: int | None) -> dict[str, Any]:
    return {
        "id": account.id,
        "access_token": account.access_tokens[0],
        "access_tokens": list(account.access_tokens),
        "email": account.email,
        "first_name": account.first_name,
        "last_name": account.last_name,
        "company": account.company,
        "region": account.region,
        "created_at": iso(account.created_at),
        "default": account.id == default_id,
    }


def _job(job: Job) -> dict[str, Any]:
    return {
        "job_name": job.name,
        "source_id": job.source_id,
        "stitch_client_id": job.account_id,
        "start_time": iso(job.start_time),
        "completion_time": iso(job.completion_time),
        "stopped": job.stopped,
        "trigger": job.trigger,
        "failed_phase": job.failed_phase,
        "message": job.message,
        "loaded_streams": list(job.loaded_streams),
    }


def public_config(config: EmulatorConfig) -> dict[str, Any]:
    shown = dataclasses.asdict(config)
    shown["partner_redirect_uris"] = list(config.partner_redirect_uris)
    return shown


def snapshot(
    ctx: Context,
    controls: Controls,
    source_part: SourceOperations,
    destination_part: DestinationOperations,
) -> dict[str, Any]:
    """Made from the backend's parts, not the backend: the backend depends on this, not back."""
    world = ctx.world
    return {
        "now": iso(ctx.now()),
        "accounts": [_account(a, world.default_account_id) for a in world.accounts],
        "sources": [source_part.render(s) for s in world.sources],
        "connection_checks": [
            {"source_id": s.id, **checks.render_check(s.last_check)}
            for s in world.sources
            if s.last_check is not None
        ],
        "destinations": [destination_part.render(d) for d in world.destinations],
        "jobs": [_job(j) for j in world.jobs],
        "check_scripts": [dataclasses.asdict(s) for s in world.check_scripts],
        "job_scripts": [dataclasses.asdict(s) for s in ctx.job_scripts.values()],
        "faults": controls.faults(),
        "config": public_config(ctx.config),
    }
