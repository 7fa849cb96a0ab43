"""Queries on hosted links' claims, one async function each; the caller owns the transaction.
Each write is one conditional UPDATE, so of browsers racing for a link exactly one matches."""

from __future__ import annotations

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.link_tables import ConnectLink


async def add_link(session: AsyncSession, link: ConnectLink) -> None:
    session.add(link)


async def mark_used(session: AsyncSession, link_id: str, *, now: float, source_id: int) -> None:
    """The link's flow completed; only a claimed link (`in_use`) becomes used."""
    await session.execute(
        update(ConnectLink)
        .where(ConnectLink.id == link_id, ConnectLink.state == "in_use")
        .values(state="used", completed_at=now, completed_source_id=source_id)
    )


async def find_link(session: AsyncSession, secret_hash: str) -> ConnectLink | None:
    query = select(ConnectLink).where(ConnectLink.secret_hash == secret_hash)
    return (await session.execute(query)).scalar_one_or_none()


async def take_over_claim(
    session: AsyncSession, link_id: str, claim_hash: str, *, now: float, idle_before: float
) -> bool:
    """Give the link to a new claim if it is open and unclaimed, or its claim saw no activity
    since `idle_before`; False when another claim is (now) fresh, or the link is done."""
    result = await session.execute(
        update(ConnectLink)
        .where(
            ConnectLink.id == link_id,
            ConnectLink.state != "used",
            ConnectLink.expires_at > now,
            or_(
                ConnectLink.claim_hash.is_(None),
                func.coalesce(ConnectLink.active_at, ConnectLink.claimed_at) <= idle_before,
            ),
        )
        .values(state="in_use", claim_hash=claim_hash, claimed_at=now, active_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def touch_claim(session: AsyncSession, link_id: str, claim_hash: str, *, now: float) -> bool:
    """Record activity of the claim `claim_hash`; False when the link is no longer its (another
    browser took over a lapsed claim a moment ago) or no longer open."""
    result = await session.execute(
        update(ConnectLink)
        .where(
            ConnectLink.id == link_id,
            ConnectLink.state != "used",
            ConnectLink.expires_at > now,
            ConnectLink.claim_hash == claim_hash,
        )
        .values(active_at=now)
    )
    return getattr(result, "rowcount", 0) == 1
