"""Queries of the sync poller: the per-account lease, the shared jobs budget, job-event claims."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.sync_tables import JobsRequest, SyncJobEvent, SyncLease
from bridge.store.tables import SourceRow

JOBS_WINDOW = 600.0  # Stitch counts `jobs` requests per 10 minutes (§8.1)


def _connected() -> tuple[Any, ...]:
    return (SourceRow.deleted_at.is_(None), SourceRow.connected_at.is_not(None))


async def tenants_with_connected_sources(session: AsyncSession) -> list[str]:
    rows = await session.execute(select(SourceRow.tenant).where(*_connected()).distinct())
    return list(rows.scalars())


async def connected_sources(session: AsyncSession, tenant: str) -> list[SourceRow]:
    rows = await session.execute(select(SourceRow).where(SourceRow.tenant == tenant, *_connected()))
    return list(rows.scalars())


async def peek_lease(session: AsyncSession, account_key: str) -> SyncLease | None:
    return await session.get(SyncLease, account_key)


async def take_lease(
    session: AsyncSession, account_key: str, holder: str, *, now: float, ttl: float
) -> SyncLease | None:
    """The account's lease for `holder` (renewed), or None while another replica holds it."""
    result = await session.execute(
        update(SyncLease)
        .where(
            SyncLease.account_key == account_key,
            or_(SyncLease.holder == holder, SyncLease.expires_at < now),
        )
        .values(holder=holder, expires_at=now + ttl)
    )
    if getattr(result, "rowcount", 0) != 1:
        if await session.get(SyncLease, account_key) is not None:
            return None  # held by a live replica
        try:
            async with session.begin_nested():
                session.add(
                    SyncLease(
                        account_key=account_key, holder=holder, expires_at=now + ttl, polled_at=0.0
                    )
                )
        except IntegrityError:
            return None  # another replica created it first, and holds it
    lease = await session.get(SyncLease, account_key, populate_existing=True)
    return lease if lease is not None and lease.holder == holder else None


async def mark_polled(
    session: AsyncSession,
    account_key: str,
    holder: str,
    *,
    now: float,
    stitch_client_id: int | None = None,
) -> None:
    values: dict[str, object] = {"polled_at": now}
    if stitch_client_id is not None:
        values["stitch_client_id"] = stitch_client_id
    await session.execute(
        update(SyncLease)
        .where(SyncLease.account_key == account_key, SyncLease.holder == holder)
        .values(**values)
    )


async def take_jobs_slot(
    session: AsyncSession, account_key: str, holder: str, *, now: float, budget: int
) -> bool:
    """Count one extractions/loads request against the account's budget, if it has room and
    `holder` still holds the lease. The lease row is locked first, so replicas take turns."""
    # A write first: it locks the lease row (PostgreSQL) or takes the write lock (SQLite)
    # before anything is counted, and proves the lease is still ours.
    held = await session.execute(
        update(SyncLease)
        .where(
            SyncLease.account_key == account_key,
            SyncLease.holder == holder,
            SyncLease.expires_at >= now,
        )
        .values(holder=holder)
    )
    if getattr(held, "rowcount", 0) != 1:
        return False
    await session.execute(
        delete(JobsRequest).where(
            JobsRequest.account_key == account_key, JobsRequest.sent_at <= now - JOBS_WINDOW
        )
    )
    spent = await session.scalar(
        select(func.count())
        .select_from(JobsRequest)
        .where(JobsRequest.account_key == account_key, JobsRequest.sent_at > now - JOBS_WINDOW)
    )
    if (spent or 0) >= budget:
        return False
    session.add(JobsRequest(account_key=account_key, sent_at=now))
    await session.flush()
    return True


async def claim_job_event(session: AsyncSession, type: str, job_name: str, now: float) -> bool:
    """True the first time (`type`, `job_name`) is claimed, on any replica; then False."""
    if await session.get(SyncJobEvent, (type, job_name)) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(SyncJobEvent(type=type, job_name=job_name, created_at=now))
    except IntegrityError:
        return False
    return True
