"""Webhook signatures (CONTRACT §5): `Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of
"<t>.<raw body>">`, keyed with the UTF-8 bytes of `BRIDGE_WEBHOOK_SECRET`.

Parsing is strict (ASCII digits, lowercase hex), every comparison is constant-time, and the
timestamp must be within `tolerance` seconds of now, so that a captured delivery cannot be
replayed later. Several `v1` values may appear, and several secrets may be given, so that a secret
can be rotated without dropping a delivery.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Sequence
from typing import Any

from stitch_bridge_client._errors import SignatureVerificationError

HEADER = "Bridge-Signature"
DEFAULT_TOLERANCE = 300
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"[0-9a-f]{64}")
_MAX_HEADER = 4096


def _mac(secret: str, timestamp: str, payload: bytes) -> str:
    return hmac.new(
        secret.encode(), timestamp.encode() + b"." + payload, hashlib.sha256
    ).hexdigest()


def _parse(header: str) -> tuple[str | None, list[str]]:
    if not isinstance(header, str) or not header or len(header) > _MAX_HEADER:
        raise SignatureVerificationError(
            f"the {HEADER} header is missing or too long", reason="malformed_header"
        )
    timestamp: str | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, sep, value = part.strip().partition("=")
        if not sep:
            raise SignatureVerificationError(
                f"the {HEADER} header is not `t=…,v1=…`", reason="malformed_header"
            )
        if name == "t":
            # fullmatch on an ASCII class: "²" or "١" are digits to str.isdigit(), not to us.
            if timestamp is not None or not _TIMESTAMP.fullmatch(value):
                raise SignatureVerificationError(
                    "the signature's timestamp is not one whole number of seconds",
                    reason="malformed_header",
                )
            timestamp = value
        elif name == "v1" and _SIGNATURE.fullmatch(value):
            signatures.append(value)
        # Other schemes (a future v2) and malformed v1 values are skipped, never trusted.
    return timestamp, signatures


class Webhook:
    """Verify (and, for tests, sign) the bridge's webhook deliveries."""

    @staticmethod
    def verify(
        payload: bytes | str,
        header: str,
        secret: str | Sequence[str],
        tolerance: int = DEFAULT_TOLERANCE,
        *,
        now: float | None = None,
    ) -> dict[str, Any]:
        """The event, once the signature and its timestamp check out.

        `payload` is the raw request body exactly as received (not re-serialised JSON);
        `header` the `Bridge-Signature` header; `secret` your `BRIDGE_WEBHOOK_SECRET`, or a list
        of them while rotating. Raises `SignatureVerificationError` whose `reason` names the
        check that failed. `now` (Unix seconds) replaces the clock in tests.
        """
        body = payload.encode() if isinstance(payload, str) else bytes(payload)
        secrets = [secret] if isinstance(secret, str) else list(secret)
        if not secrets or not all(isinstance(s, str) and s for s in secrets):
            raise ValueError("secret must be a non-empty string or a list of them")
        timestamp, signatures = _parse(header)
        if timestamp is None:
            raise SignatureVerificationError(
                f"the {HEADER} header has no timestamp", reason="no_timestamp"
            )
        if not signatures:
            raise SignatureVerificationError(
                f"the {HEADER} header has no v1 signature", reason="no_signature"
            )
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > tolerance:
            raise SignatureVerificationError(
                f"the signature's timestamp is more than {tolerance} s from now",
                reason="timestamp_outside_tolerance",
            )
        matched = False
        # Every pair is compared, so the time taken says nothing about which one matched.
        for key in secrets:
            expected = _mac(key, timestamp, body)
            for given in signatures:
                matched |= hmac.compare_digest(expected, given)
        if not matched:
            raise SignatureVerificationError(
                "no v1 signature matches the payload with this secret",
                reason="signature_mismatch",
            )
        try:
            event = json.loads(body)
        except ValueError:
            event = None
        if not isinstance(event, dict):
            raise SignatureVerificationError(
                "the payload is not a JSON object", reason="invalid_payload"
            )
        return event

    @staticmethod
    def sign(payload: bytes | str, secret: str, *, timestamp: int | None = None) -> str:
        """A `Bridge-Signature` header for `payload`, as the bridge makes it (for tests)."""
        body = payload.encode() if isinstance(payload, str) else bytes(payload)
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return f"t={stamp},v1={_mac(secret, stamp, body)}"
