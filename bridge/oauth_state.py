"""OAuth attempts: each redirect the bridge starts is a row, its `state` a signed reference to it.

The state names the attempt, its kind and its tenant (itsdangerous, own salt); the row makes it
single use, decides its expiry and keeps the PKCE code verifier and the consent URL, encrypted.
A callback completes an attempt only in the browser bound to it (bridge/oauth_binding.py).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Mapping
from typing import Any

from bridge.clock import new_id
from bridge.crypto import SecretUnreadable
from bridge.oauth_binding import bound_here, mint_ticket
from bridge.services import Services
from bridge.store import oauth_queries as q
from bridge.store.tenant_tables import OAuthAttempt
from bridge.tenants import secret_box
from bridge.tokens import OAuthState, TokenError

STATE_TTL = 600  # seconds from redirect to callback, consent screen included
RETENTION = 86_400  # finished attempts are kept a day: `steps/complete` reads their outcome
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


class OAuthFailure(Exception):
    """A callback that cannot complete; `reason` is a stable code shown to the browser."""

    def __init__(self, reason: str, attempt: OAuthAttempt | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.attempt = attempt


def tenant_tag(tenant: str) -> str:
    """The tenant as the state carries it: bound, but not readable by the provider."""
    return hashlib.sha256(tenant.encode("utf-8")).hexdigest()[:24]


async def begin_attempt(
    services: Services,
    *,
    kind: str,
    tenant: str,
    redirect_uri: str,
    consent: Callable[[str, str], str],
    **fields: Any,
) -> str:
    """Record an attempt whose consent URL `consent(state, code_verifier)` builds; returns the
    ticket that binds a browser to it (the consent URL itself never leaves the bridge before)."""
    now = services.clock.time()
    verifier = secrets.token_urlsafe(48)  # 64 characters of RFC 7636's unreserved set
    attempt_id = new_id("oa", 16)
    # The row decides expiry; the signed bound is later, so an expired attempt is still
    # recognised as ours and its window is told.
    state = services.tokens.oauth_state.dumps(
        OAuthState(attempt_id, kind, tenant_tag(tenant), expires_at=now + STATE_TTL + RETENTION)
    )
    box = secret_box(services.settings)
    attempt = OAuthAttempt(
        id=attempt_id,
        kind=kind,
        tenant=tenant,
        redirect_uri=redirect_uri,
        code_verifier=box.encrypt(verifier),
        consent_url=box.encrypt(consent(state, verifier)),
        created_at=now,
        expires_at=now + STATE_TTL,
        outcome="pending",
        **fields,
    )
    async with services.db.begin() as session:
        await q.add_attempt(session, attempt, purge_before=now - RETENTION)
    return mint_ticket(services.settings, attempt)


async def consume_attempt(
    services: Services, state: object, kind: str, cookies: Mapping[str, str]
) -> OAuthAttempt:
    """The attempt `state` names, used up now; OAuthFailure when it is not fit to continue.

    A browser other than the one bound to the attempt is refused before anything is used up:
    the attempt stays usable by its own browser, and nobody is told (RFC 9700 §4.7.1)."""
    now = services.clock.time()
    try:
        claim = services.tokens.oauth_state.loads(state)
    except TokenError as error:
        raise OAuthFailure(f"state_{error.reason}") from None
    async with services.db.begin() as session:
        attempt = await q.get_attempt(session, claim.attempt_id)
        # The signature covers the tenant; the row must agree, so no state crosses tenants.
        if (
            attempt is None
            or attempt.kind != kind
            or claim.kind != kind
            or claim.tenant_tag != tenant_tag(attempt.tenant)
        ):
            raise OAuthFailure("state_invalid")
        if not bound_here(attempt, cookies):
            raise OAuthFailure("browser_mismatch")
        used = await q.use_attempt(session, attempt.id, now)
    if not used:
        raise OAuthFailure("state_used")  # a replay: nothing is reported to anyone
    if attempt.expires_at <= now:
        await finish_attempt(services, attempt, "state_expired")
        raise OAuthFailure("state_expired", attempt)
    return attempt


async def finish_attempt(services: Services, attempt: OAuthAttempt, error: str | None) -> None:
    async with services.db.begin() as session:
        await q.finish_attempt(session, attempt.id, error)


def provider_error(params: Mapping[str, str]) -> str | None:
    error = params.get("error")
    if error is None:
        return None
    return error if _ERROR_CODE.match(error) else "provider_error"


def code_verifier(services: Services, attempt: OAuthAttempt) -> str:
    try:
        return secret_box(services.settings).decrypt(attempt.code_verifier)
    except SecretUnreadable:
        raise OAuthFailure("state_invalid", attempt) from None
