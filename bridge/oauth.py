"""OAuth the bridge runs itself, on authlib's client side.

- Partner OAuth (§2.4) links a tenant to an existing Stitch account (bridge/partner_oauth.py).
- White-label OAuth (native driver): the end user consents on the provider's own page to the
  SaaS's OAuth app, with the bridge's callback on the SaaS's domain; the bridge exchanges the
  code and writes the OAuth properties to the Stitch source (§9.3 `oauth` (b)). The refresh
  token goes from the provider to Stitch and nowhere else.

Each redirect is an attempt row; its `state` is a signed payload naming the attempt, its kind
and its tenant, accepted once and until it expires; PKCE (S256) binds the code to the attempt,
and a cookie binds the attempt to the browser that started it (bridge/oauth_binding.py).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from bridge.errors import BridgeError
from bridge.oauth_apps import OAuthApp
from bridge.oauth_binding import POPUP_PATH
from bridge.oauth_state import (
    OAuthFailure,
    begin_attempt,
    code_verifier,
    consume_attempt,
    finish_attempt,
    provider_error,
)
from bridge.ownership import owns, tenant_key
from bridge.services import Services
from bridge.settings import Settings
from bridge.sources import observe, record_event
from bridge.steps import StepPlan
from bridge.stitch.errors import StitchError
from bridge.stitch.models import Source
from bridge.store.oauth_queries import (
    mark_attempt_completed,
    source_for_update,
    step_outcomes,
)
from bridge.store.queries import get_source
from bridge.store.tables import SourceRow
from bridge.store.tenant_tables import OAuthAttempt
from bridge.tokens import ConnectSession, StepClaim

with warnings.catch_warnings():
    # authlib deprecates its plain-httpx fallback in favour of `httpx2`, which this project does
    # not install; the client is the same either way.
    warnings.simplefilter("ignore", DeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client, OAuthError

log = logging.getLogger("bridge.oauth")

STITCH_CALLBACK_PATH = "/v1/oauth/stitch/callback"
PROVIDER_CALLBACK_PATH = "/v1/oauth/provider/callback"
MESSAGE_TYPE = "stitch-bridge:oauth"


@dataclass(frozen=True)
class CallbackResult:
    """What a callback page shows and (provider OAuth) reports to the window that opened it."""

    ok: bool
    error: str | None
    origin: str | None  # where to post the outcome; None: post nothing
    source_id: int | None = None
    tenant: str | None = None
    return_url: str | None = None  # redirect mode: send the browser back here instead
    end_user_id: str | None = None


def callback_url(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + path


def white_label_app(settings: Settings, source_type: str) -> OAuthApp | None:
    """The SaaS's own OAuth app for this type, when the native driver runs OAuth itself."""
    if settings.driver != "native":
        return None
    return next((app for app in settings.oauth_apps if app.source_type == source_type), None)


def message_origin(settings: Settings, origin: str | None) -> str | None:
    """The exact origin the callback page may post to: the SaaS page that started OAuth."""
    own = httpx.URL(settings.public_url)
    port = f":{own.port}" if own.port else ""
    allowed = (*settings.allowed_origins, f"{own.scheme}://{own.host}{port}")
    if origin is not None:
        return origin if origin.rstrip("/") in allowed else None
    # Not told (a caller without an Origin header): unambiguous only with one SaaS origin.
    return settings.allowed_origins[0] if len(settings.allowed_origins) == 1 else None


# -- white-label OAuth of a source -------------------------------------------------------------


@dataclass(frozen=True)
class ProviderConsent:
    """Where the native driver's OAuth step sends the widget: the bridge's popup page, and
    the single-use ticket that binds one browser to the attempt."""

    oauth_url: str
    oauth_ticket: str


async def begin_provider_oauth(
    services: Services,
    cs: ConnectSession,
    claim: StepClaim,
    row: SourceRow,
    origin: str | None,
    return_url: str | None = None,
) -> ProviderConsent | None:
    """The native driver's OAuth step, or None when no white-label app serves the type."""
    settings = services.settings
    app = white_label_app(settings, row.type)
    if app is None:
        return None
    redirect_uri = callback_url(settings, PROVIDER_CALLBACK_PATH)

    def consent(state: str, verifier: str) -> str:
        url: str = prepare_grant_uri(
            app.authorize_url,
            client_id=app.client_id,
            response_type="code",
            redirect_uri=redirect_uri,
            scope=list(app.scopes) or None,
            state=state,
            code_challenge=create_s256_code_challenge(verifier),
            code_challenge_method="S256",
        )
        return url

    opener = message_origin(settings, origin)
    ticket = await begin_attempt(
        services,
        kind="provider",
        tenant=tenant_key(cs.tenant),
        redirect_uri=redirect_uri,
        consent=consent,
        session_id=cs.id,
        end_user_id=cs.end_user_id,
        source_id=row.id,
        source_type=row.type,
        step_token_id=claim.id,
        origin=opener,
        reauth=row.connected_at is not None,
        return_url=return_url,
    )
    # The popup page takes the ticket from the widget by postMessage; in redirect mode the
    # widget posts it to BEGIN_PATH itself. Either way only that browser reaches the provider.
    # The page says "ready" to this origin only (never to any origin); a window opened from
    # elsewhere simply never hears it, and binding checks the origin again anyway.
    popup = callback_url(settings, POPUP_PATH)
    return ProviderConsent(
        oauth_url=popup + (f"?{urlencode({'opener': opener})}" if opener else ""),
        oauth_ticket=ticket,
    )


async def finish_provider_oauth(
    services: Services,
    params: Mapping[str, str],
    cookies: Mapping[str, str],
    *,
    transport: httpx.AsyncBaseTransport | None = None,
) -> CallbackResult:
    """The provider's redirect back: code → tokens → OAuth properties on the Stitch source."""
    try:
        attempt = await consume_attempt(services, params.get("state"), "provider", cookies)
        await _complete_provider(services, attempt, params, transport)
    except OAuthFailure as failure:
        if failure.attempt is None:
            return CallbackResult(ok=False, error=failure.reason, origin=None)
        await finish_attempt(services, failure.attempt, failure.reason)
        return CallbackResult(
            ok=False,
            error=failure.reason,
            origin=failure.attempt.origin,
            source_id=failure.attempt.source_id,
            tenant=failure.attempt.tenant,
            return_url=failure.attempt.return_url,
            end_user_id=failure.attempt.end_user_id,
        )
    return CallbackResult(
        ok=True,
        error=None,
        origin=attempt.origin,
        source_id=attempt.source_id,
        tenant=attempt.tenant,
        return_url=attempt.return_url,
        end_user_id=attempt.end_user_id,
    )


async def _complete_provider(
    services: Services,
    attempt: OAuthAttempt,
    params: Mapping[str, str],
    transport: httpx.AsyncBaseTransport | None,
) -> None:
    error = provider_error(params)
    if error is not None:
        raise OAuthFailure(error, attempt)
    code = params.get("code")
    if not code:
        raise OAuthFailure("code_missing", attempt)
    app = white_label_app(services.settings, attempt.source_type or "")
    if app is None or attempt.source_id is None:
        raise OAuthFailure("not_configured", attempt)
    async with services.db() as session:
        row = await get_source(session, attempt.source_id)
    if row is None or not owns(attempt.end_user_id or "", attempt.tenant, row):
        raise OAuthFailure("source_not_found", attempt)
    grant = await _exchange(app, attempt, code, code_verifier(services, attempt), transport)
    try:
        account = await services.account_for(attempt.tenant or None)
        upstream = await account.get_source(row.id)
        properties = oauth_properties(upstream, app, attempt.redirect_uri, grant)
        if properties is None:
            raise OAuthFailure("incomplete_grant", attempt)
        upstream = await account.update_source(row.id, properties=properties)
    except (StitchError, BridgeError) as exc:
        log.warning(
            "writing OAuth properties to Stitch failed",
            extra={"source_id": row.id, "error": type(exc).__name__},
        )
        raise OAuthFailure("upstream_error", attempt) from None
    async with services.db.begin() as session:
        current = await source_for_update(session, row.id)
        if current is not None:
            if attempt.reauth:
                current.needs_reauth = False  # before observe(), which derives the status
            await observe(services, session, current, upstream)
            if attempt.reauth:
                current.updated_at = services.clock.time()
                await record_event(services, session, "source.reauth_completed", current)
        await mark_attempt_completed(session, attempt.id)


async def _exchange(
    app: OAuthApp,
    attempt: OAuthAttempt,
    code: str,
    verifier: str,
    transport: httpx.AsyncBaseTransport | None,
) -> dict[str, Any]:
    client = AsyncOAuth2Client(
        client_id=app.client_id,
        client_secret=app.client_secret,
        token_endpoint_auth_method=app.token_auth_method,
        redirect_uri=attempt.redirect_uri,
        transport=transport,
        timeout=httpx.Timeout(10.0, connect=5.0),
        follow_redirects=False,
    )
    try:
        async with client:
            token = await client.fetch_token(
                app.token_url,
                grant_type="authorization_code",
                code=code,
                code_verifier=verifier,
                redirect_uri=attempt.redirect_uri,
            )
    except OAuthError as exc:
        # The provider's error code only: its description may quote the request.
        log.warning(
            "provider refused the code exchange",
            extra={"source_type": app.source_type, "provider_error": exc.error},
        )
        raise OAuthFailure("exchange_failed", attempt) from None
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        log.warning(
            "provider code exchange failed",
            extra={"source_type": app.source_type, "error": type(exc).__name__},
        )
        raise OAuthFailure("exchange_failed", attempt) from None
    if not isinstance(token, Mapping) or not isinstance(token.get("access_token"), str):
        raise OAuthFailure("exchange_failed", attempt)
    return dict(token)


def oauth_properties(
    upstream: Source, app: OAuthApp, redirect_uri: str, grant: Mapping[str, Any]
) -> dict[str, str] | None:
    """The properties of the type's `oauth` step, from the app and the grant; None when the
    grant lacks one that is required (say, no refresh token)."""
    available = {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": redirect_uri,
        "refresh_token": grant.get("refresh_token"),
        "access_token": grant.get("access_token"),
    }
    steps = [s for s in upstream.report_card.steps if s.type == "oauth"]
    wanted = steps[0].properties if steps else ()
    properties: dict[str, str] = {}
    for prop in wanted:
        name = prop.get("name")
        value = available.get(name) if isinstance(name, str) else None
        if isinstance(value, str) and value:
            properties[str(name)] = value
        elif prop.get("is_required"):
            return None
    return properties or None


# -- re-authorization of a connected source ----------------------------------------------------


def reauth_plan(
    settings: Settings, cs: ConnectSession, row: SourceRow, upstream: Source
) -> StepPlan | None:
    """A session scoped to a connected source re-runs its OAuth (white-label apps only: only
    then does the bridge see the consent happen and can say the re-authorization is done)."""
    if (
        cs.source_id != row.id
        or upstream.deleted_at is not None
        or upstream.report_card.current_step_type != "fully_configured"
        or "oauth" not in upstream.report_card.step_types
        or white_label_app(settings, row.type) is None
    ):
        return None
    return StepPlan(type="oauth", js={"function": "authorizeSource", "options": {"id": row.id}})


async def reauth_result(
    services: Services, cs: ConnectSession, claim: StepClaim, upstream: Source
) -> bool | None:
    """For the OAuth step of a re-authorization, whether its consent completed; else None."""
    if (
        claim.step != "oauth"
        or cs.source_id != claim.source_id
        or upstream.report_card.current_step_type != "fully_configured"
    ):
        return None
    async with services.db() as session:
        return "completed" in await step_outcomes(session, claim.id)
