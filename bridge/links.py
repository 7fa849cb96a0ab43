"""Hosted connect links: a URL an end user opens on any device to connect a source, no SaaS page
needed. Opening (GET/HEAD) only shows it; the page's script in a real browser claims it (a cookie
binds it) and keeps it while active; anyone else meanwhile gets a page that says the link is in
use, used or expired, and nothing more."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from bridge.clock import new_id
from bridge.errors import BridgeError
from bridge.ownership import is_owner, tenant_key
from bridge.services import Services
from bridge.store.link_queries import (
    add_link,
    find_link,
    mark_used,
    take_over_claim,
    touch_claim,
)
from bridge.store.link_tables import ConnectLink
from bridge.tokens import ConnectSession

DEFAULT_EXPIRES_IN = 604_800
MAX_EXPIRES_IN = 2_592_000
LINK_SESSION_TTL = 900
# A claim with no activity for this long lapses: another browser may take the link over.
CLAIM_IDLE = 1800


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewLink:
    id: str
    url: str
    expires_at: float


async def create_link(
    services: Services, cs: ConnectSession, *, return_url: str | None, expires_in: int
) -> NewLink:
    """A link for the scope of `cs` (from `build_connect_session`): each session its page asks
    for later has that scope."""
    secret = secrets.token_urlsafe(32)
    now = services.clock.time()
    link = ConnectLink(
        id=new_id("cl", 12),
        secret_hash=digest(secret),
        tenant=tenant_key(cs.tenant),
        end_user_id=cs.end_user_id,
        end_user_name=cs.end_user_name,
        end_user_email=cs.end_user_email,
        source_types=list(cs.source_types) if cs.source_types is not None else None,
        source_id=cs.source_id,
        return_url=return_url,
        created_at=now,
        expires_at=now + expires_in,
        state="new",
    )
    async with services.db.begin() as session:
        await add_link(session, link)
    return NewLink(link.id, f"{services.settings.public_url}/connect/{secret}", link.expires_at)


@dataclass(frozen=True)
class Visit:
    """What a browser opening a link sees: the flow page (`link`) or why not (`reason`)."""

    link: ConnectLink | None
    reason: str | None  # in_use | used | expired


@dataclass(frozen=True)
class Claim:
    link: ConnectLink
    cookie: str | None  # a new claim secret to set as a cookie; None when the browser had it


def _holds(link: ConnectLink, claim: str | None) -> bool:
    return bool(
        claim and link.claim_hash and secrets.compare_digest(digest(claim), link.claim_hash)
    )


def _claim_active(link: ConnectLink, now: float) -> bool:
    last = link.active_at if link.active_at is not None else link.claimed_at
    return link.claim_hash is not None and last is not None and last > now - CLAIM_IDLE


async def _find(services: Services, secret: str) -> ConnectLink | None:
    async with services.db() as session:
        return await find_link(session, digest(secret))


def _visit(link: ConnectLink | None, claim: str | None, now: float) -> Visit:
    if link is None or link.expires_at <= now:
        return Visit(None, "expired")
    if link.state == "used":
        return Visit(None, "used")
    if _claim_active(link, now) and not _holds(link, claim):
        return Visit(None, "in_use")
    return Visit(link, None)


async def open_link(services: Services, secret: str, claim: str | None) -> Visit:
    """What a GET or HEAD of the link shows. Reads only: mail scanners and chat previews fetch
    links before people do, so merely fetching must never claim one."""
    return _visit(await _find(services, secret), claim, services.clock.time())


async def claim_link(services: Services, secret: str, claim: str | None) -> Claim:
    """The page's own script, in a real browser, takes the link (or keeps it: the owner's
    browser refreshes its activity). A claim idle for CLAIM_IDLE lapses, so the person can
    carry on elsewhere. Of browsers claiming at once, the conditional UPDATE lets exactly one
    win: the others find the claim already fresh and match no row."""
    now = services.clock.time()
    link = await _find(services, secret)
    visit = _visit(link, claim, now)
    if visit.link is None:
        raise BridgeError("unauthorized", "this link cannot be opened in this browser")
    if _holds(visit.link, claim) and await _touch(services, visit.link, claim, now):
        return Claim(visit.link, None)
    fresh = secrets.token_urlsafe(32)
    async with services.db.begin() as session:
        won = await take_over_claim(
            session, visit.link.id, digest(fresh), now=now, idle_before=now - CLAIM_IDLE
        )
    if not won:
        raise BridgeError("unauthorized", "this link was just opened in another browser")
    return Claim(visit.link, fresh)


async def _touch(services: Services, link: ConnectLink, claim: str | None, now: float) -> bool:
    async with services.db.begin() as session:
        return await touch_claim(session, link.id, digest(claim or ""), now=now)


async def owned_link(services: Services, secret: str, claim: str | None) -> ConnectLink:
    """The link, for the browser that holds its claim and only while it may still be used;
    each such use counts as activity that keeps the claim."""
    now = services.clock.time()
    link = await _find(services, secret)
    if (
        link is None
        or _visit(link, claim, now).link is None
        or not _holds(link, claim)
        or not await _touch(services, link, claim, now)
    ):
        raise BridgeError("unauthorized", "this link is not open in this browser")
    return link


@dataclass(frozen=True)
class LinkSession:
    token: str
    expires_at: float


def link_session(services: Services, link: ConnectLink) -> LinkSession:
    """A connect session for the link's end user, renewable as long as the link is open."""
    expires_at = min(services.clock.time() + LINK_SESSION_TTL, link.expires_at)
    cs = ConnectSession(
        id=new_id("cs", 12),
        tenant=link.tenant or None,
        end_user_id=link.end_user_id,
        end_user_name=link.end_user_name,
        end_user_email=link.end_user_email,
        source_types=tuple(link.source_types) if link.source_types is not None else None,
        source_id=link.source_id,
        expires_at=expires_at,
    )
    return LinkSession(services.tokens.mint_session(cs), expires_at)


async def complete_link(services: Services, link: ConnectLink, receipt: object) -> str | None:
    """Mark the link used once its flow produced a valid receipt; where to send the browser."""
    claim = services.tokens.read_receipt(receipt)
    if not is_owner(claim.end_user_id, claim.tenant, link):  # a link is never deleted, only used
        raise BridgeError("receipt_invalid", "this receipt is not for this link")
    async with services.db.begin() as session:
        await mark_used(session, link.id, now=services.clock.time(), source_id=claim.source_id)
    if not link.return_url:
        return None
    return with_query(link.return_url, {"stitch_bridge_receipt": str(receipt)})


def with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
