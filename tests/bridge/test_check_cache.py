"""The connection-check cache of the widget poll (`bridge/hot_caches.py`): only a check job's
first poll waits for Stitch; later ones are answered at once while a stale answer is read again
behind them, one call at a time."""

from __future__ import annotations

import asyncio

import pytest

from bridge.hot_caches import CheckCache
from bridge.stitch.errors import StitchUnavailable
from bridge.stitch.models import ConnectionCheck

KEY = ("account", 7, "job-1")


def check(status: str) -> ConnectionCheck:
    return ConnectionCheck(
        name="job-1",
        status=status,
        error=status == "failed",
        discovery_exit_status=None,
        discovery_error_message=None,
        check_exit_status=None,
        mode="check",
        start_time=None,
        completion_time=None,
        raw={},
    )


class Stitch:
    """Answers the check calls in turn; each call waits until the test lets it answer."""

    def __init__(self, *answers: ConnectionCheck | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0
        self.go = asyncio.Event()

    async def fetch(self) -> ConnectionCheck | None:
        self.calls += 1
        await self.go.wait()
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


async def test_the_first_poll_waits_and_shares_one_call(clock: Clock) -> None:
    stitch = Stitch(check("running"))
    cache = CheckCache(ttl=2.0, clock=clock)
    polls = [asyncio.create_task(cache.get(KEY, stitch.fetch)) for _ in range(5)]
    await asyncio.sleep(0)
    assert not any(p.done() for p in polls)
    stitch.go.set()
    assert {(await p).status for p in polls} == {"running"}  # type: ignore[union-attr]
    assert stitch.calls == 1


async def test_a_stale_answer_is_served_at_once_and_read_again_behind_it(clock: Clock) -> None:
    stitch = Stitch(check("running"), check("failed"))
    stitch.go.set()
    cache = CheckCache(ttl=2.0, clock=clock)
    assert (await cache.get(KEY, stitch.fetch)).status == "running"  # type: ignore[union-attr]
    clock.now += 1.0
    assert (await cache.get(KEY, stitch.fetch)).status == "running"  # type: ignore[union-attr]
    assert stitch.calls == 1  # fresh: no call
    clock.now += 1.5
    stitch.go.clear()
    stale = await asyncio.wait_for(cache.get(KEY, stitch.fetch), 1)
    again = await asyncio.wait_for(cache.get(KEY, stitch.fetch), 1)
    assert (stale.status, again.status) == ("running", "running")  # type: ignore[union-attr]
    assert stitch.calls == 2  # one call behind both, not one each
    stitch.go.set()
    await asyncio.sleep(0.01)
    assert (await cache.get(KEY, stitch.fetch)).status == "failed"  # type: ignore[union-attr]
    clock.now += 60
    assert (await cache.get(KEY, stitch.fetch)).status == "failed"  # type: ignore[union-attr]
    assert stitch.calls == 2  # a finished check is final


async def test_a_failed_read_behind_keeps_the_last_answer_and_is_tried_again(
    clock: Clock,
) -> None:
    stitch = Stitch(check("running"), StitchUnavailable("down"), check("running"))
    stitch.go.set()
    cache = CheckCache(ttl=2.0, clock=clock)
    await cache.get(KEY, stitch.fetch)
    clock.now += 3
    assert (await cache.get(KEY, stitch.fetch)).status == "running"  # type: ignore[union-attr]
    await asyncio.sleep(0.01)  # the read behind fails
    assert (await cache.get(KEY, stitch.fetch)).status == "running"  # type: ignore[union-attr]
    await asyncio.sleep(0.01)
    assert stitch.calls == 3


async def test_the_first_poll_sees_the_error_when_nothing_is_known(clock: Clock) -> None:
    stitch = Stitch(StitchUnavailable("down"))
    stitch.go.set()
    with pytest.raises(StitchUnavailable):
        await CheckCache(clock=clock).get(KEY, stitch.fetch)
