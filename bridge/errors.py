"""The bridge's error codes (CONTRACT §4.4), the one table from upstream errors to them, one renderer."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bridge.stitch import errors as stitch

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


class BridgeError(Exception):
    """An error the bridge answers with: a stable `code`, an HTTP status, a human message."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if code not in ERROR_STATUS:
            raise ValueError(f"unknown error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_STATUS[code]
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
        return BridgeError("upstream_unavailable", "Stitch did not answer in time", status=504)
    if isinstance(error, stitch.StitchUnauthorized):
        # The bridge's own credentials were refused: the operator must act, the caller cannot.
        log.error("stitch refused the bridge's access token (401)")
        return BridgeError("upstream_unavailable", "Stitch refused the bridge's credentials")
    if isinstance(error, stitch.StitchBadRequest):
        return BridgeError("invalid_request", message, details={"upstream": error.stitch_code})
    return BridgeError("upstream_unavailable", "Stitch is unavailable; try again shortly")


def render(error: BridgeError, request_id: str | None = None) -> Response:
    headers = dict(error.headers)
    if request_id:
        headers["X-Request-ID"] = request_id
    return JSONResponse(error.body(), status_code=error.status, headers=headers)


async def handle_bridge_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BridgeError)
    return render(exc, request.scope.get("state", {}).get("request_id"))


async def handle_upstream_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, stitch.StitchError)
    return render(from_upstream(exc), request.scope.get("state", {}).get("request_id"))


async def handle_unexpected(request: Request, exc: Exception) -> Response:
    request_id = request.scope.get("state", {}).get("request_id")
    log.exception("unhandled error", extra={"request_id": request_id})
    return render(BridgeError("internal", f"internal error (request id {request_id})"), request_id)
