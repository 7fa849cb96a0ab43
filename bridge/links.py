"""Hosted connect links: a URL an end user opens on any device to connect a source, no SaaS page
needed. The first browser to open a link owns it (a cookie binds it) until the flow ends; anyone
else gets a page that says the link is in use, used or expired, and nothing more."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from sqlalchemy import select, update

from bridge.clock import iso, new_id
from bridge.errors import BridgeError
from bridge.services import Services
from bridge.sources import tenant_key
from bridge.store.link_tables import ConnectLink
from bridge.tokens import ConnectSession

DEFAULT_EXPIRES_IN = 604_800
MAX_EXPIRES_IN = 2_592_000
LINK_SESSION_TTL = 900


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class NewLink:
    id: str
    url: str
    expires_at: float


async def create_link(
    services: Services,
    *,
    end_user: dict[str, Any],
    tenant: str | None,
    source_types: list[str] | None,
    source_id: int | None,
    return_url: str | None,
    expires_in: int,
) -> NewLink:
    secret = secrets.token_urlsafe(32)
    now = services.clock.time()
    link = ConnectLink(
        id=new_id("cl", 12),
        secret_hash=digest(secret),
        tenant=tenant_key(tenant),
        end_user_id=end_user["id"],
        end_user_name=end_user.get("name"),
        end_user_email=end_user.get("email"),
        source_types=source_types,
        source_id=source_id,
        return_url=return_url,
        created_at=now,
        expires_at=now + expires_in,
        state="new",
    )
    async with services.db.begin() as session:
        session.add(link)
    return NewLink(link.id, f"{services.settings.public_url}/connect/{secret}", link.expires_at)


@dataclass(frozen=True)
class Visit:
    """What a browser opening a link gets: the flow (with a claim cookie to set) or a reason."""

    link: ConnectLink | None
    reason: str | None  # in_use | used | expired
    claim: str | None  # a new claim secret to set as a cookie


async def open_link(services: Services, secret: str, claim: str | None) -> Visit:
    now = services.clock.time()
    async with services.db() as session:
        link = (
            await session.execute(
                select(ConnectLink).where(ConnectLink.secret_hash == digest(secret))
            )
        ).scalar_one_or_none()
    if link is None or link.expires_at <= now:
        return Visit(None, "expired", None)
    if link.state == "used":
        return Visit(None, "used", None)
    if link.state == "in_use":
        if claim and link.claim_hash and secrets.compare_digest(digest(claim), link.claim_hash):
            return Visit(link, None, None)
        return Visit(None, "in_use", None)
    fresh = secrets.token_urlsafe(32)
    async with services.db.begin() as session:
        result = await session.execute(
            update(ConnectLink)
            .where(ConnectLink.id == link.id, ConnectLink.state == "new")
            .values(state="in_use", claim_hash=digest(fresh), claimed_at=now)
        )
    if getattr(result, "rowcount", 0) != 1:
        return Visit(None, "in_use", None)  # another browser claimed it a moment ago
    return Visit(link, None, fresh)


async def owned_link(services: Services, secret: str, claim: str | None) -> ConnectLink:
    """The link, for the browser that owns it and only while it may still be used."""
    visit = await open_link(services, secret, claim)
    if visit.link is None or visit.claim is not None:
        raise BridgeError("unauthorized", "this link is not open in this browser")
    return visit.link


def link_session(services: Services, link: ConnectLink) -> dict[str, Any]:
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
    return {"token": services.tokens.mint_session(cs), "expires_at": iso(expires_at)}


async def complete_link(services: Services, link: ConnectLink, receipt: object) -> str | None:
    """Mark the link used once its flow produced a valid receipt; where to send the browser."""
    claim = services.tokens.read_receipt(receipt)
    if claim.end_user_id != link.end_user_id or tenant_key(claim.tenant) != link.tenant:
        raise BridgeError("receipt_invalid", "this receipt is not for this link")
    async with services.db.begin() as session:
        await session.execute(
            update(ConnectLink)
            .where(ConnectLink.id == link.id, ConnectLink.state == "in_use")
            .values(
                state="used",
                completed_at=services.clock.time(),
                completed_source_id=claim.source_id,
            )
        )
    if not link.return_url:
        return None
    return with_query(link.return_url, {"stitch_bridge_receipt": str(receipt)})


def with_query(url: str, extra: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = f"{parts.query}&{urlencode(extra)}" if parts.query else urlencode(extra)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))
