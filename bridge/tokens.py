"""Signed tokens, one serializer (and salt) per purpose, with key rotation and explicit expiry.

Each token is an itsdangerous URL-safe signed payload. Expiry is part of the payload (`exp`, read
against the injected clock) so that every token can carry its own lifetime. Keys come newest first
from BRIDGE_SECRET_KEYS; itsdangerous signs with the last key of its list and verifies with all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from itsdangerous import BadData, Signer, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes
from itsdangerous.serializer import Serializer

from bridge.clock import Clock, new_id
from bridge.errors import BridgeError

SESSION_SALT = "stitch-bridge.connect-session.v1"
STEP_SALT = "stitch-bridge.step.v1"
RECEIPT_SALT = "stitch-bridge.receipt.v1"
RESUME_SALT = "stitch-bridge.resume.v1"
OAUTH_STATE_SALT = "stitch-bridge.oauth-state.v1"
OAUTH_BIND_SALT = "stitch-bridge.oauth-bind.v1"

RECEIPT_TTL = 90 * 86_400
ACTIONS = ("sync", "schedule", "pause")
DEFAULT_ACTIONS: tuple[str, ...] = ("sync",)


@dataclass(frozen=True)
class ConnectSession:
    id: str
    tenant: str | None
    end_user_id: str
    end_user_name: str | None
    end_user_email: str | None
    source_types: tuple[str, ...] | None
    source_id: int | None
    expires_at: float
    # What the end user may do after connecting (§4.8); tokens minted before this field
    # existed verify with the default.
    actions: tuple[str, ...] = DEFAULT_ACTIONS


@dataclass(frozen=True)
class StepClaim:
    id: str  # unique per token: what single use is recorded against
    session_id: str
    tenant: str | None
    end_user_id: str
    source_id: int
    step: str
    expires_at: float


@dataclass(frozen=True)
class Receipt:
    id: str
    source_id: int
    end_user_id: str
    tenant: str | None
    completed_at: float


class TokenError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "invalid" or "expired"


class _KeyedSigner(Signer):
    """A signer that derives each key once (itsdangerous derives it on every signature)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._derived: dict[bytes, bytes] = {}

    def derive_key(self, secret_key: str | bytes | None = None) -> bytes:
        key = self.secret_keys[-1] if secret_key is None else want_bytes(secret_key)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._derived[key] = super().derive_key(key)
        return derived


class _Serializer(URLSafeSerializer):
    """URL-safe, signed, JSON; one signer kept per salt, and no compression attempt: the
    payloads are a few hundred bytes, and zlib on every mint costs more than it saves."""

    def __init__(self, secret_keys: list[str], salt: str) -> None:
        super().__init__(secret_keys, salt=salt, signer=_KeyedSigner)
        self._signers: dict[str | bytes | None, Signer] = {}

    def make_signer(self, salt: str | bytes | None = None) -> Signer:
        signer = self._signers.get(salt)
        if signer is None:
            signer = self._signers[salt] = super().make_signer(salt)
        return signer

    def dump_payload(self, obj: Any) -> bytes:
        return base64_encode(Serializer.dump_payload(self, obj))


class Purpose:
    def __init__(self, secret_keys: tuple[str, ...], salt: str) -> None:
        # Newest first in the settings; itsdangerous wants newest last.
        self._serializer = _Serializer(list(reversed(secret_keys)), salt=salt)

    def dumps(self, payload: dict[str, Any]) -> str:
        token = self._serializer.dumps(payload)
        assert isinstance(token, str)
        return token

    def loads(self, token: object, now: float) -> dict[str, Any]:
        if not isinstance(token, str) or not token or len(token) > 4096:
            raise TokenError("invalid")
        if not _canonical(token):
            raise TokenError("invalid")
        try:
            payload = self._serializer.loads(token)
        except (BadData, UnicodeDecodeError, ValueError):
            raise TokenError("invalid") from None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int | float):
            raise TokenError("invalid")
        if payload["exp"] <= now:
            raise TokenError("expired")
        return payload


def _canonical(token: str) -> bool:
    """Each base64 part is exactly how we encode it. Base64 ignores the spare low bits of a
    final character, so without this check some altered tokens would still verify."""
    for part in token.lstrip(".").split("."):
        try:
            if base64_encode(base64_decode(part)).decode() != part:
                return False
        except (BadData, ValueError):
            return False
    return True


class Tokens:
    """The bridge's token kinds. Never reuse one kind for another job."""

    def __init__(self, secret_keys: tuple[str, ...], clock: Clock) -> None:
        self._clock = clock
        self._session = Purpose(secret_keys, SESSION_SALT)
        self._step = Purpose(secret_keys, STEP_SALT)
        self._receipt = Purpose(secret_keys, RECEIPT_SALT)

    # connect sessions -------------------------------------------------------------------------
    def mint_session(self, session: ConnectSession) -> str:
        return self._session.dumps(
            {
                "sid": session.id,
                "ten": session.tenant,
                "uid": session.end_user_id,
                "unm": session.end_user_name,
                "uem": session.end_user_email,
                "typ": list(session.source_types) if session.source_types is not None else None,
                "src": session.source_id,
                "act": list(session.actions),
                "exp": int(session.expires_at),
            }
        )

    def read_session(self, token: str) -> ConnectSession:
        try:
            p = self._session.loads(token, self._clock.time())
        except TokenError as error:
            if error.reason == "expired":
                raise BridgeError("session_expired", "the connect session has expired") from None
            raise BridgeError("unauthorized", "not a valid connect-session token") from None
        try:
            return ConnectSession(
                id=str(p["sid"]),
                tenant=p.get("ten"),
                end_user_id=str(p["uid"]),
                end_user_name=p.get("unm"),
                end_user_email=p.get("uem"),
                source_types=tuple(p["typ"]) if p.get("typ") is not None else None,
                source_id=p.get("src"),
                expires_at=float(p["exp"]),
                actions=tuple(str(a) for a in p["act"]) if "act" in p else DEFAULT_ACTIONS,
            )
        except (KeyError, TypeError):
            raise BridgeError("unauthorized", "not a valid connect-session token") from None

    # step tokens ------------------------------------------------------------------------------
    def mint_step(
        self, session: ConnectSession, source_id: int, step: str, ttl: int
    ) -> tuple[str, StepClaim]:
        # A step token may outlive its session: it belongs to the end user, and the session
        # renewed mid-flow (same end user) finishes the step with it.
        expires_at = self._clock.time() + ttl
        claim = StepClaim(
            id=new_id("st", 16),
            session_id=session.id,
            tenant=session.tenant,
            end_user_id=session.end_user_id,
            source_id=source_id,
            step=step,
            expires_at=expires_at,
        )
        token = self._step.dumps(
            {
                "jti": claim.id,
                "sid": claim.session_id,
                "ten": claim.tenant,
                "uid": claim.end_user_id,
                "src": claim.source_id,
                "stp": claim.step,
                "exp": int(claim.expires_at),
            }
        )
        return token, claim

    def read_step(self, token: object) -> StepClaim:
        try:
            p = self._step.loads(token, self._clock.time())
        except TokenError as error:
            if error.reason == "expired":
                raise BridgeError("token_expired", "this step token has expired") from None
            raise BridgeError("token_invalid", "not a valid step token") from None
        try:
            return StepClaim(
                id=str(p["jti"]),
                session_id=str(p["sid"]),
                tenant=p.get("ten"),
                end_user_id=str(p["uid"]),
                source_id=int(p["src"]),
                step=str(p["stp"]),
                expires_at=float(p["exp"]),
            )
        except (KeyError, TypeError, ValueError):
            raise BridgeError("token_invalid", "not a valid step token") from None

    # receipts ---------------------------------------------------------------------------------
    def mint_receipt(
        self, source_id: int, end_user_id: str, tenant: str | None, completed_at: float
    ) -> str:
        return self._receipt.dumps(
            {
                "rid": new_id("rc", 12),
                "src": source_id,
                "uid": end_user_id,
                "ten": tenant,
                "cat": completed_at,
                "exp": int(self._clock.time() + RECEIPT_TTL),
            }
        )

    def read_receipt(self, token: object) -> Receipt:
        try:
            p = self._receipt.loads(token, self._clock.time())
            return Receipt(
                id=str(p["rid"]),
                source_id=int(p["src"]),
                end_user_id=str(p["uid"]),
                tenant=p.get("ten"),
                completed_at=float(p["cat"]),
            )
        except (TokenError, KeyError, TypeError, ValueError):
            raise BridgeError("receipt_invalid", "this receipt is not valid") from None
