"""How the backend's methods run: one at a time, after finishing due work, counting writes.

Every public method of `EmulatorBackend` wears one of these, so locking and settling are the
same everywhere; the parts it delegates to are plain and never lock.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def operation(method: Callable[..., T]) -> Callable[..., T]:
    """A write: serialised, settles due work first, and bumps the revision (persistence)."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            self._settle()
            try:
                return method(self, *args, **kwargs)
            finally:
                # Counted even when it fails: a refused exchange still uses its token up.
                self.revision += 1

    return run


def reading(method: Callable[..., T]) -> Callable[..., T]:
    """A read: serialised and settles due work first, so that it sees the present."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            self._settle()
            return method(self, *args, **kwargs)

    return run


def locked(method: Callable[..., T]) -> Callable[..., T]:
    """A look-up that must not see a half-made change, but needs no settling (it reads no
    clock-driven state, or is called on the hot path of every request)."""

    @functools.wraps(method)
    def run(self: Any, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            return method(self, *args, **kwargs)

    return run
