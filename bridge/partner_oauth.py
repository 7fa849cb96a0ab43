"""Partner OAuth (reference §2.4): link a tenant to the Stitch account its admin signs in to.

The SaaS backend asks for a link (`authorize-url`); the SaaS's admin page posts its ticket to the
bridge, which binds the admin's browser (bridge/oauth_binding.py) and sends it to Stitch's
consent page; Stitch's redirect back is exchanged for the account's token, stored encrypted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from bridge.errors import BridgeError
from bridge.oauth import STITCH_CALLBACK_PATH, CallbackResult, callback_url
from bridge.oauth_binding import BEGIN_PATH
from bridge.oauth_state import (
    STATE_TTL,
    OAuthFailure,
    begin_attempt,
    code_verifier,
    consume_attempt,
    finish_attempt,
    provider_error,
)
from bridge.services import Services
from bridge.stitch.errors import StitchError
from bridge.store.tenant_tables import OAuthAttempt
from bridge.tenants import get_tenant, link_tenant

log = logging.getLogger("bridge.oauth")


@dataclass(frozen=True)
class PartnerLink:
    """Where the SaaS's page sends its admin's browser (a form POST carrying `ticket`)."""

    url: str
    ticket: str
    expires_at: float


async def partner_authorize_url(
    services: Services, tenant_id: str, prefill: Mapping[str, str]
) -> PartnerLink:
    """Stitch's consent page for `tenant_id` (§2.4), with state and PKCE (S256), kept by the
    bridge until a browser binds itself to the attempt with the ticket."""
    settings = services.settings
    if not settings.stitch_partner_id:
        raise BridgeError("not_found", "tenants exist in partner mode only")
    await get_tenant(services, tenant_id)
    redirect_uri = callback_url(settings, STITCH_CALLBACK_PATH)
    client_id = settings.stitch_partner_id

    def consent(state: str, verifier: str) -> str:
        # Stitch documents no PKCE; sending it costs nothing and protects if it is ever enforced.
        url: str = prepare_grant_uri(
            settings.stitch_app_url.rstrip("/") + "/oauth/authorization",
            client_id=client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
            **dict(prefill),
        )
        return url

    ticket = await begin_attempt(
        services, kind="stitch", tenant=tenant_id, redirect_uri=redirect_uri, consent=consent
    )
    return PartnerLink(
        url=callback_url(settings, BEGIN_PATH),
        ticket=ticket,
        expires_at=services.clock.time() + STATE_TTL,
    )


async def finish_partner_oauth(
    services: Services, params: Mapping[str, str], cookies: Mapping[str, str]
) -> CallbackResult:
    """Stitch's redirect back: exchange the code, store the tenant's token encrypted."""
    try:
        attempt = await consume_attempt(services, params.get("state"), "stitch", cookies)
    except OAuthFailure as failure:
        return CallbackResult(ok=False, error=failure.reason, origin=None)
    result = await _finish_partner(services, attempt, params)
    await finish_attempt(services, attempt, result.error)
    return result


async def _finish_partner(
    services: Services, attempt: OAuthAttempt, params: Mapping[str, str]
) -> CallbackResult:
    settings = services.settings
    assert settings.stitch_partner_id and settings.stitch_partner_secret

    def failed(reason: str) -> CallbackResult:
        return CallbackResult(ok=False, error=reason, origin=None, tenant=attempt.tenant)

    error = provider_error(params)
    if error is not None:
        return failed(error)
    code = params.get("code")
    if not code:
        return failed("code_missing")
    try:
        token, account_id = await services.stitch.exchange_partner_code(
            partner_id=settings.stitch_partner_id,
            partner_secret=settings.stitch_partner_secret,
            code=code,
            redirect_uri=attempt.redirect_uri,
            code_verifier=code_verifier(services, attempt),
        )
    except StitchError as exc:
        log.warning(
            "partner OAuth code exchange failed",
            extra={"tenant": attempt.tenant, "error": type(exc).__name__, "status": exc.status},
        )
        return failed("exchange_failed")
    try:
        await link_tenant(services, attempt.tenant, token, account_id)
    except BridgeError as exc:
        log.warning(
            "partner OAuth link refused", extra={"tenant": attempt.tenant, "why": exc.message}
        )
        return failed("account_taken" if exc.code == "invalid_request" else exc.code)
    return CallbackResult(ok=True, error=None, origin=None, tenant=attempt.tenant)
