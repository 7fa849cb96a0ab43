"""The exceptions: one class per family of the bridge's error codes, so a caller catches the
level it cares about (`NotFoundError`, or any `BridgeError`)."""

from __future__ import annotations

from typing import Any


class BridgeError(Exception):
    """An error answer from the bridge (or no answer at all: `APIConnectionError`).

    `code` is the bridge's stable error code (CONTRACT §4.4), `message` its human text,
    `details` the per-field problems it gave, `status` the HTTP status (None without an answer),
    `request_id` the `X-Request-ID` to quote to whoever runs the bridge, and `retry_after` the
    seconds the bridge asked to wait (`Retry-After`), when it asked.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str,
        status: int | None = None,
        details: dict[str, Any] | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details: dict[str, Any] = details or {}
        self.request_id = request_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        where = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.code}: {self.message}{where}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, status={self.status!r}, message={self.message!r})"


class APIConnectionError(BridgeError):
    """The bridge could not be reached, or did not answer in time (code `connection_error`)."""


class InvalidRequestError(BridgeError):
    """The request was malformed: `invalid_json`, `invalid_request` (see `details`),
    `payload_too_large`."""


class BadPropertiesError(InvalidRequestError):
    """Stitch refused the properties (`bad_properties`); `details` holds its message per field."""


class AuthenticationError(BridgeError):
    """The credentials were refused: `unauthorized` (a wrong API key), `session_expired`."""


class PermissionDeniedError(BridgeError):
    """Not allowed: `origin_not_allowed`, `source_type_not_allowed`, `action_not_allowed`."""


class TokenError(BridgeError):
    """A step token was refused: `token_invalid`, `token_expired`, `token_used`."""


class ReceiptInvalidError(BridgeError):
    """The receipt is forged, altered or expired (`receipt_invalid`)."""


class NotFoundError(BridgeError):
    """Nothing there: `source_not_found`, `tenant_not_found`, `not_found`, `method_not_allowed`."""


class ConflictError(BridgeError):
    """The request clashes with the current state: `tenant_exists`, `duplicate_name`,
    `source_not_ready`, `sync_already_running`, `source_limit_reached`."""


class RateLimitError(BridgeError):
    """Too many requests (`upstream_rate_limited`, or any 429); `retry_after` says how long to wait."""


class UpstreamError(BridgeError):
    """Stitch did not answer usefully (`upstream_unavailable`); worth retrying later."""


class InternalError(BridgeError):
    """A bug in the bridge (`internal`); quote `request_id` when reporting it."""


class SignatureVerificationError(Exception):
    """A webhook failed `Webhook.verify`; `reason` names the check that failed:
    `malformed_header`, `no_timestamp`, `timestamp_outside_tolerance`, `no_signature`,
    `signature_mismatch` or `invalid_payload`."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason


_BY_CODE: dict[str, type[BridgeError]] = {
    "invalid_json": InvalidRequestError,
    "invalid_request": InvalidRequestError,
    "payload_too_large": InvalidRequestError,
    "bad_properties": BadPropertiesError,
    "unauthorized": AuthenticationError,
    "session_expired": AuthenticationError,
    "origin_not_allowed": PermissionDeniedError,
    "source_type_not_allowed": PermissionDeniedError,
    "action_not_allowed": PermissionDeniedError,
    "token_invalid": TokenError,
    "token_expired": TokenError,
    "token_used": TokenError,
    "receipt_invalid": ReceiptInvalidError,
    "source_not_found": NotFoundError,
    "tenant_not_found": NotFoundError,
    "not_found": NotFoundError,
    "method_not_allowed": NotFoundError,
    "tenant_exists": ConflictError,
    "duplicate_name": ConflictError,
    "source_not_ready": ConflictError,
    "sync_already_running": ConflictError,
    "source_limit_reached": ConflictError,
    "upstream_rate_limited": RateLimitError,
    "upstream_unavailable": UpstreamError,
    "internal": InternalError,
}

# A code this client does not know yet (a newer bridge) still lands in the right family.
_BY_STATUS: dict[int, type[BridgeError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: InvalidRequestError,
    422: InvalidRequestError,
    429: RateLimitError,
    502: UpstreamError,
    503: UpstreamError,
    504: UpstreamError,
}


def error_class(code: str, status: int) -> type[BridgeError]:
    """The exception class for an error answer: by code, else by status, else `BridgeError`."""
    found = _BY_CODE.get(code) or _BY_STATUS.get(status)
    if found is None:
        found = InternalError if status >= 500 else BridgeError
    return found
