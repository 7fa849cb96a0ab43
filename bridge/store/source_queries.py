"""Queries on the sources table that write or lock; the caller owns the transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.tables import SourceRow


async def lock_source(session: AsyncSession, source_id: int) -> SourceRow | None:
    """The source's row, as committed now, locked until the transaction ends."""
    return await session.get(SourceRow, source_id, with_for_update=True, populate_existing=True)


async def add_source(session: AsyncSession, row: SourceRow) -> None:
    session.add(row)
    await session.flush()


async def live_sources(session: AsyncSession) -> Sequence[SourceRow]:
    """Every source not deleted, of every tenant."""
    rows = await session.execute(select(SourceRow).where(SourceRow.deleted_at.is_(None)))
    return rows.scalars().all()
