"""The bridge's error codes (CONTRACT §4.4), the tables that turn other errors into them, one renderer.

Each code owns its status (`ERROR_STATUS`); call sites never pass a status. The contract gives three
codes a second status, for a distinct situation a caller can tell apart; such an error names its
`variant`, and `VARIANT_STATUS` is the one place (code, variant) → status is decided:
- `invalid_request` 400 is a request the bridge cannot read as asked; variant "fields" (422) is a
  well-formed request whose named fields (`details.fields`) hold values the bridge refuses.
- `upstream_unavailable` 502 is Stitch failing or refusing the bridge; variant "timeout" (504) is
  Stitch (or a concurrent attempt waiting on it) not answering in time; variant "database" (503,
  with Retry-After) is the bridge's own database being unreachable.
Token errors (bridge/tokens.py) become codes in `TOKEN_ERRORS`, upstream errors in `from_upstream`.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bridge.stitch import errors as stitch
from bridge.tokens import TokenError, TokenExpired, TokenInvalid

log = logging.getLogger("bridge.errors")

# Every stable code with its HTTP status. A drift test pins this against the contract.
ERROR_STATUS: dict[str, int] = {
    "invalid_json": 400,
    "invalid_request": 400,
    "payload_too_large": 413,
    "unauthorized": 401,
    "session_expired": 401,
    "origin_not_allowed": 403,
    "source_type_not_allowed": 403,
    "token_invalid": 400,
    "token_expired": 400,
    "token_used": 409,
    "source_not_found": 404,
    "tenant_not_found": 404,
    "tenant_exists": 409,
    "duplicate_name": 409,
    "bad_properties": 422,
    "upstream_rate_limited": 503,
    "upstream_unavailable": 502,
    "not_found": 404,
    "method_not_allowed": 405,
    "receipt_invalid": 400,
    "source_limit_reached": 409,
    "action_not_allowed": 403,
    "source_not_ready": 409,
    "sync_already_running": 409,
    "internal": 500,
}

# The second statuses the contract allows, each for one situation (see the module's docstring).
VARIANT_STATUS: dict[tuple[str, str], int] = {
    ("invalid_request", "fields"): 422,
    ("upstream_unavailable", "timeout"): 504,
    ("upstream_unavailable", "database"): 503,
}

# Which code (and message) a token that cannot be used answers with, by purpose and failure.
TOKEN_ERRORS: dict[tuple[str, type[TokenError]], tuple[str, str]] = {
    ("session", TokenExpired): ("session_expired", "the connect session has expired"),
    ("session", TokenInvalid): ("unauthorized", "not a valid connect-session token"),
    ("step", TokenExpired): ("token_expired", "this step token has expired"),
    ("step", TokenInvalid): ("token_invalid", "not a valid step token"),
    ("receipt", TokenExpired): ("receipt_invalid", "this receipt is not valid"),
    ("receipt", TokenInvalid): ("receipt_invalid", "this receipt is not valid"),
}


class BridgeError(Exception):
    """An error the bridge answers with: a stable `code`, an HTTP status, a human message."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        variant: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown error code {code!r}")
        if variant is not None and (code, variant) not in VARIANT_STATUS:
            raise ValueError(f"unknown variant {variant!r} of {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.variant = variant
        self.status = VARIANT_STATUS[code, variant] if variant else ERROR_STATUS[code]
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def from_upstream(error: stitch.StitchError) -> BridgeError:
    """The one place a Stitch error becomes a contract error; Stitch's own message is kept."""
    message = error.message or "Stitch refused the request"
    if isinstance(error, stitch.StitchDestinationRefused):
        # The limit, a change of type, a property: the caller must change what it sends.
        named = {"bad_properties": list(error.bad_properties)} if error.bad_properties else None
        return BridgeError("bad_properties", message, details=named)
    if isinstance(error, stitch.StitchInvalidProperties):
        details: dict[str, Any] = {"bad_properties": list(error.bad_properties)}
        details["properties"] = {
            name: f"Stitch rejected this value: {message}" for name in error.bad_properties
        }
        return BridgeError("bad_properties", message, details=details)
    if isinstance(error, stitch.StitchInvalidName):
        return BridgeError("duplicate_name", message)
    if isinstance(error, stitch.StitchAccessDenied | stitch.StitchInvalidType):
        return BridgeError("source_type_not_allowed", message)
    if isinstance(error, stitch.StitchNotFound):
        return BridgeError("source_not_found", "no such source")
    if isinstance(error, stitch.StitchRateLimited):
        retry_after = max(1, int(round(error.retry_after or 1)))
        return BridgeError(
            "upstream_rate_limited",
            "Stitch is rate limiting this account; try again shortly",
            headers={"Retry-After": str(retry_after)},
            details={"retry_after": retry_after},
        )
    if isinstance(error, stitch.StitchTransportError):
        return BridgeError(
            "upstream_unavailable", "Stitch did not answer in time", variant="timeout"
        )
    if isinstance(error, stitch.StitchUnauthorized):
        # The bridge's own credentials were refused: the operator must act, the caller cannot.
        log.error("stitch refused the bridge's access token (401)")
        return BridgeError("upstream_unavailable", "Stitch refused the bridge's credentials")
    if isinstance(error, stitch.StitchBadRequest):
        return BridgeError("invalid_request", message, details={"upstream": error.stitch_code})
    return BridgeError("upstream_unavailable", "Stitch is unavailable; try again shortly")


def from_token(error: TokenError) -> BridgeError:
    """The one place a token failure becomes a contract error."""
    kind = TokenExpired if isinstance(error, TokenExpired) else TokenInvalid
    code, message = TOKEN_ERRORS.get((error.purpose, kind), ("token_invalid", "not a valid token"))
    return BridgeError(code, message)


def render(error: BridgeError, request_id: str | None = None) -> Response:
    headers = dict(error.headers)
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


async def handle_bridge_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BridgeError)
    return render(exc, request.scope.get("state", {}).get("request_id"))


async def handle_token_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TokenError)
    return render(from_token(exc), request.scope.get("state", {}).get("request_id"))


async def handle_upstream_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, stitch.StitchError)
    return render(from_upstream(exc), request.scope.get("state", {}).get("request_id"))
