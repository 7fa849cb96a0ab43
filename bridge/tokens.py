"""Signed tokens: one codec (salt, payload type, lifetime) per purpose, key rotation, explicit expiry.

Each token is an itsdangerous URL-safe signed payload. Expiry is part of the payload (`exp`, read
against the injected clock) so that every token can carry its own lifetime. Keys come newest first
from BRIDGE_SECRET_KEYS; itsdangerous signs with the last key of its list and verifies with all.

Like itsdangerous, this module raises its own exceptions (`TokenInvalid`, `TokenExpired`, both
`TokenError`s naming the purpose); the API turns them into contract codes in one table
(bridge/errors.py `TOKEN_ERRORS`), so nothing here knows about HTTP.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from itsdangerous import BadData, Signer, URLSafeSerializer
from itsdangerous.encoding import base64_decode, base64_encode, want_bytes
from itsdangerous.serializer import Serializer

from bridge.clock import Clock, new_id

SESSION_SALT = "stitch-bridge.connect-session.v1"
STEP_SALT = "stitch-bridge.step.v1"
RECEIPT_SALT = "stitch-bridge.receipt.v1"
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
class OAuthState:
    """What an OAuth redirect's `state` names: the attempt, its kind, its tenant's tag."""

    attempt_id: str
    kind: str
    tenant_tag: str
    expires_at: float


@dataclass(frozen=True)
class Receipt:
    id: str
    source_id: int
    end_user_id: str
    tenant: str | None
    completed_at: float


class TokenError(Exception):
    """A token that cannot be used; `purpose` names its codec ("" for a bare `Purpose`)."""

    reason = "invalid"

    def __init__(self, purpose: str = "") -> None:
        super().__init__(f"{purpose or 'token'} {self.reason}")
        self.purpose = purpose


class TokenInvalid(TokenError):
    """Not ours, altered, of another purpose, or not the payload its purpose carries."""


class TokenExpired(TokenError):
    """Ours and intact, but past its `exp`."""

    reason = "expired"


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
            raise TokenInvalid()
        if not _canonical(token):
            raise TokenInvalid()
        try:
            payload = self._serializer.loads(token)
        except (BadData, UnicodeDecodeError, ValueError):
            raise TokenInvalid() from None
        if not isinstance(payload, dict) or not isinstance(payload.get("exp"), int | float):
            raise TokenInvalid()
        if payload["exp"] <= now:
            raise TokenExpired()
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


P = TypeVar("P")


def _session_payload(s: ConnectSession) -> dict[str, Any]:
    return {
        "sid": s.id,
        "ten": s.tenant,
        "uid": s.end_user_id,
        "unm": s.end_user_name,
        "uem": s.end_user_email,
        "typ": list(s.source_types) if s.source_types is not None else None,
        "src": s.source_id,
        "act": list(s.actions),
    }


def _session_from(p: dict[str, Any]) -> ConnectSession:
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


def _step_payload(c: StepClaim) -> dict[str, Any]:
    return {
        "jti": c.id,
        "sid": c.session_id,
        "ten": c.tenant,
        "uid": c.end_user_id,
        "src": c.source_id,
        "stp": c.step,
    }


def _step_from(p: dict[str, Any]) -> StepClaim:
    return StepClaim(
        id=str(p["jti"]),
        session_id=str(p["sid"]),
        tenant=p.get("ten"),
        end_user_id=str(p["uid"]),
        source_id=int(p["src"]),
        step=str(p["stp"]),
        expires_at=float(p["exp"]),
    )


def _receipt_payload(r: Receipt) -> dict[str, Any]:
    return {
        "rid": r.id,
        "src": r.source_id,
        "uid": r.end_user_id,
        "ten": r.tenant,
        "cat": r.completed_at,
    }


def _receipt_from(p: dict[str, Any]) -> Receipt:
    return Receipt(
        id=str(p["rid"]),
        source_id=int(p["src"]),
        end_user_id=str(p["uid"]),
        tenant=p.get("ten"),
        completed_at=float(p["cat"]),
    )


def _state_payload(s: OAuthState) -> dict[str, Any]:
    return {"aid": s.attempt_id, "knd": s.kind, "ten": s.tenant_tag}


def _state_from(p: dict[str, Any]) -> OAuthState:
    aid, kind, tag = p["aid"], p["knd"], p["ten"]
    if not all(isinstance(value, str) for value in (aid, kind, tag)):
        raise ValueError("not an OAuth state")
    return OAuthState(attempt_id=aid, kind=kind, tenant_tag=tag, expires_at=float(p["exp"]))


def _own_expiry(value: ConnectSession | StepClaim | OAuthState, now: float) -> float:
    return value.expires_at


def _receipt_expiry(value: Receipt, now: float) -> float:
    return now + RECEIPT_TTL


@dataclass(frozen=True)
class Format(Generic[P]):
    """One purpose's tokens: its salt, how a `P` becomes a payload and back, and when a token
    stops verifying (`expiry(value, now)`: the value's own end, or now plus a maximum age)."""

    purpose: str
    salt: str
    encode: Callable[[P], dict[str, Any]]
    decode: Callable[[dict[str, Any]], P]
    expiry: Callable[[P, float], float]


class Codec(Generic[P]):
    """Mints and reads the tokens of one `Format`. A payload that decodes to no `P` is as
    invalid as a forged one; every failure names the purpose."""

    def __init__(self, secret_keys: tuple[str, ...], clock: Clock, spec: Format[P]) -> None:
        self.purpose = spec.purpose
        self._signed = Purpose(secret_keys, spec.salt)
        self._clock = clock
        self._format = spec

    def dumps(self, value: P) -> str:
        payload = self._format.encode(value)
        payload["exp"] = int(self._format.expiry(value, self._clock.time()))
        return self._signed.dumps(payload)

    def loads(self, token: object) -> P:
        try:
            payload = self._signed.loads(token, self._clock.time())
        except TokenError as error:
            raise type(error)(self.purpose) from None
        try:
            return self._format.decode(payload)
        except (KeyError, TypeError, ValueError):
            raise TokenInvalid(self.purpose) from None


SESSION = Format("session", SESSION_SALT, _session_payload, _session_from, _own_expiry)
STEP = Format("step", STEP_SALT, _step_payload, _step_from, _own_expiry)
RECEIPT = Format("receipt", RECEIPT_SALT, _receipt_payload, _receipt_from, _receipt_expiry)
OAUTH_STATE = Format("oauth_state", OAUTH_STATE_SALT, _state_payload, _state_from, _own_expiry)


class Tokens:
    """The bridge's token kinds, one codec each. Never reuse one kind for another job."""

    def __init__(self, secret_keys: tuple[str, ...], clock: Clock) -> None:
        self._clock = clock
        self.session = Codec(secret_keys, clock, SESSION)
        self.step = Codec(secret_keys, clock, STEP)
        self.receipt = Codec(secret_keys, clock, RECEIPT)
        self.oauth_state = Codec(secret_keys, clock, OAUTH_STATE)

    def mint_session(self, session: ConnectSession) -> str:
        return self.session.dumps(session)

    def read_session(self, token: object) -> ConnectSession:
        return self.session.loads(token)

    def mint_step(
        self, session: ConnectSession, source_id: int, step: str, ttl: int
    ) -> tuple[str, StepClaim]:
        # A step token may outlive its session: it belongs to the end user, and the session
        # renewed mid-flow (same end user) finishes the step with it.
        claim = StepClaim(
            id=new_id("st", 16),
            session_id=session.id,
            tenant=session.tenant,
            end_user_id=session.end_user_id,
            source_id=source_id,
            step=step,
            expires_at=self._clock.time() + ttl,
        )
        return self.step.dumps(claim), claim

    def read_step(self, token: object) -> StepClaim:
        return self.step.loads(token)

    def mint_receipt(
        self, source_id: int, end_user_id: str, tenant: str | None, completed_at: float
    ) -> str:
        return self.receipt.dumps(
            Receipt(new_id("rc", 12), source_id, end_user_id, tenant, completed_at)
        )

    def read_receipt(self, token: object) -> Receipt:
        return self.receipt.loads(token)
