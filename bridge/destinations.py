"""A Stitch account's destination: where its sources' data goes (CONTRACT §4.1, reference §5.7).

A tenant account the bridge created has none, and only the bridge holds its token, so the SaaS
gives it one through the bridge. The properties are the warehouse's credentials: they travel to
Stitch in one request body and nowhere else, never into the database, a log line or an answer.

Stitch never changes a destination's type (§5.7), and most plans allow one destination per
account. A PUT of another type is refused here instead of deleting the working destination and
creating the new one: a delete pauses replication until a new destination connects, so a typo
in `type` would stop the tenant's data, and a refused create would leave it with none at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bridge.errors import BridgeError
from bridge.stitch.client import StitchAccount
from bridge.stitch.models import Destination

if TYPE_CHECKING:
    from bridge.services import Services
    from bridge.tenants import Tenant


@dataclass(frozen=True)
class DestinationRequest:
    """What the SaaS asked for; `properties` stays out of the repr so a traceback cannot show it."""

    type: str
    properties: dict[str, Any] = field(repr=False)
    name: str | None = None


def account_destination(destinations: list[Destination]) -> Destination | None:
    """The account's destination; the oldest when its plan allows several (§5.7)."""
    return min(destinations, key=lambda d: d.id, default=None)


async def show_destination(account: StitchAccount) -> Destination | None:
    return account_destination(await account.list_destinations())


async def put_destination(account: StitchAccount, wanted: DestinationRequest) -> Destination:
    """Create the account's destination, or update the one it has (same type only)."""
    existing = await show_destination(account)
    if existing is None:
        return await account.create_destination(
            type=wanted.type, properties=wanted.properties, name=wanted.name
        )
    if existing.type != wanted.type:
        raise BridgeError(
            "bad_properties",
            f"this account's destination is of type {existing.type!r}; Stitch does not change "
            f"a destination's type, so it stays as it is (to move to {wanted.type!r}, delete "
            "it in Stitch first; replication pauses until the new one is connected)",
            details={"type": f"must be {existing.type!r}, the type of the existing destination"},
        )
    return await account.update_destination(
        existing.id, properties=wanted.properties, name=wanted.name
    )


async def tenant_destination(services: Services, tenant: Tenant) -> Destination | None:
    """A tenant's destination; None while it has no Stitch account to hold one."""
    if tenant.status != "connected":
        return None
    return await show_destination(await services.account_for(tenant.id))
