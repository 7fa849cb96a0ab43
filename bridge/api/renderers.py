"""How the API shows the typed results of tenants and destinations (CONTRACT §4.1)."""

from __future__ import annotations

from typing import Any

from bridge.stitch.models import Destination
from bridge.tenants import Tenant


def render_tenant(tenant: Tenant) -> dict[str, Any]:
    """Never its token."""
    return {"id": tenant.id, "stitch_account_id": tenant.stitch_account_id, "status": tenant.status}


def render_destination(destination: Destination | None) -> dict[str, Any] | None:
    """The contract's view: identity and times, never a property (credential or not)."""
    if destination is None:
        return None
    return {
        "id": destination.id,
        "type": destination.type,
        "name": destination.name,
        "created_at": destination.created_at,
        "updated_at": destination.updated_at,
    }
