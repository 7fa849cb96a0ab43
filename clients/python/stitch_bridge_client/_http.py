"""What one API call is, and the rules shared by the sync and async clients: which answers are
retried, how long to wait, and how an error answer becomes an exception."""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import httpx

from stitch_bridge_client._errors import APIConnectionError, BridgeError, error_class

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RETRIES = 3
BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
# A Retry-After longer than this is the bridge saying "not now": the error goes to the caller.
RETRY_AFTER_CAP = 60.0


def segment(value: str | int) -> str:
    """One path segment, escaped: an id can never reach another route."""
    return quote(str(value), safe="")


def new_idempotency_key() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Call(Generic[T]):
    """One request to the bridge and how to read its answer.

    `retry` marks a call that is safe to send again (a read, an idempotent write, or a create
    with an `Idempotency-Key` that stays the same on every attempt).
    """

    method: str
    path: str
    parse: Callable[[Any], T]
    params: Mapping[str, str] | None = None
    json: Any = None
    retry: bool = True
    idempotency_key: str | None = None
    expect_body: bool = True
    headers: dict[str, str] = field(default_factory=dict)

    def request_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.idempotency_key is not None:
            headers["Idempotency-Key"] = self.idempotency_key
        return headers


def retry_after_seconds(response: httpx.Response) -> float | None:
    """`Retry-After` as seconds: a number or an HTTP date; None when absent or unreadable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isascii() and value.replace(".", "", 1).isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff(attempt: int, retry_after: float | None) -> float | None:
    """Seconds to wait before attempt `attempt + 1`, or None when the wait is too long to retry.

    Exponential with full jitter; never shorter than what `Retry-After` asked for.
    """
    if retry_after is not None and retry_after > RETRY_AFTER_CAP:
        return None
    wait = random.uniform(0, min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt))
    return max(wait, retry_after or 0.0)


def should_retry(
    call: Call[Any], response: httpx.Response | None, attempt: int, limit: int
) -> bool:
    if not call.retry or attempt >= limit:
        return False
    return response is None or response.status_code in RETRY_STATUSES


def error_from(response: httpx.Response) -> BridgeError:
    """The exception for an error answer, from the contract's error body when there is one."""
    code, message, details = "", "", None
    try:
        body = response.json()
    except ValueError:
        body = None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        code = str(error.get("code") or "")
        message = str(error.get("message") or "")
        found = error.get("details")
        details = found if isinstance(found, dict) else None
    status = response.status_code
    if not code:
        code = "rate_limited" if status == 429 else f"http_{status}"
    cls = error_class(code, status)
    return cls(
        message or response.reason_phrase or f"HTTP {status}",
        code=code,
        status=status,
        details=details,
        request_id=response.headers.get("x-request-id"),
        retry_after=retry_after_seconds(response),
    )


def connection_error(exc: httpx.TransportError) -> APIConnectionError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return APIConnectionError(
        f"the request to the bridge {kind}: {type(exc).__name__}", code="connection_error"
    )


def result(call: Call[T], response: httpx.Response) -> T:
    if response.status_code >= 400:
        raise error_from(response)
    if not call.expect_body or response.status_code == 204 or not response.content:
        return call.parse(None)
    try:
        body = response.json()
    except ValueError as exc:
        raise BridgeError(
            "the bridge answered with something that is not JSON",
            code="invalid_response",
            status=response.status_code,
            request_id=response.headers.get("x-request-id"),
        ) from exc
    return call.parse(body)


def client_headers(api_key: str, extra: Mapping[str, str] | None) -> dict[str, str]:
    from stitch_bridge_client import __version__

    headers = {
        "Authorization": f"Bearer {api_key}",
        "Accept": "application/json",
        "User-Agent": f"stitch-bridge-client/{__version__}",
    }
    headers.update(extra or {})
    return headers
