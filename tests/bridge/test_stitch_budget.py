"""The upstream budget: a per-account token bucket with a bounded queue, pluggable in the client."""

from __future__ import annotations

import asyncio

import pytest

from bridge.stitch import (
    RetryPolicy,
    StitchRateLimited,
    TokenBucketBudget,
    UnlimitedBudget,
    UpstreamBudget,
)
from tests.bridge.test_stitch_support import FakeClock, Script, make_client, reply

TOKEN = "ac_budget_test_token_0001"


class HeldSleep:
    """A sleep that blocks until released, so several waiters can be queued at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []
        self.release = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await self.release.wait()


async def test_a_burst_goes_through_at_once_then_callers_wait_for_the_refill():
    clock = FakeClock()
    budget = TokenBucketBudget(rate=2.0, burst=2, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await budget.acquire("k")
    assert clock.sleeps == [0.5]


async def test_waiters_are_served_in_arrival_order():
    clock = FakeClock()
    held = HeldSleep()
    budget = TokenBucketBudget(rate=1.0, burst=1, clock=clock, sleep=held)
    await budget.acquire("k")
    waiters = [asyncio.create_task(budget.acquire("k")) for _ in range(3)]
    await asyncio.sleep(0)
    assert held.waits == [1.0, 2.0, 3.0]  # each reserved the slot after the previous one
    assert budget.waiting("k") == 3
    held.release.set()
    await asyncio.gather(*waiters)
    assert budget.waiting("k") == 0


async def test_a_full_queue_refuses_with_retry_after():
    clock = FakeClock()
    held = HeldSleep()
    budget = TokenBucketBudget(rate=0.5, burst=1, max_queue=2, clock=clock, sleep=held)
    await budget.acquire("k")
    queued = [asyncio.create_task(budget.acquire("k")) for _ in range(2)]
    await asyncio.sleep(0)
    with pytest.raises(StitchRateLimited, match="too many calls waiting") as caught:
        await budget.acquire("k")
    assert caught.value.retry_after == pytest.approx(6.0)  # after the two queued slots
    held.release.set()
    await asyncio.gather(*queued)


async def test_a_wait_longer_than_max_wait_is_refused_without_queueing():
    clock = FakeClock()
    budget = TokenBucketBudget(rate=0.1, burst=1, max_wait=5.0, clock=clock, sleep=clock.sleep)
    await budget.acquire("k")
    with pytest.raises(StitchRateLimited, match="too long") as caught:
        await budget.acquire("k")
    assert caught.value.retry_after == pytest.approx(10.0)
    assert clock.sleeps == []
    clock.now += 10.0  # the refused caller reserved nothing: the next slot is free on time
    await budget.acquire("k")
    assert clock.sleeps == []


async def test_keys_have_separate_buckets():
    clock = FakeClock()
    budget = TokenBucketBudget(rate=1.0, burst=1, max_wait=0.0, clock=clock, sleep=clock.sleep)
    await budget.acquire("a")
    await budget.acquire("b")
    with pytest.raises(StitchRateLimited):
        await budget.acquire("a")


async def test_the_bucket_refills_with_time_up_to_the_burst():
    clock = FakeClock()
    budget = TokenBucketBudget(rate=1.0, burst=3, max_wait=0.0, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        await budget.acquire("k")
    clock.now += 100.0
    for _ in range(3):
        await budget.acquire("k")
    with pytest.raises(StitchRateLimited):
        await budget.acquire("k")


async def test_a_cancelled_waiter_gives_its_slot_back():
    clock = FakeClock()
    held = HeldSleep()
    budget = TokenBucketBudget(rate=1.0, burst=1, clock=clock, sleep=held)
    await budget.acquire("k")
    waiter = asyncio.create_task(budget.acquire("k"))
    await asyncio.sleep(0)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert budget.waiting("k") == 0
    held.release.set()
    await budget.acquire("k")
    assert held.waits == [1.0, 1.0]  # the second caller waits one slot, not two


def test_budgets_implement_the_protocol():
    assert isinstance(UnlimitedBudget(), UpstreamBudget)
    assert isinstance(TokenBucketBudget(rate=1, burst=1), UpstreamBudget)
    with pytest.raises(ValueError):
        TokenBucketBudget(rate=0, burst=1)


class RecordingBudget:
    """Any object with `async acquire(key)` plugs in, e.g. one shared through a database."""

    def __init__(self, refuse: bool = False) -> None:
        self.keys: list[str] = []
        self.refuse = refuse

    async def acquire(self, key: str) -> None:
        self.keys.append(key)
        if self.refuse:
            raise StitchRateLimited("shared budget exhausted", retry_after=7.0)


async def test_the_client_asks_the_budget_before_every_attempt_with_a_non_secret_key():
    budget = RecordingBudget()
    script = Script(reply(503, None), reply(200, []))
    async with make_client(script, budget=budget) as client:
        await client.account(TOKEN).list_sources()
        await client.account(TOKEN).list_sources()
        await client.account("ac_another_token_000002").list_sources()
    assert len(budget.keys) == 4
    assert budget.keys[0] == budget.keys[1] == budget.keys[2] != budget.keys[3]
    assert all(TOKEN not in key and "ac_" not in key for key in budget.keys)
    assert client.account(TOKEN).budget_key == budget.keys[0]


async def test_a_refusing_budget_stops_the_call_before_it_is_sent():
    script = Script(reply(200, []))
    async with make_client(script, budget=RecordingBudget(refuse=True)) as client:
        with pytest.raises(StitchRateLimited) as caught:
            await client.account(TOKEN).list_sources()
    assert script.calls == 0
    assert caught.value.retry_after == 7.0


async def test_a_budget_that_keeps_the_caller_past_the_deadline_is_rate_limited():
    class Stuck:
        async def acquire(self, key: str) -> None:
            await asyncio.sleep(10)  # the stuck budget under test: it never hands out a slot

    script = Script(reply(200, []))
    policy = RetryPolicy(deadline=0.05)
    client = make_client(script, budget=Stuck(), retry=policy)
    async with client:
        with pytest.raises(StitchRateLimited, match="deadline"):
            await client.account(TOKEN).list_sources()
    assert script.calls == 0


async def test_token_bucket_in_the_client_with_a_full_queue():
    clock = FakeClock()
    held = HeldSleep()
    budget = TokenBucketBudget(rate=1.0, burst=1, max_queue=1, clock=clock, sleep=held)
    script = Script(reply(200, []))
    async with make_client(script, clock, budget=budget) as client:
        account = client.account(TOKEN)
        await account.list_sources()
        queued = asyncio.create_task(account.list_sources())
        await asyncio.sleep(0)
        with pytest.raises(StitchRateLimited) as caught:
            await account.list_sources()
        assert caught.value.retry_after == pytest.approx(2.0)
        held.release.set()
        await queued
    assert script.calls == 2
