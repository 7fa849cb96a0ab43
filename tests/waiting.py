"""Wait for a condition, never for a fixed time: poll it until it holds or a deadline passes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

# How often a condition is read again: short enough to add little to a test, long enough not
# to busy-loop against the servers the condition asks.
INTERVAL = 0.02


def eventually(condition: Callable[[], T], what: str = "the condition", timeout: float = 15.0) -> T:
    """The first truthy value of `condition()`; fails the test when none came within `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(INTERVAL)


async def eventually_async(
    condition: Callable[[], Awaitable[T]], what: str = "the condition", timeout: float = 15.0
) -> T:
    """`eventually` for a condition that is a coroutine (read from inside an event loop)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(INTERVAL)
