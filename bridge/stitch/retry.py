"""When to try a Stitch call again, and how long to wait first.

Only calls that are safe to repeat are retried after they may have reached Stitch; a request
that provably never left (connection refused, connect or pool timeout) is safe for any method.
Waits are exponential with full jitter, honour `Retry-After`, and never run past the deadline.
"""

from __future__ import annotations

import email.utils
import json
import math
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx

from .errors import (
    StitchError,
    StitchRateLimited,
    StitchTransportError,
    StitchUnavailable,
    parse_error,
)

_T = TypeVar("_T")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

# The request was never written to a connection, so the server cannot have acted on it.
NEVER_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


@dataclass(frozen=True)
class RetryPolicy:
    """`attempts` counts the first try; `deadline` (seconds) bounds a whole call, waits included."""

    attempts: int = 4
    base: float = 0.2
    cap: float = 5.0
    deadline: float = 25.0
    retry_statuses: frozenset[int] = field(default=frozenset({429, 502, 503, 504}))

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if self.base < 0 or self.cap < 0 or self.deadline <= 0:
            raise ValueError("RetryPolicy.base and cap must be >= 0 and deadline > 0")

    def may_retry_after_sending(self, method: str) -> bool:
        """Whether a call that may have reached Stitch can be sent again without harm."""
        return method.upper() in IDEMPOTENT_METHODS

    def retries_status(self, status: int, *, is_json: bool) -> bool:
        """Whether an answer with this status is worth another try (for a repeatable call).

        A non-JSON 5xx is a proxy or load balancer talking, not Stitch: transient by nature.
        """
        return status in self.retry_statuses or (status >= 500 and not is_json)

    def backoff(self, retry_number: int, random: Callable[[], float]) -> float:
        """Full-jitter wait before retry `retry_number` (1 for the first retry)."""
        ceiling = min(self.cap, self.base * 2.0 ** (retry_number - 1))
        return random() * ceiling


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), else None.

    `now` is the Unix time the date form is measured against (the response's `Date` header when
    it has one, so that clock skew between us and Stitch does not matter).
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            return None
        seconds = moment.timestamp() - now
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def response_time(response: httpx.Response, fallback: float) -> float:
    """The Unix time the server says it answered at, from its `Date` header, else `fallback`."""
    header = response.headers.get("date")
    if header:
        try:
            moment = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError, IndexError):
            return fallback
        if moment.tzinfo is not None:
            return moment.timestamp()
    return fallback


class AttemptFailed(Exception):
    """Raised by one attempt: `error` is what the caller gets unless another attempt follows;
    `retry` says whether one may; `retry_after` is the server's wish for the wait, if any."""

    def __init__(
        self, error: StitchError, *, retry: bool, retry_after: float | None = None
    ) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry = retry
        self.retry_after = retry_after


async def run_with_retries(
    policy: RetryPolicy,
    attempt: Callable[[int, float], Awaitable[_T]],
    *,
    clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[object]],
    random: Callable[[], float],
) -> _T:
    """Call `attempt(number, seconds_left)` until it returns, may not be retried, the attempts
    are used up, or the next wait would end past the deadline; then raise its last error."""
    started = clock()
    error: StitchError = StitchTransportError("no attempt fitted in the deadline")
    cause: BaseException | None = None
    for number in range(1, policy.attempts + 1):
        remaining = policy.deadline - (clock() - started)
        if remaining <= 0:
            break
        try:
            return await attempt(number, remaining)
        except AttemptFailed as failed:
            error, cause = failed.error, failed.__cause__
            if not failed.retry:
                break
            delay = failed.retry_after
            if delay is None:
                delay = policy.backoff(number, random)
        # Waking at the deadline leaves no time to try again: answer now instead.
        if number == policy.attempts or (clock() - started) + delay >= policy.deadline:
            break
        await sleep(delay)
    raise error from cause


def bounded_timeout(timeout: httpx.Timeout, remaining: float) -> httpx.Timeout:
    """`timeout` with no phase allowed to outlast the seconds left before the deadline."""

    def bound(value: float | None) -> float:
        return remaining if value is None else min(value, remaining)

    return httpx.Timeout(
        connect=bound(timeout.connect),
        read=bound(timeout.read),
        write=bound(timeout.write),
        pool=bound(timeout.pool),
    )


def decode_json(response: httpx.Response) -> tuple[bool, Any]:
    """(is_json, body); an empty body is not JSON."""
    if not response.content.strip():
        return False, None
    try:
        return True, json.loads(response.content)
    except (ValueError, RecursionError):  # RecursionError: nesting no API answer has
        return False, None


def failed_answer(
    response: httpx.Response,
    *,
    is_json: bool,
    body: object,
    repeatable: bool,
    policy: RetryPolicy,
    secrets: Iterable[str],
    now: float,
) -> AttemptFailed:
    """What an answer that is not a usable success means: its error, and whether to try again.

    A 2xx whose body is not JSON is treated like a 5xx: something between us and Stitch spoke.
    """
    status = response.status_code
    success = 200 <= status < 300
    retry_after = parse_retry_after(
        response.headers.get("retry-after"), now=response_time(response, now)
    )
    error: StitchError
    if not is_json and (status >= 500 or success):
        error = StitchUnavailable(
            f"Stitch answered HTTP {status} with a body that is not JSON", status=status
        )
    else:
        error = parse_error(status, body if is_json else None, secrets=secrets)
        if isinstance(error, StitchRateLimited):
            error.retry_after = retry_after
    # A 429 is a refusal before any work, so even a call that is not repeatable may go again.
    refused_unworked = status == 429 and policy.retries_status(status, is_json=is_json)
    retry = refused_unworked or (
        repeatable and (success or policy.retries_status(status, is_json=is_json))
    )
    return AttemptFailed(error, retry=retry, retry_after=retry_after)
