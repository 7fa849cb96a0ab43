"""Queries on OAuth attempts (partner and white-label OAuth), one async function each; the caller
owns the transaction. Each write that must happen once is one conditional UPDATE."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.tables import SourceRow
from bridge.store.tenant_tables import OAuthAttempt


async def get_attempt(session: AsyncSession, attempt_id: str) -> OAuthAttempt | None:
    return await session.get(OAuthAttempt, attempt_id)


async def add_attempt(session: AsyncSession, attempt: OAuthAttempt, *, purge_before: float) -> None:
    """Record a new attempt, and forget the ones that ended before `purge_before`."""
    await session.execute(delete(OAuthAttempt).where(OAuthAttempt.expires_at < purge_before))
    session.add(attempt)


async def use_attempt(session: AsyncSession, attempt_id: str, now: float) -> bool:
    """Use an attempt up, once; False when it was used already (a replayed callback)."""
    result = await session.execute(
        update(OAuthAttempt)
        .where(OAuthAttempt.id == attempt_id, OAuthAttempt.used_at.is_(None))
        .values(used_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def finish_attempt(session: AsyncSession, attempt_id: str, error: str | None) -> None:
    await session.execute(
        update(OAuthAttempt)
        .where(OAuthAttempt.id == attempt_id)
        .values(outcome="failed" if error else "completed", error=error)
    )


async def bind_attempt(session: AsyncSession, attempt_id: str, browser_hash: str) -> bool:
    """Bind an unused attempt to one browser, once; False when it was bound (or used) already."""
    result = await session.execute(
        update(OAuthAttempt)
        .where(
            OAuthAttempt.id == attempt_id,
            OAuthAttempt.browser_hash.is_(None),
            OAuthAttempt.used_at.is_(None),
        )
        .values(browser_hash=browser_hash)
    )
    return getattr(result, "rowcount", 0) == 1


async def mark_attempt_completed(session: AsyncSession, attempt_id: str) -> None:
    await session.execute(
        update(OAuthAttempt)
        .where(OAuthAttempt.id == attempt_id)
        .values(outcome="completed", error=None)
    )


async def step_outcomes(session: AsyncSession, step_token_id: str) -> Sequence[str]:
    """The outcomes of the provider OAuth attempts one step token started."""
    outcomes = await session.execute(
        select(OAuthAttempt.outcome).where(
            OAuthAttempt.step_token_id == step_token_id, OAuthAttempt.kind == "provider"
        )
    )
    return outcomes.scalars().all()


async def source_for_update(session: AsyncSession, source_id: int) -> SourceRow | None:
    """The source, locked until the transaction ends (where the database can lock rows), so a
    completed consent and a poll do not write over each other."""
    return await session.get(SourceRow, source_id, with_for_update=True)
