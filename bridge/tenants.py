"""Tenants (partner mode): one Stitch client account per tenant of the SaaS.

A tenant's Stitch access token is stored encrypted (bridge.crypto) and decrypted only to sign an
upstream call for that tenant. Creation writes a `pending` row before Stitch is asked, so two
concurrent creations of one id cannot both make an account; a retry after a lost answer takes
the row over once its lease has run out, and Stitch's own one-account-per-email rule keeps that
retry from making a second account.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.crypto import SecretBox, SecretUnreadable
from bridge.errors import BridgeError
from bridge.stitch import errors as stitch_errors
from bridge.store.tenant_tables import OAuthAttempt, TenantRow

if TYPE_CHECKING:
    from bridge.services import Services
    from bridge.settings import Settings

log = logging.getLogger("bridge.tenants")

LEASE_SECONDS = 60.0
REGIONS = ("us-east-1", "eu-central-1")


@dataclass(frozen=True)
class Owner:
    """Who the new Stitch client account belongs to (§2.3)."""

    email: str
    first_name: str
    last_name: str
    company: str
    region: str = "us-east-1"


@dataclass(frozen=True)
class Rotation:
    rotated: int
    current: int
    unreadable: tuple[str, ...]  # ids of rows no configured key opens


def secret_box(settings: Settings) -> SecretBox:
    return SecretBox(settings.secret_keys)


def render_tenant(row: TenantRow) -> dict[str, Any]:
    return {"id": row.id, "stitch_account_id": row.stitch_account_id, "status": row.status}


def _not_found(tenant: str | None) -> BridgeError:
    return BridgeError("tenant_not_found", f"tenant {tenant!r} is not connected to Stitch")


async def tenant_access_token(services: Services, tenant: str | None) -> str:
    """The (decrypted) Stitch access token of `tenant`; tenant_not_found when it has none."""
    if not tenant:
        raise _not_found(tenant)
    async with services.db() as session:
        row = await session.get(TenantRow, tenant)
    if row is None or row.status != "connected" or not row.access_token:
        raise _not_found(tenant)
    try:
        return secret_box(services.settings).decrypt(row.access_token)
    except SecretUnreadable:
        log.error("a tenant's Stitch token cannot be decrypted", extra={"tenant": tenant})
        raise BridgeError(
            "upstream_unavailable",
            "the bridge cannot read this tenant's Stitch credentials "
            "(was its key removed from BRIDGE_SECRET_KEYS?)",
        ) from None


async def require_connected_tenant(services: Services, tenant: str | None) -> None:
    """tenant_not_found unless `tenant` exists and has a usable Stitch account."""
    await tenant_access_token(services, tenant)


async def get_tenant(services: Services, tenant_id: str) -> TenantRow:
    async with services.db() as session:
        row = await session.get(TenantRow, tenant_id)
    if row is None:
        raise BridgeError("tenant_not_found", f"no tenant {tenant_id!r}")
    return row


async def _claim(services: Services, tenant_id: str) -> None:
    """Write the pending row, or take over one whose creator's lease ran out; else 409."""
    now = services.clock.time()
    try:
        async with services.db.begin() as session:
            session.add(
                TenantRow(
                    id=tenant_id,
                    status="pending",
                    lease_until=now + LEASE_SECONDS,
                    created_at=now,
                    updated_at=now,
                )
            )
        return
    except IntegrityError:
        pass
    async with services.db.begin() as session:
        taken = await session.execute(
            update(TenantRow)
            .where(
                TenantRow.id == tenant_id,
                TenantRow.status == "pending",
                TenantRow.lease_until <= now,
            )
            .values(lease_until=now + LEASE_SECONDS, updated_at=now)
        )
    if getattr(taken, "rowcount", 0) != 1:
        raise BridgeError("tenant_exists", f"tenant {tenant_id!r} exists already")


async def _set(services: Services, tenant_id: str, **values: Any) -> None:
    async with services.db.begin() as session:
        await session.execute(
            update(TenantRow)
            .where(TenantRow.id == tenant_id, TenantRow.status == "pending")
            .values(updated_at=services.clock.time(), **values)
        )


async def _forget(services: Services, tenant_id: str) -> None:
    async with services.db.begin() as session:
        row = await session.get(TenantRow, tenant_id)
        if row is not None and row.status == "pending":
            await session.delete(row)


async def create_tenant(services: Services, tenant_id: str, owner: Owner | None) -> TenantRow:
    """A new tenant with a new Stitch client account (POST /v3/accounts), or, without an
    owner, an `unlinked` tenant waiting to link an existing account by partner OAuth."""
    settings = services.settings
    if not (settings.stitch_partner_id and settings.stitch_partner_secret):
        raise BridgeError("not_found", "tenants exist in partner mode only")
    await _claim(services, tenant_id)
    if owner is None:
        await _set(services, tenant_id, status="unlinked", lease_until=None)
        return await get_tenant(services, tenant_id)
    try:
        token, account_id = await services.stitch.create_account(
            partner_id=settings.stitch_partner_id,
            partner_secret=settings.stitch_partner_secret,
            first_name=owner.first_name,
            last_name=owner.last_name,
            company=owner.company,
            email=owner.email,
            region=owner.region,
        )
    except stitch_errors.StitchBadRequest as error:
        if error.stitch_code == "ExistingUser":
            # This email has a Stitch account (perhaps made by an earlier attempt whose answer
            # was lost): keep the tenant so that account can be linked, never make another.
            await _set(services, tenant_id, status="unlinked", lease_until=None)
            raise BridgeError(
                "invalid_request",
                "this email already belongs to a Stitch user; link that account with "
                f"POST /v1/tenants/{tenant_id}/authorize-url",
                details={"email": "already has a Stitch account", "tenant_status": "unlinked"},
            ) from None
        await _forget(services, tenant_id)
        raise
    except (
        stitch_errors.StitchTransportError,
        stitch_errors.StitchUnavailable,
        stitch_errors.StitchRateLimited,
    ):
        # Stitch may or may not have made the account: a retry may reconcile at once.
        await _set(services, tenant_id, lease_until=services.clock.time())
        raise
    except stitch_errors.StitchError:
        await _forget(services, tenant_id)
        raise
    encrypted = secret_box(settings).encrypt(token)
    async with services.db.begin() as session:
        stored = await session.execute(
            update(TenantRow)
            .where(TenantRow.id == tenant_id, TenantRow.status == "pending")
            .values(
                status="connected",
                stitch_account_id=account_id,
                access_token=encrypted,
                lease_until=None,
                updated_at=services.clock.time(),
            )
        )
    if getattr(stored, "rowcount", 0) != 1:
        log.warning(
            "tenant was linked while its account was being created; the new account is unused",
            extra={"tenant": tenant_id, "stitch_account_id": account_id},
        )
    return await get_tenant(services, tenant_id)


async def link_tenant(
    services: Services, tenant_id: str, access_token: str, account_id: int
) -> TenantRow:
    """Store the token partner OAuth obtained for `tenant_id` (encrypted)."""
    now = services.clock.time()
    encrypted = secret_box(services.settings).encrypt(access_token)
    try:
        async with services.db.begin() as session:
            row = await session.get(TenantRow, tenant_id)
            if row is None:
                raise BridgeError("tenant_not_found", f"no tenant {tenant_id!r}")
            if row.stitch_account_id not in (None, account_id):
                raise BridgeError(
                    "invalid_request", "this tenant is linked to another Stitch account"
                )
            other = await session.execute(
                select(TenantRow.id).where(
                    TenantRow.stitch_account_id == account_id, TenantRow.id != tenant_id
                )
            )
            if other.first() is not None:
                raise BridgeError(
                    "invalid_request", "that Stitch account belongs to another tenant"
                )
            row.status = "connected"
            row.stitch_account_id = account_id
            row.access_token = encrypted
            row.lease_until = None
            row.updated_at = now
    except IntegrityError:
        # The unique index caught a concurrent link of the same account to another tenant.
        raise BridgeError(
            "invalid_request", "that Stitch account belongs to another tenant"
        ) from None
    return await get_tenant(services, tenant_id)


async def rotate_keys(db: async_sessionmaker[AsyncSession], box: SecretBox) -> Rotation:
    """Re-encrypt every stored secret with the newest key (after adding one in front)."""
    rotated = current = 0
    unreadable: list[str] = []
    async with db.begin() as session:
        tenants = (
            await session.execute(select(TenantRow).where(TenantRow.access_token.is_not(None)))
        ).scalars()
        attempts = (
            await session.execute(select(OAuthAttempt).where(OAuthAttempt.used_at.is_(None)))
        ).scalars()
        rows: list[tuple[str, Any, str]] = [
            *((t.id, t, "access_token") for t in tenants),
            *((a.id, a, "code_verifier") for a in attempts),
        ]
        for row_id, row, column in rows:
            value = getattr(row, column)
            if box.is_current(value):
                current += 1
                continue
            try:
                setattr(row, column, box.rotate(value))
            except SecretUnreadable:
                unreadable.append(row_id)
                continue
            rotated += 1
    return Rotation(rotated=rotated, current=current, unreadable=tuple(unreadable))
