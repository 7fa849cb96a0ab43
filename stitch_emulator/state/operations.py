"""How backend methods run: one at a time, after finishing due work, counting writes."""

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
