"""Per-process caches of the widget poll (`GET /v1/sources/{id}`), held by `Services`.

- `OwnerCache`: whose a source is and its type. Both are written once, when the source is
  recorded, and never change, so a cached owner is as good as a read: a poll by someone else is
  refused without the database or Stitch. Whether the source is still live is not cached (the
  owner's polls read the row, which says so and is what they render).
- `CheckCache`: the last connection check of a source waiting on discovery. Stitch runs the
  check on its own schedule; widgets poll every 500 ms, several per source (tabs, retries). So
  the check is read at most once per `ttl` per source and check job, and every poll that asks
  meanwhile shares the one call in flight. A check that has finished never changes, and a new
  check has a new job name (the source names it), so only a running check can go stale. Only
  the first poll of a check job waits for Stitch; after that a poll is answered with what is
  known while a stale answer is read again behind it (stale while revalidating), so no poll
  makes two calls to Stitch in a row and a failure shows at most `ttl` plus one poll late.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from bridge.ownership import Owner
from bridge.stitch.models import ConnectionCheck

CHECK_TTL = 2.0  # seconds a running check's answer is reused (the widget polls every 0.5 s)
FINISHED = ("failed", "succeeded")

CheckKey = tuple[str, int, str]  # (Stitch account's budget key, source id, check job name)


class OwnerCache:
    """Source id → its owner, for the most recently used `size` sources of this process."""

    def __init__(self, size: int = 50_000) -> None:
        self._owners: OrderedDict[int, Owner] = OrderedDict()
        self._size = size

    def get(self, source_id: int) -> Owner | None:
        owner = self._owners.get(source_id)
        if owner is not None:
            self._owners.move_to_end(source_id)
        return owner

    def add(self, source_id: int, owner: Owner) -> None:
        self._owners[source_id] = owner
        if len(self._owners) > self._size:
            self._owners.popitem(last=False)


class CheckCache:
    """(account, source, check job) → the last connection check, read once per `ttl`, shared."""

    def __init__(
        self,
        ttl: float = CHECK_TTL,
        size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self._clock = clock
        self._done: OrderedDict[CheckKey, tuple[float, ConnectionCheck | None]] = OrderedDict()
        self._flying: dict[CheckKey, asyncio.Future[ConnectionCheck | None]] = {}
        self._size = size

    async def get(
        self, key: CheckKey, fetch: Callable[[], Awaitable[ConnectionCheck | None]]
    ) -> ConnectionCheck | None:
        known = self._done.get(key)
        if known is not None and _fresh(key, known, self.ttl, self._clock()):
            return known[1]
        flying = self._flying.get(key)
        if flying is None:
            flying = asyncio.ensure_future(self._fetch(key, fetch))
            flying.add_done_callback(_retrieve)
            self._flying[key] = flying
        if known is not None:
            return known[1]  # read again behind this answer
        # Shielded: one widget going away must not cancel the call the others wait on.
        return await asyncio.shield(flying)

    async def _fetch(
        self, key: CheckKey, fetch: Callable[[], Awaitable[ConnectionCheck | None]]
    ) -> ConnectionCheck | None:
        try:
            check = await fetch()
        finally:
            del self._flying[key]
        self._done.pop(key, None)
        self._done[key] = (self._clock(), check)
        if len(self._done) > self._size:
            self._done.popitem(last=False)
        return check


def _fresh(
    key: CheckKey, known: tuple[float, ConnectionCheck | None], ttl: float, now: float
) -> bool:
    read_at, check = known
    # Final only when it is the very job the source names (not an earlier check Stitch still
    # shows while the new one starts).
    final = check is not None and check.status in FINISHED and check.name == key[2]
    return final or now - read_at < ttl


def _retrieve(future: asyncio.Future[ConnectionCheck | None]) -> None:
    """Mark an error as seen when every waiter went away, so asyncio does not log it as lost."""
    if not future.cancelled():
        future.exception()
