"""Each OAuth attempt completes only in the browser that started it (RFC 9700 §4.7.1).

Starting an attempt yields a ticket, not a consent URL. A browser becomes the attempt's own by
presenting the ticket in a POST the bridge can tell comes from the page that started the step:
its `Origin` is that page's (a top-level form POST in redirect mode or from the SaaS's admin
page), or it is the bridge's own popup page, which takes the ticket by `postMessage` and names
the opener's origin as the browser reported it. The answer sets a short-lived HttpOnly cookie
on the bridge's origin and only then reveals the consent URL; the callback requires the cookie.
A URL alone (the consent URL, or any bridge URL) binds nobody: browsers set `Origin` themselves.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from bridge.crypto import SecretUnreadable
from bridge.errors import BridgeError
from bridge.services import Services
from bridge.settings import Settings
from bridge.store.oauth_queries import bind_attempt, get_attempt
from bridge.store.tenant_tables import OAuthAttempt
from bridge.tenants import secret_box
from bridge.tokens import OAUTH_BIND_SALT, Purpose, TokenError
from bridge.urls import origin_of

BEGIN_PATH = "/v1/oauth/begin"  # where a browser presents its ticket
POPUP_PATH = "/oauth/begin"  # the bridge's popup page that takes the ticket from its opener
COOKIE_PATH = "/v1/oauth/"  # both callbacks, and nothing else, see the cookie
COOKIE_PREFIX = "stitch_bridge_oauth_"


@dataclass(frozen=True)
class Binding:
    """What the bind answer sets in the browser, and where it sends the browser next."""

    cookie_name: str
    cookie_value: str
    max_age: int
    secure: bool
    consent_url: str


def _tickets(settings: Settings) -> Purpose:
    return Purpose(settings.secret_keys, OAUTH_BIND_SALT)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def cookie_name(attempt_id: str) -> str:
    # One cookie per attempt: two flows in two tabs of one browser do not undo each other.
    return COOKIE_PREFIX + attempt_id


def mint_ticket(settings: Settings, attempt: OAuthAttempt) -> str:
    return _tickets(settings).dumps({"aid": attempt.id, "exp": int(attempt.expires_at)})


def bound_here(attempt: OAuthAttempt, cookies: Mapping[str, str]) -> bool:
    """Whether the browser presenting `cookies` is the one bound to `attempt`."""
    presented = cookies.get(cookie_name(attempt.id))
    if not attempt.browser_hash or not presented or len(presented) > 200:
        return False
    return hmac.compare_digest(_hash(presented), attempt.browser_hash)


def requesting_origin(
    settings: Settings, origin: str | None, opener_origin: str | None
) -> str | None:
    """The page a bind request speaks for: its `Origin`, or, from the bridge's own popup page,
    the origin of the window that opened it (which that page read from the message event)."""
    own = origin_of(settings.public_url)
    if origin is None or origin == "null":
        return None
    if origin.rstrip("/") == own:
        return opener_origin.rstrip("/") if opener_origin else None
    return origin.rstrip("/")


def _origin_fits(settings: Settings, attempt: OAuthAttempt, origin: str | None) -> bool:
    if origin is None:
        return False
    if attempt.kind == "provider":
        # The page that started the step, as recorded by `steps/start`.
        return attempt.origin is not None and origin == attempt.origin.rstrip("/")
    # Partner OAuth is started server to server: any page of the SaaS may carry it on.
    return origin in {o.rstrip("/") for o in settings.allowed_origins}


async def bind_browser(services: Services, ticket: object, origin: str | None) -> Binding:
    """Bind the browser asking now to the attempt `ticket` names, once; `origin` is the page
    it speaks for (see `requesting_origin`)."""
    settings = services.settings
    now = services.clock.time()
    try:
        payload = _tickets(settings).loads(ticket, now)
    except TokenError as error:
        raise BridgeError(f"token_{error.reason}", "this sign-in ticket is not valid") from None
    async with services.db() as session:
        attempt = await get_attempt(session, str(payload.get("aid")))
    if attempt is None or attempt.consent_url is None:
        raise BridgeError("token_invalid", "this sign-in ticket is not valid")
    if not _origin_fits(settings, attempt, origin):
        raise BridgeError("origin_not_allowed", "this page may not start that sign-in")
    if attempt.expires_at <= now:
        raise BridgeError("token_expired", "this sign-in took too long; start again")
    secret = secrets.token_urlsafe(32)
    async with services.db.begin() as session:
        bound = await bind_attempt(session, attempt.id, _hash(secret))
    if not bound:
        # Bound once: a ticket that reaches a second page (or a second click) binds nothing.
        raise BridgeError("token_used", "this sign-in was already started")
    try:
        consent_url = secret_box(settings).decrypt(attempt.consent_url)
    except SecretUnreadable:
        raise BridgeError("token_invalid", "this sign-in ticket is not valid") from None
    return Binding(
        cookie_name=cookie_name(attempt.id),
        cookie_value=secret,
        max_age=max(1, int(attempt.expires_at - now)),
        secure=settings.public_url.startswith("https://"),
        consent_url=consent_url,
    )
