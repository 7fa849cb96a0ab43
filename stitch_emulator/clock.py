"""The emulator's clock: wall time plus an offset that tests move with `advance`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


class Clock:
    """UTC time for every expiry and job in the emulator.

    Running by default (so a demo's checks finish on their own); `frozen` pins it to `start`
    so that a test decides exactly when time passes.
    """

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        base = start if start is not None else datetime.now(UTC)
        if base.tzinfo is None:
            raise ValueError("the clock needs an aware datetime")
        self._fixed = base.astimezone(UTC)
        self._offset = timedelta(0)
        if not frozen and start is not None:
            self._offset = self._fixed - datetime.now(UTC)

    @classmethod
    def frozen_at(cls, start: datetime | None = None) -> Clock:
        return cls(start or datetime(2020, 3, 20, 16, 0, 0, tzinfo=UTC), frozen=True)

    @property
    def frozen(self) -> bool:
        return self._frozen

    def now(self) -> datetime:
        with self._lock:
            if self._frozen:
                return self._fixed + self._offset
            return datetime.now(UTC) + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += timedelta(seconds=seconds)
