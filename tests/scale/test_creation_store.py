"""Claiming a creation intent behaves the same on SQLite and PostgreSQL: a conflict is an answer
(not claimed), never an error that would spoil the caller's transaction."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.store import queries as q
from bridge.store.creation_queries import IntentClaim, claim_intent

pytestmark = pytest.mark.timeout(120)


def wanted(key: str, ref: str = "sbaaaaaaaa") -> IntentClaim:
    return IntentClaim(
        tenant="",
        end_user_id="alice",
        idempotency_key=key,
        type="platform.recurly",
        display_name="Billing",
        stitch_display_name=f"Billing {ref}",
        stitch_name=f"billing_{ref}",
        session_id="cs_1",
        now=1.0,
        lease_until=31.0,
    )


async def test_a_type_with_a_creation_in_flight_is_not_claimed_and_the_transaction_goes_on(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db.begin() as session:
        assert await claim_intent(session, wanted("tab-1")) is not None
    async with db.begin() as session:
        assert await claim_intent(session, wanted("tab-2", "sbbbbbbbbb")) is None
        # Still usable: PostgreSQL would refuse every statement after an unanswered conflict.
        assert await q.count_live_sources(session, "", "alice") == 1
    async with db.begin() as session:
        assert await claim_intent(session, wanted("tab-1")) is None  # pending: not twice


async def test_a_failed_key_is_claimed_again_under_its_new_stitch_name(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db.begin() as session:
        first = await claim_intent(session, wanted("k1"))
        assert first is not None
        await q.finish_intent(session, first.id, state="failed", source_id=None)
    async with db.begin() as session:
        again = await claim_intent(session, wanted("k1", "sbcccccccc"))
        assert again is not None
        assert (again.id, again.state) == (first.id, "pending")
        assert again.stitch_display_name == "Billing sbcccccccc"


async def test_a_claim_rolled_back_by_its_caller_leaves_nothing(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db.begin() as session:
        assert await claim_intent(session, wanted("k1")) is not None
        await session.rollback()  # creation resumes an unfinished source instead
    async with db() as session:
        assert await q.intent_by_key(session, "", "alice", "k1") is None
        assert await q.pending_intent(session, "", "alice", "platform.recurly") is None
