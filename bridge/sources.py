"""Sources on behalf of end users: ownership, read-through from Stitch, and what the bridge records."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.clock import iso
from bridge.errors import BridgeError
from bridge.ownership import Owner, is_owner, owns, tenant_key
from bridge.services import Services
from bridge.steps import source_status
from bridge.stitch.client import StitchAccount
from bridge.stitch.errors import StitchNotFound
from bridge.stitch.models import Source
from bridge.store import queries as q
from bridge.store.source_queries import lock_source, read_source
from bridge.store.tables import EventRow, SourceRow
from bridge.sync_state import render_schedule, render_sync, same_schedule
from bridge.tokens import ConnectSession


def render_source(row: SourceRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "type": row.type,
        "display_name": row.display_name,
        "name": row.name,
        "end_user_id": row.end_user_id,
        "tenant": row.tenant or None,
        "current_step": row.current_step,
        "current_step_type": row.current_step_type,
        "status": row.status,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "schedule": dict(row.schedule) if row.schedule else None,
        "paused_at": row.paused_at,
        "sync": render_sync(row),
    }


def _not_found() -> BridgeError:
    return BridgeError("source_not_found", "no such source for this end user")


def check_visible(cs: ConnectSession, row: SourceRow | None) -> SourceRow:
    """The session's own source, or 404 — the same answer whether it exists or not."""
    if (
        row is None
        or not owns(cs.end_user_id, cs.tenant, row)
        or not _in_scope(cs, row.id, row.type)
    ):
        raise _not_found()
    return row


def _in_scope(cs: ConnectSession, source_id: int, source_type: str) -> bool:
    """Whether a session scoped to one source, or to some types, reaches this source."""
    return (cs.source_id is None or source_id == cs.source_id) and (
        cs.source_types is None or source_type in cs.source_types
    )


def check_owned(row: SourceRow | None, tenant: str | None, end_user_id: str) -> SourceRow:
    """The end user's live source, or 404: the SaaS backend's view (any of its end users)."""
    if row is None or not owns(end_user_id, tenant, row):
        raise _not_found()
    return row


async def owned_row(services: Services, cs: ConnectSession, source_id: int) -> SourceRow:
    row = check_visible(cs, await read_source(services.engine, source_id))
    services.owners.add(source_id, owner_of(row))
    return row


def owner_of(row: SourceRow) -> Owner:
    return Owner(tenant=row.tenant, end_user_id=row.end_user_id, type=row.type)


def may_see(cs: ConnectSession, source_id: int, owner: Owner) -> bool:
    """`check_visible`'s rule on what never changes about a source (its liveness aside)."""
    return is_owner(cs.end_user_id, cs.tenant, owner) and _in_scope(cs, source_id, owner.type)


async def check_failed(services: Services, account: StitchAccount, upstream: Source) -> bool:
    """Whether the connection check of a source waiting on discovery has failed. Read from
    Stitch at most every few seconds per source, however many widgets poll it (CheckCache)."""
    job = upstream.check_job_name
    if upstream.report_card.current_step_type != "discover_schema" or not job:
        return False
    key = (account.budget_key, upstream.id, job)
    check = await services.checks.get(key, lambda: account.last_connection_check(upstream.id))
    return check is not None and check.status == "failed"


async def record_event(
    services: Services, session: AsyncSession, type: str, row: SourceRow, **extra: Any
) -> EventRow:
    data = {
        "source": render_source(row),
        "end_user_id": row.end_user_id,
        "tenant": row.tenant or None,
        **extra,
    }
    now = services.clock.time()
    # Wake the delivery worker once this transaction has committed, not before.
    q.once_committed(session, services.outbox.notify)
    return await q.add_event(
        session,
        type=type,
        now=now,
        created_at=iso(now),
        tenant=row.tenant,
        end_user_id=row.end_user_id,
        source_id=row.id,
        data=data,
    )


def differs(row: SourceRow, upstream: Source, *, failed_check: bool = False) -> bool:
    """Whether `observe` would change anything: a poll that finds nothing new writes nothing."""
    card = upstream.report_card
    status = source_status(upstream, needs_reauth=row.needs_reauth, check_failed=failed_check)
    return (
        card.current_step != row.current_step
        or card.current_step_type != row.current_step_type
        or status != row.status
        or bool(upstream.name and upstream.name != row.name)
        or (card.current_step_type == "fully_configured" and row.connected_at is None)
        or (upstream.deleted_at is not None and row.deleted_at is None)
        or upstream.paused_at != row.paused_at
        or render_schedule(upstream) != row.schedule
    )


async def observe(
    services: Services,
    session: AsyncSession,
    row: SourceRow,
    upstream: Source,
    *,
    failed_check: bool = False,
) -> None:
    """Bring the bridge's record in line with what Stitch says now; record events for changes."""
    now = services.clock.time()
    card = upstream.report_card
    previous_type = row.current_step_type
    advanced = card.current_step > row.current_step
    status = source_status(upstream, needs_reauth=row.needs_reauth, check_failed=failed_check)
    changed = (
        advanced
        or card.current_step != row.current_step
        or card.current_step_type != row.current_step_type
        or status != row.status
        or (upstream.name and upstream.name != row.name)
    )
    row.current_step = card.current_step
    row.current_step_type = card.current_step_type
    row.status = status
    if upstream.name:
        row.name = upstream.name
    if changed:
        row.updated_at = now
    if advanced:
        await record_event(services, session, "source.step_completed", row, step=previous_type)
    if card.current_step_type == "fully_configured" and row.connected_at is None:
        row.connected_at = now
        await record_event(services, session, "source.connected", row)
    if upstream.deleted_at is not None and row.deleted_at is None:
        row.deleted_at = now
        row.status = "deleted"
        await record_event(services, session, "source.deleted", row)
    await _observe_schedule(services, session, row, upstream)


async def _observe_schedule(
    services: Services, session: AsyncSession, row: SourceRow, upstream: Source
) -> None:
    """Pause and schedule as Stitch has them; a change is an event, whoever made it (the bridge's
    routes, or someone in Stitch's own app). The first sighting of a schedule is no change."""
    schedule = render_schedule(upstream)
    was_paused = row.paused_at is not None
    paused = was_paused != (upstream.paused_at is not None)
    rescheduled = row.schedule is not None and schedule is not None
    rescheduled = rescheduled and not same_schedule(row.schedule, schedule)
    if paused or rescheduled:
        row.updated_at = services.clock.time()  # not for the next run time moving on by itself
    row.schedule = schedule
    row.paused_at = upstream.paused_at
    if paused:
        kind = "source.unpaused" if was_paused else "source.paused"
        await record_event(services, session, kind, row)
    if rescheduled:
        await record_event(services, session, "source.schedule_changed", row)


async def read_through(
    services: Services, cs: ConnectSession, source_id: int
) -> tuple[SourceRow, Source, bool]:
    """The session's source as Stitch has it now, with the bridge's record brought up to date."""
    row, upstream, account = await _row_and_upstream(services, cs, source_id)
    failed = await check_failed(services, account, upstream)
    if not differs(row, upstream, failed_check=failed):
        return row, upstream, failed  # nothing new: no write transaction
    async with services.db.begin() as session:
        row = check_visible(cs, await lock_source(session, source_id))
        await observe(services, session, row, upstream, failed_check=failed)
    return row, upstream, failed


async def _row_and_upstream(
    services: Services, cs: ConnectSession, source_id: int
) -> tuple[SourceRow, Source, StitchAccount]:
    """The bridge's row and Stitch's source, in that order: the row decides (another end user's
    source, or a deleted one, is 404 before Stitch is asked). A source whose owner this process
    knows is refused to anyone else without reading the row. Asking Stitch while the row is read
    was measured and dropped: aiosqlite's thread and the event loop then contend for the GIL,
    which cost more CPU and time than the overlap saved."""
    owner = services.owners.get(source_id)
    if owner is not None and not may_see(cs, source_id, owner):
        raise _not_found()
    row = await owned_row(services, cs, source_id)
    account = await services.account_for(cs.tenant)
    return row, await account.get_source(source_id), account


async def update_source(
    services: Services,
    cs: ConnectSession,
    source_id: int,
    *,
    display_name: str | None,
    properties: dict[str, Any] | None,
) -> tuple[SourceRow, Source, bool]:
    await owned_row(services, cs, source_id)
    account = await services.account_for(cs.tenant)
    if properties:
        upstream = await account.update_source(source_id, properties=properties)
    else:
        upstream = await account.get_source(source_id)
    failed = await check_failed(services, account, upstream)
    async with services.db.begin() as session:
        row = check_visible(cs, await lock_source(session, source_id))
        if display_name is not None and display_name != row.display_name:
            row.display_name = display_name
            row.updated_at = services.clock.time()
        await observe(services, session, row, upstream, failed_check=failed)
    return row, upstream, failed


async def end_user_sources(
    services: Services, tenant: str | None, end_user_id: str
) -> list[SourceRow]:
    """An end user's sources with their status as Stitch has it now (one upstream call)."""
    async with services.db() as session:
        rows = list(await q.owned_sources(session, tenant_key(tenant), end_user_id))
    live = [row for row in rows if row.deleted_at is None]
    stale = []
    if live:
        upstream = {s.id: s for s in await (await services.account_for(tenant)).list_sources()}
        stale = [r for r in live if r.id in upstream and differs(r, upstream[r.id])]
    if stale:  # write only what Stitch's answer changed
        async with services.db.begin() as session:
            for index, row in enumerate(live):
                if row in stale:
                    current = await lock_source(session, row.id)
                    if current is not None:
                        await observe(services, session, current, upstream[row.id])
                        live[index] = current
    return [row for row in live if row.deleted_at is None]


async def delete_end_user_source(
    services: Services, tenant: str | None, end_user_id: str, source_id: int
) -> None:
    async with services.db() as session:
        check_owned(await q.get_source(session, source_id), tenant, end_user_id)
    account = await services.account_for(tenant)
    try:
        await account.delete_source(source_id)
    except StitchNotFound:
        pass  # already gone upstream: the bridge's record still has to say so
    async with services.db.begin() as session:
        current = await lock_source(session, source_id)
        if current is None or current.deleted_at is not None:
            return
        now = services.clock.time()
        current.deleted_at = now
        current.updated_at = now
        current.status = "deleted"
        await record_event(services, session, "source.deleted", current)
