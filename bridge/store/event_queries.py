"""Queries on the outbox of events, one async function each; the caller owns the transaction.
A delivery is claimed with one conditional UPDATE, so of several workers exactly one sends it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.tables import EventRow


def _unlocked(now: float) -> Any:
    return or_(EventRow.locked_until.is_(None), EventRow.locked_until < now)


async def count_undelivered(session: AsyncSession) -> int:
    count = await session.scalar(
        select(func.count()).select_from(EventRow).where(EventRow.delivered_at.is_(None))
    )
    return count or 0


async def due_event_ids(session: AsyncSession, *, now: float, limit: int) -> Sequence[str]:
    """Undelivered events whose next attempt is due and that no worker holds, oldest first."""
    rows = await session.execute(
        select(EventRow.id)
        .where(
            EventRow.delivered_at.is_(None),
            EventRow.next_attempt_at <= now,
            _unlocked(now),
        )
        .order_by(EventRow.seq)
        .limit(limit)
    )
    return rows.scalars().all()


async def lock_event(session: AsyncSession, event_id: str, *, now: float, until: float) -> bool:
    """Hold an undelivered event for one delivery attempt; False when another worker does."""
    result = await session.execute(
        update(EventRow)
        .where(EventRow.id == event_id, EventRow.delivered_at.is_(None), _unlocked(now))
        .values(locked_until=until)
    )
    return getattr(result, "rowcount", 0) == 1


async def get_event_row(session: AsyncSession, event_id: str) -> EventRow:
    return (await session.execute(select(EventRow).where(EventRow.id == event_id))).scalar_one()


async def record_delivery(session: AsyncSession, event_id: str, **values: Any) -> None:
    """Write the outcome of a delivery attempt (and release the event)."""
    await session.execute(update(EventRow).where(EventRow.id == event_id).values(**values))


@dataclass(frozen=True)
class EventFilter:
    type: str | None = None
    end_user_id: str | None = None
    tenant: str | None = None
    source_id: int | None = None


async def event_seq(session: AsyncSession, event_id: str) -> int | None:
    return await session.scalar(select(EventRow.seq).where(EventRow.id == event_id))


async def events_before(
    session: AsyncSession, *, before_seq: int | None, where: EventFilter, limit: int
) -> Sequence[EventRow]:
    """Events newest first, older than `before_seq` when given, matching every filter given."""
    query = select(EventRow).order_by(EventRow.seq.desc()).limit(limit)
    if before_seq is not None:
        query = query.where(EventRow.seq < before_seq)
    if where.type is not None:
        query = query.where(EventRow.type == where.type)
    if where.end_user_id is not None:
        query = query.where(EventRow.end_user_id == where.end_user_id)
    if where.tenant is not None:
        query = query.where(EventRow.tenant == where.tenant)
    if where.source_id is not None:
        query = query.where(EventRow.source_id == where.source_id)
    return (await session.execute(query)).scalars().all()


async def event_body(session: AsyncSession, event_id: str) -> dict[str, Any] | None:
    body = await session.scalar(select(EventRow.body).where(EventRow.id == event_id))
    return dict(body) if body is not None else None


async def requeue_event(session: AsyncSession, event_id: str, *, now: float) -> bool:
    """Make the event due again, undelivered and unlocked; False when there is no such event."""
    result = await session.execute(
        update(EventRow)
        .where(EventRow.id == event_id)
        .values(delivered_at=None, next_attempt_at=now, locked_until=None)
    )
    return getattr(result, "rowcount", 0) == 1
