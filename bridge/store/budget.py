"""An upstream budget kept in the database, so that every replica draws from the same one.

It implements `UpstreamBudget` (`bridge.stitch.budget`) as a generic cell rate algorithm: each
key has one row holding `next_at`, the time the budget is paid up to (the "theoretical arrival
time"). A caller reserves the next slot in one short transaction (the row locked with SELECT …
FOR UPDATE on PostgreSQL, the database's write lock on SQLite), then sleeps until that slot
outside any transaction. `rate` calls per second, bursts of up to `burst`, first come first
served across replicas; a caller whose slot is further than `max_wait` seconds away (or behind
more than `max_queue` others) is refused at once with StitchRateLimited and a `retry_after`.

Slots are Unix times from each replica's clock, so replicas must keep their clocks in sync (NTP:
a skew of a few milliseconds shifts a slot by as much). A reserved slot that is not used (the
caller was cancelled while waiting) is not given back: it would be wrong to move `next_at` back
under callers that reserved after it, and wasting a slot only ever errs on the safe side.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from sqlalchemy import Float, String, Table, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import Mapped, mapped_column

from bridge.stitch.errors import StitchRateLimited
from bridge.store.sqlite_driver import urgent_writes
from bridge.store.tables import Base

# Reserving a slot is two statements under a row lock; waiting longer than this for the lock
# means the database is in trouble, and the caller hears so instead of hanging.
LOCK_WAIT_SECONDS = 10.0


class UpstreamBudgetRow(Base):
    """One row per budget key (a hashed Stitch credential, never the credential itself)."""

    __tablename__ = "upstream_budgets"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    next_at: Mapped[float] = mapped_column(Float)  # Unix seconds the budget is paid up to


_TABLE: Table = UpstreamBudgetRow.__table__  # type: ignore[assignment]


class DatabaseBudget:
    """`rate` calls per second per key shared by every process on one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        rate: float,
        burst: int = 1,
        max_wait: float = 20.0,
        max_queue: int | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("DatabaseBudget needs rate > 0 and burst >= 1")
        if max_wait < 0 or (max_queue is not None and max_queue < 0):
            raise ValueError("DatabaseBudget needs max_wait >= 0 and max_queue >= 0")
        self.rate = rate
        self.burst = burst
        self.max_wait = max_wait
        self.waiting = 0
        self.max_queue = max_queue
        self._engine = engine
        self._clock = clock
        self._sleep = sleep
        self._interval = 1.0 / rate
        # How far ahead of now `next_at` may run before a caller has to wait: the burst.
        self._tolerance = (burst - 1) * self._interval

    def __repr__(self) -> str:
        return (
            f"DatabaseBudget(rate={self.rate}, burst={self.burst}, "
            f"max_wait={self.max_wait}, max_queue={self.max_queue})"
        )

    async def acquire(self, key: str) -> None:
        wait = await self.reserve(key)
        if wait > 0:
            self.waiting += 1  # this process's callers queued for a slot (a metric)
            try:
                await self._sleep(wait)
            finally:
                self.waiting -= 1

    async def reserve(self, key: str) -> float:
        """Take the next slot for `key`; seconds until it comes (0: go now). Raises
        StitchRateLimited, reserving nothing, when the wait or the queue is over its limit."""
        try:
            # Ahead of other writers waiting on SQLite: every Stitch call waits on this one.
            with urgent_writes():
                async with asyncio.timeout(LOCK_WAIT_SECONDS):
                    return await self._reserve(key)
        except TimeoutError:
            raise StitchRateLimited(
                "upstream request budget: the shared budget is busy", retry_after=1.0
            ) from None

    async def _reserve(self, key: str) -> float:
        # Core statements on a connection, not an ORM session: this runs before every Stitch
        # call, and the ORM's bookkeeping would cost more than the three statements themselves.
        async with self._engine.begin() as connection:
            paid_to = await self._locked(connection, key)
            if paid_to is None:
                await self._create(connection, key)
                paid_to = await self._locked(connection, key)
                assert paid_to is not None
            now = self._clock()
            start = max(paid_to, now)
            go_at = max(now, start - self._tolerance)
            wait = go_at - now
            ahead = math.ceil(wait * self.rate - 1e-9)
            if wait > self.max_wait or (self.max_queue is not None and ahead > self.max_queue):
                # Leaving the transaction by raising rolls it back: nothing was reserved.
                raise StitchRateLimited(
                    "upstream request budget exhausted: "
                    + ("the wait would be too long" if wait > self.max_wait else "queue is full"),
                    retry_after=wait,
                )
            await connection.execute(
                update(_TABLE).where(_TABLE.c.key == key).values(next_at=start + self._interval)
            )
        return wait

    async def _locked(self, connection: AsyncConnection, key: str) -> float | None:
        """The key's `next_at`, with its row locked until the transaction ends (None: no row)."""
        if connection.dialect.name == "sqlite":
            # SQLite has no row locks, and a transaction that reads first and writes later may
            # find that another writer got in between. Writing first takes the database's write
            # lock (waiting for it under busy_timeout) before anything is read.
            await connection.execute(
                update(_TABLE).where(_TABLE.c.key == key).values(next_at=_TABLE.c.next_at)
            )
        query = select(_TABLE.c.next_at).where(_TABLE.c.key == key).with_for_update()
        value = await connection.scalar(query)
        return None if value is None else float(value)

    async def _create(self, connection: AsyncConnection, key: str) -> None:
        """A row for a new key, idle since forever; a concurrent creator's row does as well."""
        try:
            async with connection.begin_nested():
                await connection.execute(insert(_TABLE).values(key=key, next_at=0.0))
        except IntegrityError:
            pass  # another replica created it first; its insert has committed, so it can be locked
