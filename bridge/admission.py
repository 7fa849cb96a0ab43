"""Source creations prepare a few at a time, in order of arrival.

When a thousand end users create sources at once, a thousand requests sit on the event loop
together. Each awaits some ten times before it reaches Stitch (its session recorded, its intent
claimed under the end user's lock) and asyncio serves ready tasks in turn, so each await waits
for every other end user's step: all advance together, a step at a time, and the first reaches
Stitch only when nearly all have prepared, while Stitch's rate goes unused. Measured on a burst
of 1,000 (`python -m bench --only burst`): the first call to Stitch came only once the last
request had arrived, and the second 0.7 s after the first.

`Admission` lets `width` creations prepare at once, first come first served. A creation leaves
when it is about to call Stitch (waiting for its upstream slot happens outside, with the
others'), or when it ends; the rest wait in line without using the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

WIDTH = 16  # enough to keep Stitch's slots taken ahead of time; few enough to run quickly


class Ticket:
    """One creation's place past the gate, given up once."""

    def __init__(self, gate: asyncio.Semaphore) -> None:
        self._gate: asyncio.Semaphore | None = gate

    def leave(self) -> None:
        gate, self._gate = self._gate, None
        if gate is not None:
            gate.release()


class Admission:
    def __init__(self, width: int = WIDTH) -> None:
        if width < 1:
            raise ValueError("Admission width must be at least 1")
        self._gate = asyncio.Semaphore(width)

    @contextlib.asynccontextmanager
    async def enter(self) -> AsyncIterator[Ticket]:
        """Wait in line, then prepare; the ticket is given up on leaving the block at latest."""
        await self._gate.acquire()
        ticket = Ticket(self._gate)
        try:
            yield ticket
        finally:
            ticket.leave()
