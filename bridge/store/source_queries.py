"""Queries on the sources table that write or lock (the caller owns the transaction), and the
widget poll's read, which needs none."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bridge.store.loop_reads import first_row
from bridge.store.tables import SourceRow

_SOURCES = SourceRow.__table__
_NEW_ROW = SourceRow._sa_class_manager.new_instance  # type: ignore[attr-defined]
# Built once: the statement's compiled form is cached by SQLAlchemy under the same key.
_SOURCE_BY_ID = select(_SOURCES).where(_SOURCES.c.id == bindparam("source_id"))


async def read_source(engine: AsyncEngine, source_id: int) -> SourceRow | None:
    """The source's row as committed now: one Core statement without an ORM session, on SQLite
    in the event loop (`loop_reads`), else on a pooled connection (the widget poll's read,
    several a second per end user waiting). The row returned belongs to no session: for
    reading; writes go through `lock_source`."""
    found = await first_row(engine, _SOURCE_BY_ID, {"source_id": source_id})
    if found is None:
        return None
    # As the ORM builds a row it loads (a new instance, its state filled in), not through the
    # constructor's attribute events: a fifteenth of the cost, and this row is only read.
    row: SourceRow = _NEW_ROW()
    row.__dict__.update(found)
    return row


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
