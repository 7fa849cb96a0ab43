"""Queries of source creation (bridge.creation): claiming, releasing and locking an intent.

The caller owns the transaction. A conflict on the intents' unique indexes is answered here as
"not claimed" (an insert that skips it, or a savepoint around a reopen): the caller's
transaction stays usable and no database error crosses into the domain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.clock import new_id
from bridge.store.queries import insert_or_skip, intent_by_key, lock_end_user
from bridge.store.tables import CreationIntent

_INTENTS: Table = CreationIntent.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class IntentClaim:
    """What a new (or retried) creation intent says: whose, which key, under which Stitch name."""

    tenant: str
    end_user_id: str
    idempotency_key: str
    type: str
    display_name: str
    stitch_display_name: str
    stitch_name: str
    session_id: str
    now: float
    lease_until: float


async def claim_intent(session: AsyncSession, claim: IntentClaim) -> CreationIntent | None:
    """The intent, pending and leased to the caller; None when another creation holds it.

    Taken under the end user's lock (`lock_end_user`), held until the caller's transaction ends,
    so the caller may count and check under it before committing. A key whose earlier attempt
    failed is tried again under the new Stitch name; a key in use (pending or created) or a
    type with a creation already pending is not claimed."""
    await lock_end_user(session, claim.tenant, claim.end_user_id)
    existing = await intent_by_key(session, claim.tenant, claim.end_user_id, claim.idempotency_key)
    if existing is None:
        return await insert_intent(session, claim)
    try:
        # The lock's write opened the SQLite transaction, so this savepoint is nested in it
        # (pysqlite begins one only at a write) and a caller's rollback takes the intent back.
        async with session.begin_nested():
            return await _reopen(session, existing, claim)
    except IntegrityError:
        return None  # the one pending creation of this end user and type is another's


async def insert_intent(session: AsyncSession, claim: IntentClaim) -> CreationIntent | None:
    """A new pending intent for a key that has none, or None when the unique indexes hold
    another (a concurrent request's for the key, or this end user's pending one of the type).

    One statement that skips a conflict instead of raising (no savepoint, and the caller's
    transaction stays usable); the caller holds the end user's lock. The intent returned
    belongs to no session: its fields are what was written."""
    values: dict[str, Any] = {
        "id": new_id("ci", 16),
        "tenant": claim.tenant,
        "end_user_id": claim.end_user_id,
        "idempotency_key": claim.idempotency_key,
        "type": claim.type,
        "display_name": claim.display_name,
        "stitch_display_name": claim.stitch_display_name,
        "stitch_name": claim.stitch_name,
        "state": "pending",
        "source_id": None,
        "session_id": claim.session_id,
        "created_at": claim.now,
        "lease_until": claim.lease_until,
    }
    result = await session.execute(insert_or_skip(session, _INTENTS).values(**values))
    if getattr(result, "rowcount", 0) != 1:
        return None
    return CreationIntent(**values)


async def _reopen(
    session: AsyncSession, existing: CreationIntent, claim: IntentClaim
) -> CreationIntent | None:
    result = await session.execute(
        update(CreationIntent)
        .where(CreationIntent.id == existing.id, CreationIntent.state == "failed")
        .values(
            state="pending",
            display_name=claim.display_name,
            stitch_display_name=claim.stitch_display_name,
            stitch_name=claim.stitch_name,
            lease_until=claim.lease_until,
            session_id=claim.session_id,
        )
    )
    if getattr(result, "rowcount", 0) != 1:
        return None  # not failed: pending (someone creates it now) or created
    await session.refresh(existing)
    return existing


async def lock_intent(session: AsyncSession, intent_id: str) -> None:
    """Until the transaction ends, other adopters of this intent wait (a write that changes
    nothing locks the row on PostgreSQL and takes the write lock on SQLite)."""
    await session.execute(
        update(CreationIntent)
        .where(CreationIntent.id == intent_id)
        .values(lease_until=CreationIntent.lease_until)
    )


async def release_intent(session: AsyncSession, intent_id: str, now: float) -> None:
    """End a pending intent's lease now, so the next attempt reconciles it at once."""
    await session.execute(
        update(CreationIntent)
        .where(CreationIntent.id == intent_id, CreationIntent.state == "pending")
        .values(lease_until=now)
    )
