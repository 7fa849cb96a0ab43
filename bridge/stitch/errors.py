"""Typed errors of the Stitch Connect client, and the one parser that turns any Stitch error body
into them. The API answers errors in half a dozen body shapes (reference §7.1); callers catch a
class and never look at a body again. Imports nothing of the app."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"
# Secrets shorter than this are not scrubbed: replacing "1" or "ab" everywhere would mangle text
# while protecting nothing.
_MIN_SECRET_LENGTH = 6


class StitchError(Exception):
    """Anything that went wrong talking to Stitch.

    `message` is Stitch's own text (or ours when Stitch gave none), never a credential;
    `stitch_code` is Stitch's machine code ("InvalidProperties", "already_running", …) when the
    body had one; `body` is the parsed body, for callers that need a detail we do not model.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        stitch_code: str | None = None,
        body: object = None,
    ) -> None:
        self.message = message
        self.status = status
        self.stitch_code = stitch_code
        self.body = body
        super().__init__(_describe(status, stitch_code, message))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, stitch_code={self.stitch_code!r}, "
            f"message={self.message!r})"
        )


class StitchTransportError(StitchError):
    """No answer: the connection failed or timed out, on every attempt we were allowed."""


class StitchUnavailable(StitchError):
    """Stitch answered, but with a 5xx or something that is not the JSON it documents."""


class StitchRateLimited(StitchError):
    """Stitch (429) or our own upstream budget refused the call; `retry_after` is in seconds."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        stitch_code: str | None = None,
        body: object = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, stitch_code=stitch_code, body=body)
        self.retry_after = retry_after


class StitchUnauthorized(StitchError):
    """401: the access token (or partner credential) is missing, wrong or revoked."""


class StitchNotFound(StitchError):
    """The source, stream or path does not exist (Stitch says so with 404 or with some 400s)."""


class StitchBadRequest(StitchError):
    """Stitch refused the request itself (4xx)."""


class StitchInvalidProperties(StitchBadRequest):
    """Some source properties do not match their schema; `bad_properties` names them."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        stitch_code: str | None = None,
        body: object = None,
        bad_properties: Iterable[str] = (),
        report_card: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, status=status, stitch_code=stitch_code, body=body)
        self.bad_properties = list(bad_properties)
        self.report_card = report_card


class StitchDestinationRefused(StitchInvalidProperties):
    """Stitch refused to create or update a destination: at the account's destination limit, a
    change of type, a property it does not accept. Its answers are bare strings (§7.6), so the
    client raises this from the destination calls rather than guessing from the text."""


class StitchInvalidName(StitchBadRequest):
    """The display name (or the schema name derived from it) is invalid or already used."""


class StitchAccessDenied(StitchBadRequest):
    """The account may not use this source type or feature (Stitch answers 400, not 403)."""


class StitchInvalidType(StitchBadRequest):
    """Unknown source type."""


class StitchAlreadyRunning(StitchError):
    """A replication job is already running for the source (Stitch answers this with 200)."""


_CODE_CLASSES: dict[str, type[StitchError]] = {
    "InvalidProperties": StitchInvalidProperties,
    "InvalidName": StitchInvalidName,
    "InvalidDisplayName": StitchInvalidName,
    "AccessDenied": StitchAccessDenied,
    "InvalidType": StitchInvalidType,
    "InvalidId": StitchNotFound,
    "NotFound": StitchNotFound,
    "invalid_source": StitchNotFound,
    "already_running": StitchAlreadyRunning,
    "Unauthorized": StitchUnauthorized,
}

# Bare-string bodies carry no code; these are the documented ones that mean "no such thing",
# including the 2018 wording of the same conditions (reference §7.3).
_NOT_FOUND_PREFIXES = ("invalid stream-id", "unable to locate source", "source not found")
_NAME_TAKEN_PREFIX = "a source of name "


def parse_error(status: int | None, body: object, *, secrets: Iterable[str] = ()) -> StitchError:
    """Translate one Stitch error answer into the matching exception.

    `body` is the decoded JSON (any shape of reference §7.1), or None when there was none.
    Every string in the message and body that equals or contains one of `secrets` is redacted.
    """
    secrets = [s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH]
    try:
        body = scrub(body, secrets)
    except RecursionError:
        body = None  # absurdly nested: keep nothing rather than something unscrubbed
    code = _code_of(body)
    message = _message_of(body) or _fallback_message(status, code)
    bad_properties, report_card = _bad_properties_of(body)
    cls = _class_for(status, code, message, bad_properties)
    kwargs: dict[str, Any] = {"status": status, "stitch_code": code, "body": body}
    if cls is StitchInvalidProperties:
        kwargs.update(bad_properties=bad_properties or [], report_card=report_card)
    elif cls is StitchRateLimited:
        kwargs["retry_after"] = None
    return cls(message, **kwargs)


def scrub(value: Any, secrets: Iterable[str]) -> Any:
    """`value` with every occurrence of a secret replaced, through lists and dicts."""
    secrets = [s for s in secrets if s and len(s) >= _MIN_SECRET_LENGTH]
    if not secrets:
        return value
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, list):
        return [scrub(item, secrets) for item in value]
    if isinstance(value, dict):
        return {scrub(k, secrets): scrub(v, secrets) for k, v in value.items()}
    return value


def _class_for(
    status: int | None, code: str | None, message: str, bad_properties: list[str] | None
) -> type[StitchError]:
    if status == 401:
        return StitchUnauthorized
    if status == 404:
        return StitchNotFound
    if status == 429:
        return StitchRateLimited
    if status is not None and status >= 500:
        return StitchUnavailable
    if bad_properties is not None:
        return StitchInvalidProperties
    if code in _CODE_CLASSES:
        return _CODE_CLASSES[code]
    lowered = message.lower()
    if lowered.startswith(_NOT_FOUND_PREFIXES):
        return StitchNotFound
    if lowered.startswith(_NAME_TAKEN_PREFIX):
        return StitchInvalidName
    if status is not None and 400 <= status < 500:
        return StitchBadRequest
    # A 2xx carrying an error object, or an unexpected 1xx/3xx: Stitch did not do the thing.
    return (
        StitchUnavailable if status is None or status < 200 or status >= 300 else StitchBadRequest
    )


def _code_of(body: object) -> str | None:
    if not isinstance(body, Mapping):
        return None
    error = body.get("error")
    if isinstance(error, str) and error:
        return error  # {"error": "InvalidName", "data": {...}} and OAuth {"error": "invalid_grant"}
    if isinstance(error, Mapping) and isinstance(error.get("type"), str):
        return str(error["type"])  # replication jobs: {"error": {"type", "message"}}
    if isinstance(body.get("code"), str):
        return str(body["code"])  # accounts: {"code", "message", "errors"}
    return None


def _message_of(body: object) -> str | None:
    if isinstance(body, str):
        return body.strip().strip("`").strip() or None
    if not isinstance(body, Mapping):
        return None
    data = body.get("data")
    error = body.get("error")
    candidates = [
        data.get("message") if isinstance(data, Mapping) else None,
        error.get("message") if isinstance(error, Mapping) else None,
        body.get("message"),
        body.get("error_description"),
        body.get("invalid_fields"),
    ]
    for candidate in candidates:
        text = _as_text(candidate)
        if text:
            errors = body.get("errors")
            if candidate is body.get("message") and isinstance(errors, Mapping) and errors:
                # Accounts say only "Invalid form data."; the field map is the useful part.
                text = f"{text} ({_as_text(errors)})"
            return text
    if isinstance(body.get("status"), str):
        return str(body["status"])  # notifications: {"status": "NOT FOUND"}
    return None


def _as_text(value: object) -> str | None:
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, Mapping) and value:
        # Notifications put a field map where the message goes: {"email_address": "Required. …"}
        return "; ".join(f"{k}: {_as_text(v) or v}" for k, v in value.items())
    return None


def _bad_properties_of(body: object) -> tuple[list[str] | None, dict[str, Any] | None]:
    """`bad_properties` and `report_card` from the v4 `data` object or the 2018 top level."""
    if not isinstance(body, Mapping):
        return None, None
    for holder in (body.get("data"), body):
        if isinstance(holder, Mapping) and isinstance(holder.get("bad_properties"), list):
            card = holder.get("report_card")
            names = [str(name) for name in holder["bad_properties"]]
            return names, dict(card) if isinstance(card, Mapping) else None
    return None, None


def _fallback_message(status: int | None, code: str | None) -> str:
    if code:
        return code
    if status is None:
        return "no response from Stitch"
    return f"Stitch answered HTTP {status} without an error message"


def _describe(status: int | None, code: str | None, message: str) -> str:
    parts = []
    if status is not None:
        parts.append(f"HTTP {status}")
    if code and code != message:
        parts.append(code)
    prefix = " ".join(parts)
    return f"{prefix}: {message}" if prefix else message
