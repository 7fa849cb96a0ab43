"""The store behaves the same on SQLite and PostgreSQL: schema, single use, intents, outbox claims."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.clock import ManualClock
from bridge.events import Outbox
from bridge.metrics import Metrics
from bridge.store import queries as q
from bridge.store.schema import LATEST, MIGRATIONS, create_engine, migrate, schema_version
from bridge.store.tables import ConnectSessionRow, CreationIntent, EventRow, SourceRow

pytestmark = pytest.mark.timeout(120)


def intent(**overrides: Any) -> CreationIntent:
    values: dict[str, Any] = {
        "id": "ci_1",
        "tenant": "",
        "end_user_id": "alice",
        "idempotency_key": "k1",
        "type": "platform.recurly",
        "display_name": "Billing",
        "stitch_display_name": "Billing sbaaaaaaaa",
        "stitch_name": "billing_sbaaaaaaaa",
        "state": "pending",
        "source_id": None,
        "session_id": "cs_1",
        "created_at": 1.0,
        "lease_until": 61.0,
    }
    values.update(overrides)
    return CreationIntent(**values)


async def test_migrations_reach_the_latest_version_once(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        assert await migrate(engine) == [version for version, _, _ in MIGRATIONS]
        assert await migrate(engine) == []
        assert await schema_version(engine) == LATEST
        async with engine.connect() as connection:
            count = await connection.scalar(text("SELECT count(*) FROM upstream_budgets"))
        assert count == 0
    finally:
        await engine.dispose()


async def test_large_stitch_ids_and_json_round_trip(db: async_sessionmaker[AsyncSession]) -> None:
    big = 2**40 + 7  # Stitch ids are 64-bit
    async with db.begin() as session:
        session.add(
            SourceRow(
                id=big,
                tenant="t1",
                end_user_id="alice",
                type="platform.recurly",
                display_name="Billing ünïcode",
                name="billing",
                created_at=1.5,
                updated_at=1.5,
            )
        )
        await q.record_session(
            session,
            id="cs_json",
            tenant="t1",
            end_user_id="alice",
            source_types=["platform.recurly", "platform.hubspot"],
            source_id=big,
            expires_at=99.25,
            now=1.0,
        )
    async with db() as session:
        row = await q.get_source(session, big)
        recorded = await session.get(ConnectSessionRow, "cs_json")
    assert row is not None and row.display_name == "Billing ünïcode"
    assert recorded is not None
    assert recorded.source_types == ["platform.recurly", "platform.hubspot"]
    assert (recorded.source_id, recorded.expires_at) == (big, 99.25)


async def test_of_many_concurrent_uses_of_a_token_exactly_one_wins(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async def use() -> bool:
        async with db.begin() as session:
            return await q.use_token(session, "st_same", "complete", now=1.0, expires_at=2.0)

    results = await asyncio.gather(*(use() for _ in range(12)))
    assert sorted(results) == [False] * 11 + [True]
    # The other phase of the same token is a separate use.
    async with db.begin() as session:
        assert await q.use_token(session, "st_same", "start", now=1.0, expires_at=2.0)


async def test_recording_a_session_concurrently_keeps_one_row(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async def record() -> None:
        async with db.begin() as session:
            await q.record_session(
                session,
                id="cs_race",
                tenant=None,
                end_user_id="alice",
                source_types=None,
                source_id=None,
                expires_at=10.0,
                now=1.0,
            )

    await asyncio.gather(*(record() for _ in range(8)))
    async with db() as session:
        count = await session.scalar(select(func.count()).select_from(ConnectSessionRow))
    assert count == 1


async def test_one_pending_creation_per_end_user_and_type(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db.begin() as session:
        session.add(intent())
    with pytest.raises(IntegrityError):
        async with db.begin() as session:
            session.add(intent(id="ci_2", idempotency_key="k2"))
    # Another type, or another end user, is not blocked.
    async with db.begin() as session:
        session.add(intent(id="ci_3", idempotency_key="k3", type="platform.hubspot"))
        session.add(intent(id="ci_4", idempotency_key="k1", end_user_id="bob"))
    # Once the first is settled, the next creation of that type may begin.
    async with db.begin() as session:
        await q.finish_intent(session, "ci_1", state="created", source_id=5)
    async with db.begin() as session:
        session.add(intent(id="ci_5", idempotency_key="k5"))
    async with db() as session:
        pending = await q.pending_intent(session, "", "alice", "platform.recurly")
    assert pending is not None and pending.id == "ci_5"


async def test_an_idempotency_key_is_unique_per_end_user(
    db: async_sessionmaker[AsyncSession],
) -> None:
    async with db.begin() as session:
        session.add(intent(state="created", source_id=5))
    with pytest.raises(IntegrityError):
        async with db.begin() as session:
            session.add(intent(id="ci_2", type="platform.hubspot"))


async def test_an_outbox_event_is_claimed_by_one_worker_only(
    database_url: str, db: async_sessionmaker[AsyncSession]
) -> None:
    clock = ManualClock(1000.0)
    async with db.begin() as session:
        for n in range(5):
            await q.add_event(
                session,
                type="source.created",
                now=clock.time(),
                created_at="2024-01-01T00:00:00Z",
                tenant="",
                end_user_id="alice",
                source_id=n,
                data={"n": n},
            )
    async with db() as session:
        ids = list((await session.execute(select(EventRow.id))).scalars())
    # Two workers on their own engines, as two replicas would have.
    other = create_engine(database_url)
    try:
        other_db = async_sessionmaker(other, expire_on_commit=False)
        workers = [
            Outbox(pool, clock, Metrics(), url="http://127.0.0.1:9/hooks", secret="s" * 32)
            for pool in (db, other_db)
        ]
        try:
            claims = await asyncio.gather(
                *(worker._claim(event_id) for event_id in ids for worker in workers)
            )
        finally:
            for worker in workers:
                await worker.aclose()
    finally:
        await other.dispose()
    won = [claims[2 * i] + claims[2 * i + 1] for i in range(len(ids))]
    assert won == [1] * len(ids)
