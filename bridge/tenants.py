"""Tenants (partner mode): one Stitch client account per tenant of the SaaS."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bridge.errors import BridgeError

if TYPE_CHECKING:
    from bridge.services import Services


async def tenant_access_token(services: Services, tenant: str | None) -> str:
    """The (decrypted) Stitch access token of `tenant`; tenant_not_found when it has none."""
    raise BridgeError("tenant_not_found", f"tenant {tenant!r} is not connected to Stitch")
