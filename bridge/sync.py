"""After connecting (CONTRACT §4.8): sync now, stop, schedule, pause and unpause a source.

The same rules serve the widget (a connect session: its own sources, only the actions the
session carries, the end-user schedule limits) and the SaaS backend (API key: every action on
any of the end user's sources, no limits). Each action asks Stitch first, then records what
Stitch answered (`sources.observe`), so a source's `schedule`, `paused_at` and their events
come from one place. A started job is recorded at once (state `running`, its `job_name`) and its
`source.sync_started` claimed by job name, so the poller seeing the same job later adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.clock import iso
from bridge.errors import BridgeError
from bridge.limits import check_end_user_schedule
from bridge.services import Services
from bridge.sources import check_owned, check_visible, observe, record_event
from bridge.stitch.client import StitchAccount
from bridge.stitch.errors import (
    StitchAccessDenied,
    StitchAlreadyRunning,
    StitchBadRequest,
    StitchInvalidProperties,
)
from bridge.stitch.models import Source
from bridge.store import queries as q
from bridge.store.source_queries import lock_source
from bridge.store.sync_queries import claim_job_event
from bridge.store.tables import SourceRow
from bridge.sync_state import FinishedJob
from bridge.tokens import ConnectSession

SCHEDULE_PROPERTIES = ("frequency_in_minutes", "anchor_time", "cron_expression")


@dataclass(frozen=True)
class Actor:
    """Who acts on a source: an end user through a connect session, or the SaaS backend."""

    tenant: str | None
    end_user_id: str
    session: ConnectSession | None = None  # None: the SaaS backend

    @classmethod
    def widget(cls, cs: ConnectSession) -> Actor:
        return cls(cs.tenant, cs.end_user_id, cs)

    def allow(self, action: str) -> None:
        if self.session is not None and action not in self.session.actions:
            raise BridgeError(
                "action_not_allowed", f"this connect session does not allow `{action}`"
            )

    def check(self, row: SourceRow | None) -> SourceRow:
        if self.session is not None:
            return check_visible(self.session, row)
        return check_owned(row, self.tenant, self.end_user_id)


async def _owned(services: Services, actor: Actor, source_id: int) -> SourceRow:
    async with services.db() as session:
        return actor.check(await q.get_source(session, source_id))


async def _record(services: Services, actor: Actor, source_id: int, upstream: Source) -> SourceRow:
    """Bring the row in line with Stitch's answer (events included)."""
    async with services.db.begin() as session:
        row = actor.check(await lock_source(session, source_id))
        await observe(services, session, row, upstream)
    return row


async def start_sync(services: Services, actor: Actor, source_id: int) -> SourceRow:
    actor.allow("sync")
    row = await _owned(services, actor, source_id)
    account = await services.account_for(actor.tenant)
    if row.current_step_type != "fully_configured":
        # The record may lag behind Stitch (the widget never came back): ask before refusing.
        upstream = await account.get_source(source_id)
        await _record(services, actor, source_id, upstream)
        if upstream.report_card.current_step_type != "fully_configured":
            raise _not_ready()
    try:
        job_name = await account.start_sync(source_id)
    except StitchAlreadyRunning:
        raise BridgeError(
            "sync_already_running", "a replication job is already running for this source"
        ) from None
    except StitchBadRequest as error:
        if error.stitch_code == "generic":  # Stitch's "Could not create job": not configured
            raise _not_ready() from None
        raise
    async with services.db.begin() as session:
        row = actor.check(await lock_source(session, source_id))
        await record_started(services, session, row, job_name, "manual", services.clock.time())
    return row


def _not_ready() -> BridgeError:
    return BridgeError(
        "source_not_ready", "the source is not fully configured yet, so it cannot sync"
    )


async def stop_sync(services: Services, actor: Actor, source_id: int) -> SourceRow:
    """Stitch stops the running job; the poller records how it ended (Stitch: "Terminated")."""
    actor.allow("sync")
    await _owned(services, actor, source_id)
    account = await services.account_for(actor.tenant)
    await account.stop_sync(source_id)
    return await _record(services, actor, source_id, await account.get_source(source_id))


async def set_paused(
    services: Services, actor: Actor, source_id: int, *, paused: bool
) -> SourceRow:
    """Pause or unpause; asking for the state a source is already in changes nothing."""
    actor.allow("pause")
    await _owned(services, actor, source_id)
    account = await services.account_for(actor.tenant)
    upstream = await account.get_source(source_id)
    if (upstream.paused_at is not None) != paused:
        stamp = iso(services.clock.time()) if paused else None
        upstream = await account.update_source(source_id, paused_at=stamp)
    return await _record(services, actor, source_id, upstream)


async def set_schedule(
    services: Services, actor: Actor, source_id: int, values: dict[str, object]
) -> SourceRow:
    """`values`: any of frequency_in_minutes (int), anchor_time, cron_expression (str or None)."""
    actor.allow("schedule")
    if actor.session is not None:
        check_end_user_schedule(services.settings, values)
    await _owned(services, actor, source_id)
    account = await services.account_for(actor.tenant)
    current = await account.get_source(source_id)
    properties = _schedule_properties(current, values)
    upstream = await _put_schedule(account, source_id, properties) if properties else current
    return await _record(services, actor, source_id, upstream)


def _schedule_properties(current: Source, values: dict[str, object]) -> dict[str, Any]:
    """Stitch's wire form: strings (§6.2). Clearing what is not set has nothing to send."""
    properties: dict[str, Any] = {}
    for name in SCHEDULE_PROPERTIES:
        if name not in values:
            continue
        value = values[name]
        if value is None:
            if current.properties.get(name) is not None:
                properties[name] = None
        else:
            properties[name] = str(value)
    return properties


async def _put_schedule(
    account: StitchAccount, source_id: int, properties: dict[str, Any]
) -> Source:
    try:
        return await account.update_source(source_id, properties=properties)
    except StitchInvalidProperties:
        raise  # the one table in errors.py renders it as bad_properties
    except (StitchAccessDenied, StitchBadRequest) as error:
        # Cron refusals (§6.2: AccessDenied, InvalidCronExpression) concern one property.
        if error.stitch_code in ("AccessDenied", "InvalidCronExpression"):
            message = error.message or "Stitch refused the cron expression"
            raise BridgeError(
                "bad_properties",
                message,
                details={
                    "bad_properties": ["cron_expression"],
                    "properties": {"cron_expression": message},
                },
            ) from None
        raise


async def record_started(
    services: Services,
    session: AsyncSession,
    row: SourceRow,
    job_name: str,
    trigger: str,
    started_at: float | None,
) -> None:
    """The source's latest job is `job_name`, running; `source.sync_started` once per job."""
    row.sync_state = "running"
    row.sync_job_name = job_name
    row.sync_trigger = trigger
    row.sync_started_at = started_at
    row.sync_completed_at = None
    row.sync_error = None
    row.updated_at = services.clock.time()
    await _job_event(services, session, row, "source.sync_started", job_name, trigger=trigger)


async def record_finished(
    services: Services,
    session: AsyncSession,
    row: SourceRow,
    job: FinishedJob,
    error: dict[str, str] | None,
) -> None:
    """The job ended (`error` None: it succeeded); one succeeded/failed event per job."""
    trigger = row.sync_trigger if row.sync_job_name == job.job_name else "schedule"
    if row.sync_job_name != job.job_name:
        await record_started(
            services, session, row, job.job_name, trigger or "schedule", job.started_at
        )
    row.sync_trigger = trigger
    row.sync_state = "failed" if error else "succeeded"
    row.sync_started_at = job.started_at if job.started_at is not None else row.sync_started_at
    row.sync_completed_at = job.completed_at
    row.sync_error = dict(error) if error else None
    if not error:
        row.sync_last_succeeded_at = job.completed_at
    row.updated_at = services.clock.time()
    if error:
        await _job_event(services, session, row, "source.sync_failed", job.job_name, error=error)
    else:
        await _job_event(services, session, row, "source.sync_succeeded", job.job_name)


async def _job_event(
    services: Services,
    session: AsyncSession,
    row: SourceRow,
    type: str,
    job_name: str,
    **extra: Any,
) -> None:
    if await claim_job_event(session, type, job_name, services.clock.time()):
        await record_event(services, session, type, row, job_name=job_name, **extra)
