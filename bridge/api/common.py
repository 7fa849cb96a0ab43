"""What every route needs: the services, the caller's identity, and validated JSON input."""

from __future__ import annotations

import hmac
import json
import math
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

from bridge.errors import BridgeError
from bridge.services import Services
from bridge.store import queries as q
from bridge.tokens import ConnectSession

MAX_JSON_DEPTH = 32
MAX_STRING = 10_000
MAX_ID = 200
# JSON's `\ud800` escapes (and UTF-8 bytes of a surrogate) decode to a lone UTF-16 surrogate:
# a str Python holds but cannot encode, so any later write or answer would fail with a 500.
_SURROGATE = re.compile("[\ud800-\udfff]")


# For answers holding a credential (session or step token, receipt, link URL): no cache, shared
# or private, may keep a copy.
NO_STORE = {"Cache-Control": "no-store"}


def services_of(request: Request) -> Services:
    services = request.state.services
    assert isinstance(services, Services)
    return services


def json_response(
    body: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise BridgeError("unauthorized", "send `Authorization: Bearer <token>`")
    return value.strip()


def require_api_key(request: Request) -> None:
    presented = bearer(request).encode()
    keys = services_of(request).settings.api_keys
    # Compare against every key in constant time, so timing says nothing about which matched.
    matched = False
    for key in keys:
        matched |= hmac.compare_digest(presented, key.encode())
    if not matched:
        raise BridgeError("unauthorized", "this API key is not valid")


async def require_session(request: Request) -> ConnectSession:
    services = services_of(request)
    cs = services.tokens.read_session(bearer(request))
    limiter = services.session_rate_limit
    wait = limiter.take(cs.id, services.clock.time())
    if wait is not None:
        retry_after = max(1, math.ceil(wait))
        raise BridgeError(
            "upstream_rate_limited",
            "too many requests from this connect session; slow down",
            headers={"Retry-After": str(retry_after)},
            details={"retry_after": retry_after, "scope": "session"},
        )
    seen = services.seen_sessions
    if cs.id not in seen:
        async with services.db.begin() as session:
            await q.record_session(
                session,
                id=cs.id,
                tenant=cs.tenant,
                end_user_id=cs.end_user_id,
                source_types=list(cs.source_types) if cs.source_types is not None else None,
                source_id=cs.source_id,
                expires_at=cs.expires_at,
                now=services.clock.time(),
            )
        seen.add(cs.id)
    return cs


def _depth(value: Any, limit: int) -> bool:
    """Whether `value` nests deeper than `limit` (iteratively: hostile input can't blow the stack)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > limit:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return False


def _lone_surrogate(value: Any) -> str | None:
    """The JSON path (`properties.api_key`, `source_types[0]`) of the first key or string that
    holds a lone surrogate, or None. Iterative like `_depth`; bad keys are shown escaped."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return path or "body"
        elif isinstance(item, dict):
            for key, child in item.items():
                shown = key.encode("utf-8", "backslashreplace").decode("utf-8")[:100]
                child_path = f"{path}.{shown}" if path else shown
                if _SURROGATE.search(key):
                    return child_path
                stack.append((child, child_path))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None


async def json_object(request: Request, *, optional: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        if optional:
            return {}
        raise BridgeError("invalid_json", "the request body must be a JSON object")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BridgeError("invalid_json", f"the request body is not valid JSON: {error}") from None
    except RecursionError:
        raise BridgeError(
            "invalid_request", f"JSON nests deeper than {MAX_JSON_DEPTH} levels"
        ) from None
    # Both walks below are skipped when the raw text rules them out (the common case, and a
    # quarter of a mint's CPU otherwise): nesting needs as many brackets, and a lone surrogate
    # needs a \u escape or the UTF-8 lead byte of a surrogate (json decodes with surrogatepass).
    if raw.count(b"{") + raw.count(b"[") >= MAX_JSON_DEPTH and _depth(body, MAX_JSON_DEPTH):
        raise BridgeError("invalid_request", f"JSON nests deeper than {MAX_JSON_DEPTH} levels")
    maybe_surrogate = b"\\u" in raw or b"\xed" in raw
    surrogate_at = _lone_surrogate(body) if maybe_surrogate else None
    if surrogate_at is not None:
        raise BridgeError(
            "invalid_request",
            "the body holds text that is not valid Unicode (a lone UTF-16 surrogate)",
            details={"fields": {surrogate_at: "must be valid Unicode text"}},
        )
    if not isinstance(body, dict):
        raise BridgeError("invalid_request", "the request body must be a JSON object")
    return body


class Fields:
    """Collects per-field problems so the caller hears about all of them at once."""

    def __init__(self, body: dict[str, Any], allowed: tuple[str, ...]) -> None:
        self.body = body
        self.problems: dict[str, str] = {}
        for name in body:
            if name not in allowed:
                self.problems[str(name)[:100]] = "unknown field"

    def text(
        self, name: str, *, required: bool = False, max_length: int = MAX_STRING
    ) -> str | None:
        value = self.body.get(name)
        if value is None:
            if required:
                self.problems[name] = "required"
            return None
        if not isinstance(value, str):
            self.problems[name] = "must be a string"
            return None
        if not value.strip():
            self.problems[name] = "must not be empty"
            return None
        if len(value) > max_length:
            self.problems[name] = f"must be at most {max_length} characters"
            return None
        return value

    def integer(
        self, name: str, *, minimum: int | None = None, maximum: int | None = None
    ) -> int | None:
        value = self.body.get(name)
        if value is None:
            return None
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # JSON has one number type: 3.0 is the integer 3
        if isinstance(value, bool) or not isinstance(value, int):
            self.problems[name] = "must be an integer"
            return None
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.problems[name] = f"must be between {minimum} and {maximum}"
            return None
        return value

    def string_list(self, name: str, *, max_items: int = 200) -> list[str] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) > max_items
            or not all(isinstance(v, str) and v and len(v) <= MAX_ID for v in value)
        ):
            self.problems[name] = f"must be a list of at most {max_items} non-empty strings"
            return None
        return value

    def properties(self, name: str) -> dict[str, Any] | None:
        value = self.body.get(name)
        if value is None:
            return None
        if not isinstance(value, dict) or len(value) > 200:
            self.problems[name] = "must be an object of at most 200 properties"
            return None
        for key, item in value.items():
            if len(key) > MAX_ID:
                self.problems[f"{name}.{key[:50]}"] = "property name too long"
            elif isinstance(item, bool) or not isinstance(item, str | int | float):
                self.problems[f"{name}.{key}"] = "must be a string or a number"
            elif isinstance(item, str) and len(item) > MAX_STRING:
                self.problems[f"{name}.{key}"] = f"must be at most {MAX_STRING} characters"
        return value

    def check(self) -> None:
        if self.problems:
            raise BridgeError(
                "invalid_request",
                "some fields are not valid",
                variant="fields",
                details={"fields": self.problems},
            )


def path_int(request: Request, name: str) -> int:
    raw = request.path_params[name]
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise BridgeError("source_not_found", "no such source for this end user") from None
    if not 0 < value < 2**63:
        raise BridgeError("source_not_found", "no such source for this end user")
    return value
