"""How many calls per account the bridge lets itself make to Stitch.

A budget is anything with `async acquire(key)`: it returns when a call for `key` may go, or raises
StitchRateLimited. The in-process token bucket here fits one replica; a database-backed budget
shared between replicas can take its place without the client noticing.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .errors import StitchRateLimited


@runtime_checkable
class UpstreamBudget(Protocol):
    async def acquire(self, key: str) -> None:
        """Wait for a slot for `key` (an opaque, stable, non-secret account key), or raise
        StitchRateLimited with a `retry_after` when the caller should not wait that long."""
        ...


class UnlimitedBudget:
    """The default: Stitch documents no limit on the endpoints the bridge calls (§8.1)."""

    async def acquire(self, key: str) -> None:
        return None

    def __repr__(self) -> str:
        return "UnlimitedBudget()"


@dataclass
class _Bucket:
    tokens: float
    updated: float
    waiting: int = 0


class TokenBucketBudget:
    """`rate` calls per second per key, bursts of up to `burst`, and a bounded FIFO of waiters.

    A caller that cannot go now reserves the next slot by driving the balance below zero, then
    sleeps until the refill has paid for it; so waiters are served in arrival order without a
    lock, and a newcomer never jumps the queue. It is refused (StitchRateLimited) instead when
    `max_queue` callers already wait for that key or its wait would exceed `max_wait` seconds.
    """

    # Buckets of keys that are idle (full, nobody waiting) are forgotten past this many keys.
    _PRUNE_ABOVE = 1024

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_queue: int = 50,
        max_wait: float = 20.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("TokenBucketBudget needs rate > 0 and burst >= 1")
        if max_queue < 0 or max_wait < 0:
            raise ValueError("TokenBucketBudget needs max_queue >= 0 and max_wait >= 0")
        self.rate = rate
        self.burst = burst
        self.max_queue = max_queue
        self.max_wait = max_wait
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}

    def __repr__(self) -> str:
        return (
            f"TokenBucketBudget(rate={self.rate}, burst={self.burst}, "
            f"max_queue={self.max_queue}, max_wait={self.max_wait})"
        )

    def waiting(self, key: str) -> int:
        """How many callers are queued for `key` right now."""
        bucket = self._buckets.get(key)
        return bucket.waiting if bucket else 0

    async def acquire(self, key: str) -> None:
        bucket = self._refilled(key)
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return
        wait = (1 - bucket.tokens) / self.rate
        if bucket.waiting >= self.max_queue:
            raise StitchRateLimited(
                "upstream request budget exhausted: too many calls waiting", retry_after=wait
            )
        if wait > self.max_wait:
            raise StitchRateLimited(
                "upstream request budget exhausted: the wait would be too long", retry_after=wait
            )
        bucket.tokens -= 1
        bucket.waiting += 1
        try:
            await self._sleep(wait)
        except asyncio.CancelledError:
            # The slot was paid for but will not be used: give it back to whoever comes next.
            bucket.tokens = min(self.burst, bucket.tokens + 1)
            raise
        finally:
            bucket.waiting -= 1

    def _refilled(self, key: str) -> _Bucket:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._PRUNE_ABOVE:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated=now)
            return bucket
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
        bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        for key, bucket in list(self._buckets.items()):
            full = bucket.tokens + (now - bucket.updated) * self.rate >= self.burst
            if full and bucket.waiting == 0:
                del self._buckets[key]
