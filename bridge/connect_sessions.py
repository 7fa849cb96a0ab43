"""The one connect-session builder: `POST /v1/connect-sessions` mints what it builds, and
`POST /v1/connect-links` stores its scope for the sessions the link's page asks for later.

Both routes parse their body into a `ConnectSessionRequest`; the rules live here once: a session
scoped to a source must name a live source of this end user of this tenant, and in partner mode
the tenant must have a usable Stitch account.
"""

from __future__ import annotations

from dataclasses import dataclass

from bridge.clock import new_id
from bridge.errors import BridgeError
from bridge.ownership import owns
from bridge.services import Services
from bridge.store.queries import get_source
from bridge.tenants import require_connected_tenant
from bridge.tokens import DEFAULT_ACTIONS, ConnectSession


@dataclass(frozen=True)
class EndUser:
    id: str
    name: str | None = None
    email: str | None = None


@dataclass(frozen=True)
class ConnectSessionRequest:
    """What the SaaS backend asked for, parsed and field-checked by the route."""

    end_user: EndUser
    tenant: str | None = None
    source_types: tuple[str, ...] | None = None
    source_id: int | None = None
    ttl: int | None = None  # seconds; None: BRIDGE_SESSION_TTL
    actions: tuple[str, ...] | None = None  # None: DEFAULT_ACTIONS


async def build_connect_session(
    services: Services, request: ConnectSessionRequest, *, tenant_connected: bool = True
) -> ConnectSession:
    """The session `request` stands for, once its scope is allowed.

    `tenant_connected=False` skips the partner-mode check that the tenant has a Stitch account:
    a hosted link may be made before its tenant is linked (its page asks again when opened).
    """
    user = request.end_user
    if request.source_id is not None:
        async with services.db() as session:
            row = await get_source(session, request.source_id)
        if not owns(user.id, request.tenant, row):
            raise BridgeError(
                "source_not_found", f"end user {user.id!r} has no source {request.source_id}"
            )
    if tenant_connected and services.settings.partner_mode:
        await require_connected_tenant(services, request.tenant)
    ttl = request.ttl or services.settings.session_ttl
    return ConnectSession(
        id=new_id("cs", 12),
        tenant=request.tenant,
        end_user_id=user.id,
        end_user_name=user.name,
        end_user_email=user.email,
        source_types=request.source_types,
        source_id=request.source_id,
        expires_at=services.clock.time() + ttl,
        actions=tuple(dict.fromkeys(request.actions))
        if request.actions is not None
        else DEFAULT_ACTIONS,
    )
