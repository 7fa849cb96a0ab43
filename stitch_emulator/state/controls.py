"""Test controls that are not Stitch state: injected faults and the request log (§7 CONTRACT)."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass, replace
from typing import Any

FAULT_KEYS = {
    "method",
    "path",
    "status",
    "count",
    "delay",
    "retry_after",
    "body",
    "after",
    "content_type",
}


@dataclass(frozen=True)
class Fault:
    """One injected failure: which requests it hits, and how it answers them."""

    path: str
    method: str | None = None
    status: int | None = 503
    count: int | None = 1
    delay: float = 0.0
    retry_after: str | None = None
    body: Any = None
    after: bool = False
    content_type: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        wanted, given = self.path.rstrip("/").split("/"), path.rstrip("/").split("/")
        return len(wanted) == len(given) and all(
            w == "*" or w == g for w, g in zip(wanted, given, strict=True)
        )


def parse_fault(spec: Any) -> Fault:
    """Build a Fault from a `POST /_emulator/faults` body; ValueError names what is wrong."""
    if not isinstance(spec, dict) or not isinstance(spec.get("path"), str):
        raise ValueError("a fault needs at least a `path`")
    unknown = set(spec) - FAULT_KEYS
    if unknown:
        raise ValueError(f"unknown fault keys: {sorted(unknown)}")
    if not spec["path"].startswith("/"):
        raise ValueError("`path` must start with /")
    status = spec.get("status", 503)
    if status is not None and (not isinstance(status, int) or not 100 <= status <= 599):
        raise ValueError("`status` must be an HTTP status code or null")
    count = spec.get("count", 1)
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError("`count` must be a positive integer or null (unlimited)")
    delay = spec.get("delay", 0) or 0
    if not isinstance(delay, int | float) or delay < 0:
        raise ValueError("`delay` must be a non-negative number of seconds")
    method = spec.get("method")
    if method is not None and not isinstance(method, str):
        raise ValueError("`method` must be a string")
    retry_after = spec.get("retry_after")
    return Fault(
        path=spec["path"],
        method=method,
        status=status,
        count=count,
        delay=float(delay),
        retry_after=None if retry_after is None else str(retry_after),
        body=spec.get("body"),
        after=bool(spec.get("after", False)),
        content_type=spec.get("content_type"),
    )


class Controls:
    """Faults waiting to fire and the log of recent requests; thread-safe, in memory only."""

    def __init__(self, log_size: int = 2000) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self._logged = 0

    def add_fault(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def faults(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._faults]

    def take_fault(self, method: str, path: str) -> Fault | None:
        """The first fault matching this request, using up one of its `count`."""
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.matches(method, path):
                    if fault.count is not None:
                        if fault.count <= 1:
                            del self._faults[index]
                        else:
                            self._faults[index] = replace(fault, count=fault.count - 1)
                    return fault
        return None

    def log_request(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._logged += 1
            self._log.append({"id": self._logged, **entry})

    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        with self._lock:
            self._log.clear()

    def reset(self) -> None:
        self.clear_faults()
        self.clear_requests()
