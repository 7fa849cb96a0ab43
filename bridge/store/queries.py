"""Queries, one async function each; the caller owns the transaction."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Insert, Table, delete, event, func, select, text, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.clock import new_id
from bridge.store.tables import ConnectSessionRow, CreationIntent, EventRow, SourceRow, UsedToken

_SESSIONS: Table = ConnectSessionRow.__table__  # type: ignore[assignment]


def insert_or_skip(session: AsyncSession, table: Table) -> Insert:
    """INSERT that skips a row conflicting with a unique index instead of raising (SQLite and
    PostgreSQL both say ON CONFLICT DO NOTHING): one statement, no savepoint."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return insert(table).on_conflict_do_nothing()


async def record_session(
    session: AsyncSession,
    *,
    id: str,
    tenant: str | None,
    end_user_id: str,
    source_types: list[str] | None,
    source_id: int | None,
    expires_at: float,
    now: float,
) -> None:
    """A session's first use; a session already recorded (by a concurrent request, another
    replica) is left as it is: same facts, first use kept."""
    await session.execute(
        insert_or_skip(session, _SESSIONS).values(
            id=id,
            tenant=tenant,
            end_user_id=end_user_id,
            source_types=source_types,
            source_id=source_id,
            expires_at=expires_at,
            first_used_at=now,
        )
    )


async def get_source(session: AsyncSession, source_id: int) -> SourceRow | None:
    return await session.get(SourceRow, source_id)


async def owned_sources(
    session: AsyncSession, tenant: str, end_user_id: str
) -> Sequence[SourceRow]:
    rows = await session.execute(
        select(SourceRow)
        .where(SourceRow.tenant == tenant, SourceRow.end_user_id == end_user_id)
        .order_by(SourceRow.created_at, SourceRow.id)
    )
    return rows.scalars().all()


async def unfinished_source(
    session: AsyncSession, tenant: str, end_user_id: str, source_type: str
) -> SourceRow | None:
    rows = await session.execute(
        select(SourceRow)
        .where(
            SourceRow.tenant == tenant,
            SourceRow.end_user_id == end_user_id,
            SourceRow.type == source_type,
            SourceRow.connected_at.is_(None),
            SourceRow.deleted_at.is_(None),
        )
        .order_by(SourceRow.created_at.desc())
        .limit(1)
    )
    return rows.scalars().first()


async def intent_by_key(
    session: AsyncSession, tenant: str, end_user_id: str, key: str
) -> CreationIntent | None:
    rows = await session.execute(
        select(CreationIntent).where(
            CreationIntent.tenant == tenant,
            CreationIntent.end_user_id == end_user_id,
            CreationIntent.idempotency_key == key,
        )
    )
    return rows.scalars().first()


async def pending_intent(
    session: AsyncSession, tenant: str, end_user_id: str, source_type: str
) -> CreationIntent | None:
    rows = await session.execute(
        select(CreationIntent).where(
            CreationIntent.tenant == tenant,
            CreationIntent.end_user_id == end_user_id,
            CreationIntent.type == source_type,
            CreationIntent.state == "pending",
        )
    )
    return rows.scalars().first()


async def pending_intents(session: AsyncSession) -> Sequence[CreationIntent]:
    rows = await session.execute(select(CreationIntent).where(CreationIntent.state == "pending"))
    return rows.scalars().all()


async def lock_end_user(session: AsyncSession, tenant: str, end_user_id: str) -> None:
    """Until the transaction ends, this end user's creations (on any replica) wait for it.

    PostgreSQL: an advisory lock on a hash of the end user (a collision only makes two end
    users take turns). SQLite: a write that changes nothing, which takes the database's one
    write lock; the transaction then reads what every earlier writer committed."""
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"end-user\0{tenant}\0{end_user_id}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    else:
        await session.execute(
            update(CreationIntent).where(text("1 = 0")).values(state=CreationIntent.state)
        )


async def count_live_sources(session: AsyncSession, tenant: str, end_user_id: str) -> int:
    """The end user's sources not deleted, plus creations in flight (each may become one).

    One statement, so one snapshot: an adoption committing meanwhile (intent pending → source
    row) is counted once either way, never zero times as two separate counts could."""
    sources = (
        select(func.count())
        .select_from(SourceRow)
        .where(
            SourceRow.tenant == tenant,
            SourceRow.end_user_id == end_user_id,
            SourceRow.deleted_at.is_(None),
        )
        .scalar_subquery()
    )
    pending = (
        select(func.count())
        .select_from(CreationIntent)
        .where(
            CreationIntent.tenant == tenant,
            CreationIntent.end_user_id == end_user_id,
            CreationIntent.state == "pending",
        )
        .scalar_subquery()
    )
    total = await session.execute(select(sources + pending))
    return int(total.scalar_one())


async def finish_intent(
    session: AsyncSession, intent_id: str, *, state: str, source_id: int | None
) -> None:
    await session.execute(
        update(CreationIntent)
        .where(CreationIntent.id == intent_id)
        .values(state=state, source_id=source_id)
    )


async def use_token(
    session: AsyncSession, token_id: str, phase: str, *, now: float, expires_at: float
) -> bool:
    """Record one use; False when this token was already used for this phase."""
    try:
        async with session.begin_nested():
            session.add(
                UsedToken(token_id=token_id, phase=phase, used_at=now, expires_at=expires_at)
            )
    except IntegrityError:
        return False
    return True


async def forget_expired_tokens(session: AsyncSession, now: float) -> int:
    result = await session.execute(delete(UsedToken).where(UsedToken.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


async def add_event(
    session: AsyncSession,
    *,
    type: str,
    now: float,
    created_at: str,
    tenant: str,
    end_user_id: str,
    source_id: int | None,
    data: dict[str, Any],
) -> EventRow:
    event_id = new_id("evt", 16)
    body = {"id": event_id, "type": type, "created_at": created_at, "data": data}
    row = EventRow(
        id=event_id,
        type=type,
        created_at=now,
        tenant=tenant,
        end_user_id=end_user_id,
        source_id=source_id,
        body=body,
        attempts=0,
        next_attempt_at=now,
    )
    session.add(row)
    await session.flush()
    return row


def once_committed(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Call `callback` once after the session's transaction commits (never if it rolls back);
    any number of calls in one transaction schedule it once."""
    if session.info.get("once_committed"):
        return
    session.info["once_committed"] = True
    event.listen(session.sync_session, "after_commit", lambda _s: callback(), once=True)
