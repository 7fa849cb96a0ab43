"""Queries of redirect-mode resume points (bridge.resume); the caller owns the transaction."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.link_tables import ResumePoint


async def add_resume_point(session: AsyncSession, point: ResumePoint) -> None:
    session.add(point)
    await session.flush()


async def get_resume_point(session: AsyncSession, id_hash: str) -> ResumePoint | None:
    return await session.get(ResumePoint, id_hash)


async def use_resume_point(session: AsyncSession, id_hash: str, now: float) -> bool:
    """Mark the point used; False when it already was (by this or another replica)."""
    result = await session.execute(
        update(ResumePoint)
        .where(ResumePoint.id_hash == id_hash, ResumePoint.used_at.is_(None))
        .values(used_at=now)
    )
    return getattr(result, "rowcount", 0) == 1
