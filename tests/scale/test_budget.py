"""The database-backed upstream budget: one budget per key, shared by every replica."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from bridge.stitch import StitchClient, StitchRateLimited, UpstreamBudget
from bridge.store.budget import DatabaseBudget
from bridge.store.schema import create_engine, migrate

pytestmark = pytest.mark.timeout(120)


class FrozenClock:
    """Wall time that moves only when told; sleeps are recorded, not slept."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


@pytest.fixture
async def engines(database_url: str) -> AsyncIterator[list[AsyncEngine]]:
    """Two engines on one database: what two replicas have."""
    first = create_engine(database_url)
    await migrate(first)
    second = create_engine(database_url)
    try:
        yield [first, second]
    finally:
        await first.dispose()
        await second.dispose()


def budget_on(engine: AsyncEngine, clock: FrozenClock, **options: float) -> DatabaseBudget:
    kwargs: dict[str, float] = {"rate": 2.0, "burst": 2, **options}
    return DatabaseBudget(
        engine,
        rate=kwargs.pop("rate"),
        burst=int(kwargs.pop("burst")),
        clock=clock,
        sleep=clock.sleep,
        **kwargs,  # type: ignore[arg-type]
    )


async def test_it_is_an_upstream_budget(engines: list[AsyncEngine]) -> None:
    assert isinstance(budget_on(engines[0], FrozenClock()), UpstreamBudget)


async def test_a_burst_goes_at_once_then_calls_are_spaced_by_the_rate(
    engines: list[AsyncEngine],
) -> None:
    clock = FrozenClock()
    budget = budget_on(engines[0], clock, rate=2.0, burst=2)
    waits = [await budget.reserve("account:a") for _ in range(5)]
    assert waits == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.5])
    await budget.acquire("account:a")
    assert clock.sleeps == pytest.approx([2.0])


async def test_an_idle_budget_refills_up_to_its_burst(engines: list[AsyncEngine]) -> None:
    clock = FrozenClock()
    budget = budget_on(engines[0], clock, rate=2.0, burst=2)
    for _ in range(4):
        await budget.reserve("account:a")
    clock.now += 60  # long idle: the burst is back, and no more than the burst
    waits = [await budget.reserve("account:a") for _ in range(3)]
    assert waits == pytest.approx([0.0, 0.0, 0.5])


async def test_keys_have_separate_budgets(engines: list[AsyncEngine]) -> None:
    budget = budget_on(engines[0], FrozenClock(), rate=1.0, burst=1)
    assert await budget.reserve("account:a") == 0.0
    assert await budget.reserve("account:b") == 0.0
    assert await budget.reserve("account:a") == pytest.approx(1.0)


async def test_a_wait_over_the_limit_is_refused_with_retry_after_and_reserves_nothing(
    engines: list[AsyncEngine],
) -> None:
    clock = FrozenClock()
    budget = budget_on(engines[0], clock, rate=1.0, burst=1, max_wait=2.0)
    assert [await budget.reserve("k") for _ in range(3)] == pytest.approx([0.0, 1.0, 2.0])
    with pytest.raises(StitchRateLimited) as refused:
        await budget.reserve("k")
    assert refused.value.retry_after == pytest.approx(3.0)
    with pytest.raises(StitchRateLimited):
        await budget.acquire("k")
    assert clock.sleeps == []
    clock.now += 1.0  # one slot went by: the queue has room for one more, at the same place
    assert await budget.reserve("k") == pytest.approx(2.0)


async def test_a_full_queue_is_refused(engines: list[AsyncEngine]) -> None:
    budget = budget_on(engines[0], FrozenClock(), rate=10.0, burst=1, max_queue=2)
    assert [await budget.reserve("k") for _ in range(3)] == pytest.approx([0.0, 0.1, 0.2])
    with pytest.raises(StitchRateLimited, match="queue is full") as refused:
        await budget.reserve("k")
    assert refused.value.retry_after == pytest.approx(0.3)


async def test_replicas_on_one_database_share_one_budget(engines: list[AsyncEngine]) -> None:
    clock = FrozenClock()
    replicas = [budget_on(engine, clock, rate=10.0, burst=3) for engine in engines]
    # Both replicas reserve at once, the first time the key is seen (the row does not exist).
    waits = await asyncio.gather(*(replicas[n % 2].reserve("account:shared") for n in range(24)))
    # Every slot is handed out once: 3 at once (the burst), then one per 0.1 s across both.
    expected = [0.0, 0.0, 0.0] + [0.1 * n for n in range(1, 22)]
    assert sorted(waits) == pytest.approx(expected, abs=1e-5)


async def test_the_client_answers_rate_limited_without_calling_stitch_when_refused(
    engines: list[AsyncEngine],
) -> None:
    calls: list[httpx.Request] = []

    def stitch(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return httpx.Response(200, json=[])

    clock = FrozenClock()
    budget = budget_on(engines[0], clock, rate=1.0, burst=1, max_wait=0.5)
    client = StitchClient(
        "https://stitch.test", transport=httpx.MockTransport(stitch), budget=budget
    )
    async with client:
        account = client.account("ac_" + "x" * 30)
        assert await account.list_sources() == []
        with pytest.raises(StitchRateLimited) as refused:
            await account.list_sources()
    assert len(calls) == 1
    assert refused.value.retry_after == pytest.approx(1.0)
