"""Queries on tenants and their OAuth attempts, one async function each; the caller owns the
transaction. Writes that race are conditional, and a unique index that catches a race becomes a
plain answer here (False, or an outcome), never an exception the domain has to know."""

from __future__ import annotations

import enum
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.store.tenant_tables import OAuthAttempt, TenantRow


async def get_tenant_row(session: AsyncSession, tenant_id: str) -> TenantRow | None:
    return await session.get(TenantRow, tenant_id)


async def insert_pending(
    session: AsyncSession, tenant_id: str, *, now: float, lease: float
) -> bool:
    """Write a `pending` tenant; False when the id is taken (the row stays as it was)."""
    try:
        async with session.begin_nested():
            session.add(
                TenantRow(
                    id=tenant_id,
                    status="pending",
                    lease_until=now + lease,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        return False
    return True


async def take_over_pending(
    session: AsyncSession, tenant_id: str, *, now: float, lease: float
) -> bool:
    """Renew the lease of a `pending` tenant whose creator's lease ran out; False otherwise."""
    result = await session.execute(
        update(TenantRow)
        .where(
            TenantRow.id == tenant_id,
            TenantRow.status == "pending",
            TenantRow.lease_until <= now,
        )
        .values(lease_until=now + lease, updated_at=now)
    )
    return getattr(result, "rowcount", 0) == 1


async def update_pending(
    session: AsyncSession, tenant_id: str, *, now: float, **values: Any
) -> bool:
    """Change a tenant only while it is `pending`; False when it no longer is."""
    result = await session.execute(
        update(TenantRow)
        .where(TenantRow.id == tenant_id, TenantRow.status == "pending")
        .values(updated_at=now, **values)
    )
    return getattr(result, "rowcount", 0) == 1


async def delete_pending(session: AsyncSession, tenant_id: str) -> None:
    await session.execute(
        delete(TenantRow).where(TenantRow.id == tenant_id, TenantRow.status == "pending")
    )


class LinkOutcome(enum.Enum):
    LINKED = "linked"
    NO_TENANT = "no_tenant"
    TENANT_ON_OTHER_ACCOUNT = "tenant_on_other_account"
    ACCOUNT_TAKEN = "account_taken"  # the Stitch account belongs to another tenant


async def link_account(
    session: AsyncSession, tenant_id: str, *, account_id: int, access_token: str, now: float
) -> LinkOutcome:
    """Connect the tenant to `account_id` with its (encrypted) token, unless the tenant has
    another account or the account another tenant; the unique index settles a race."""
    row = await session.get(TenantRow, tenant_id)
    if row is None:
        return LinkOutcome.NO_TENANT
    if row.stitch_account_id not in (None, account_id):
        return LinkOutcome.TENANT_ON_OTHER_ACCOUNT
    other = await session.execute(
        select(TenantRow.id).where(
            TenantRow.stitch_account_id == account_id, TenantRow.id != tenant_id
        )
    )
    if other.first() is not None:
        return LinkOutcome.ACCOUNT_TAKEN
    try:
        async with session.begin_nested():
            row.status = "connected"
            row.stitch_account_id = account_id
            row.access_token = access_token
            row.lease_until = None
            row.updated_at = now
    except IntegrityError:
        return LinkOutcome.ACCOUNT_TAKEN
    return LinkOutcome.LINKED


async def stored_secrets(session: AsyncSession) -> list[tuple[str, Any, str]]:
    """Every row holding an encrypted secret still in use: (row id, row, column)."""
    tenants = (
        await session.execute(select(TenantRow).where(TenantRow.access_token.is_not(None)))
    ).scalars()
    attempts = (
        await session.execute(select(OAuthAttempt).where(OAuthAttempt.used_at.is_(None)))
    ).scalars()
    return [
        *((t.id, t, "access_token") for t in tenants),
        *((a.id, a, "code_verifier") for a in attempts),
    ]
