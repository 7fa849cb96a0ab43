"""Server-to-server routes: the SaaS backend, authenticated with a bridge API key (CONTRACT §4.1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.api.common import (
    MAX_ID,
    NO_STORE,
    Fields,
    json_object,
    json_response,
    path_int,
    require_api_key,
    services_of,
)
from bridge.clock import iso, new_id
from bridge.destinations import render_destination, show_destination
from bridge.errors import BridgeError
from bridge.flow import verify_receipt
from bridge.ownership import owns
from bridge.sources import delete_end_user_source, end_user_sources
from bridge.store.queries import get_source
from bridge.tenants import require_connected_tenant
from bridge.tokens import ACTIONS, DEFAULT_ACTIONS, ConnectSession


async def create_connect_session(request: Request) -> Response:
    require_api_key(request)
    services = services_of(request)
    fields = Fields(
        await json_object(request),
        ("end_user", "tenant", "source_types", "source_id", "ttl", "actions"),
    )
    end_user = fields.body.get("end_user")
    user_id = name = email = None
    if not isinstance(end_user, dict):
        fields.problems["end_user"] = "required: an object with an `id`"
    else:
        user = Fields(end_user, ("id", "name", "email"))
        user_id = user.text("id", required=True, max_length=MAX_ID)
        name = user.text("name", max_length=300)
        email = user.text("email", max_length=320)
        fields.problems.update({f"end_user.{k}": v for k, v in user.problems.items()})
    tenant = fields.text("tenant", max_length=MAX_ID)
    source_types = fields.string_list("source_types")
    source_id = fields.integer("source_id", minimum=1, maximum=2**63 - 1)
    ttl = fields.integer("ttl", minimum=1, maximum=86_400)
    actions = fields.string_list("actions", max_items=len(ACTIONS))
    if actions is not None and not set(actions) <= set(ACTIONS):
        fields.problems["actions"] = f"each action must be one of {', '.join(ACTIONS)}"
    if services.settings.partner_mode and tenant is None and "tenant" not in fields.problems:
        fields.problems["tenant"] = "required in partner mode"
    fields.check()
    assert user_id is not None
    if source_id is not None:
        # A session scoped to a source must name one this end user owns.
        async with services.db() as session:
            row = await get_source(session, source_id)
        if not owns(user_id, tenant, row):
            raise BridgeError("source_not_found", f"end user {user_id!r} has no source {source_id}")
    if services.settings.partner_mode:
        await require_connected_tenant(services, tenant)
    expires_at = services.clock.time() + (ttl or services.settings.session_ttl)
    cs = ConnectSession(
        id=new_id("cs", 12),
        tenant=tenant,
        end_user_id=user_id,
        end_user_name=name,
        end_user_email=email,
        source_types=tuple(source_types) if source_types is not None else None,
        source_id=source_id,
        expires_at=expires_at,
        actions=tuple(dict.fromkeys(actions)) if actions is not None else DEFAULT_ACTIONS,
    )
    services.metrics.sessions_minted.inc()
    return json_response(
        {"id": cs.id, "token": services.tokens.mint_session(cs), "expires_at": iso(expires_at)},
        status=201,
        headers=NO_STORE,
    )


def tenant_param(request: Request) -> str | None:
    tenant = request.query_params.get("tenant") or None
    if services_of(request).settings.partner_mode and tenant is None:
        raise BridgeError(
            "invalid_request",
            "`tenant` is required in partner mode",
            details={"tenant": "required"},
        )
    return tenant


async def list_end_user_sources(request: Request) -> Response:
    require_api_key(request)
    end_user_id = request.path_params["end_user_id"]
    data = await end_user_sources(services_of(request), tenant_param(request), end_user_id)
    return json_response({"data": data})


async def delete_source(request: Request) -> Response:
    require_api_key(request)
    await delete_end_user_source(
        services_of(request),
        tenant_param(request),
        request.path_params["end_user_id"],
        path_int(request, "source_id"),
    )
    return Response(status_code=204)


async def verify(request: Request) -> Response:
    require_api_key(request)
    fields = Fields(await json_object(request), ("receipt",))
    receipt = fields.text("receipt", required=True, max_length=4096)
    fields.check()
    return json_response(await verify_receipt(services_of(request), receipt), headers=NO_STORE)


async def shared_destination(request: Request) -> Response:
    require_api_key(request)
    services = services_of(request)
    if services.settings.partner_mode:
        raise BridgeError(
            "not_found", "in partner mode each tenant has its own: GET /v1/tenants/{id}"
        )
    destination = await show_destination(await services.account_for(None))
    return json_response({"destination": render_destination(destination)})


routes = [
    Route("/v1/connect-sessions", create_connect_session, methods=["POST"]),
    Route("/v1/end-users/{end_user_id}/sources", list_end_user_sources, methods=["GET"]),
    Route("/v1/end-users/{end_user_id}/sources/{source_id}", delete_source, methods=["DELETE"]),
    Route("/v1/receipts/verify", verify, methods=["POST"]),
    Route("/v1/destination", shared_destination, methods=["GET"]),
]
