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

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.crypto import SecretBox, SecretUnreadable
from bridge.errors import BridgeError
from bridge.stitch import errors as stitch_errors
from bridge.store.tenant_queries import (
    LinkOutcome,
    delete_pending,
    get_tenant_row,
    insert_pending,
    link_account,
    stored_secrets,
    take_over_pending,
    update_pending,
)
from bridge.store.tenant_tables import TenantRow

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


@dataclass(frozen=True)
class Tenant:
    """A tenant as the API shows it: never its token."""

    id: str
    stitch_account_id: int | None
    status: str  # pending | connected | unlinked


def _not_found(tenant: str | None) -> BridgeError:
    return BridgeError("tenant_not_found", f"tenant {tenant!r} is not connected to Stitch")


async def _row(services: Services, tenant_id: str) -> TenantRow | None:
    async with services.db() as session:
        return await get_tenant_row(session, tenant_id)


async def tenant_access_token(services: Services, tenant: str | None) -> str:
    """The (decrypted) Stitch access token of `tenant`; tenant_not_found when it has none."""
    if not tenant:
        raise _not_found(tenant)
    row = await _row(services, tenant)
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


async def get_tenant(services: Services, tenant_id: str) -> Tenant:
    row = await _row(services, tenant_id)
    if row is None:
        raise BridgeError("tenant_not_found", f"no tenant {tenant_id!r}")
    return Tenant(row.id, row.stitch_account_id, row.status)


async def _claim(services: Services, tenant_id: str) -> None:
    """Write the pending row, or take over one whose creator's lease ran out; else 409."""
    now = services.clock.time()
    async with services.db.begin() as session:
        if await insert_pending(session, tenant_id, now=now, lease=LEASE_SECONDS):
            return
    async with services.db.begin() as session:
        taken = await take_over_pending(session, tenant_id, now=now, lease=LEASE_SECONDS)
    if not taken:
        raise BridgeError("tenant_exists", f"tenant {tenant_id!r} exists already")


async def _set(services: Services, tenant_id: str, **values: Any) -> bool:
    async with services.db.begin() as session:
        return await update_pending(session, tenant_id, now=services.clock.time(), **values)


async def _forget(services: Services, tenant_id: str) -> None:
    async with services.db.begin() as session:
        await delete_pending(session, tenant_id)


async def create_tenant(services: Services, tenant_id: str, owner: Owner | None) -> Tenant:
    """A new tenant with a new Stitch client account (POST /v3/accounts), or, without an
    owner, an `unlinked` tenant waiting to link an existing account by partner OAuth."""
    settings = services.settings
    if not (settings.stitch_partner_id and settings.stitch_partner_secret):
        raise BridgeError("not_found", "tenants exist in partner mode only")
    await _claim(services, tenant_id)
    if owner is None:
        await _set(services, tenant_id, status="unlinked", lease_until=None)
        return await get_tenant(services, tenant_id)
    token, account_id = await _create_account(services, tenant_id, owner)
    stored = await _set(
        services,
        tenant_id,
        status="connected",
        stitch_account_id=account_id,
        access_token=secret_box(settings).encrypt(token),
        lease_until=None,
    )
    if not stored:
        log.warning(
            "tenant was linked while its account was being created; the new account is unused",
            extra={"tenant": tenant_id, "stitch_account_id": account_id},
        )
    return await get_tenant(services, tenant_id)


async def _create_account(services: Services, tenant_id: str, owner: Owner) -> tuple[str, int]:
    """Ask Stitch for the account of the claimed (pending) tenant; on failure leave the row as
    a retry needs it: unlinked, released for a retry, or gone."""
    settings = services.settings
    assert settings.stitch_partner_id and settings.stitch_partner_secret
    try:
        return await services.stitch.create_account(
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


_LINK_REFUSED = {
    LinkOutcome.TENANT_ON_OTHER_ACCOUNT: "this tenant is linked to another Stitch account",
    LinkOutcome.ACCOUNT_TAKEN: "that Stitch account belongs to another tenant",
}


async def link_tenant(
    services: Services, tenant_id: str, access_token: str, account_id: int
) -> Tenant:
    """Store the token partner OAuth obtained for `tenant_id` (encrypted)."""
    encrypted = secret_box(services.settings).encrypt(access_token)
    async with services.db.begin() as session:
        outcome = await link_account(
            session,
            tenant_id,
            account_id=account_id,
            access_token=encrypted,
            now=services.clock.time(),
        )
    if outcome is LinkOutcome.NO_TENANT:
        raise BridgeError("tenant_not_found", f"no tenant {tenant_id!r}")
    if outcome is not LinkOutcome.LINKED:
        raise BridgeError("invalid_request", _LINK_REFUSED[outcome])
    return await get_tenant(services, tenant_id)


async def rotate_keys(db: async_sessionmaker[AsyncSession], box: SecretBox) -> Rotation:
    """Re-encrypt every stored secret with the newest key (after adding one in front)."""
    rotated = current = 0
    unreadable: list[str] = []
    async with db.begin() as session:
        for row_id, row, column in await stored_secrets(session):
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
