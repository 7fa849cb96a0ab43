"""Server-to-server routes: the SaaS backend, authenticated with a bridge API key (CONTRACT §4.1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.api.common import (
    NO_STORE,
    Fields,
    json_object,
    json_response,
    path_int,
    require_api_key,
    services_of,
)
from bridge.api.connect_fields import SCOPE_FIELDS, read_scope, require_tenant
from bridge.api.renderers import render_destination
from bridge.clock import iso
from bridge.connect_sessions import build_connect_session
from bridge.destinations import show_destination
from bridge.errors import BridgeError
from bridge.flow import verify_receipt
from bridge.sources import delete_end_user_source, end_user_sources, render_source
from bridge.tokens import ACTIONS


async def create_connect_session(request: Request) -> Response:
    require_api_key(request)
    services = services_of(request)
    fields = Fields(await json_object(request), (*SCOPE_FIELDS, "ttl", "actions"))
    scope = read_scope(fields)
    ttl = fields.integer("ttl", minimum=1, maximum=86_400)
    actions = fields.string_list("actions", max_items=len(ACTIONS))
    if actions is not None and not set(actions) <= set(ACTIONS):
        fields.problems["actions"] = f"each action must be one of {', '.join(ACTIONS)}"
    require_tenant(fields, services.settings, scope)
    fields.check()
    cs = await build_connect_session(services, scope.request(ttl=ttl, actions=actions))
    token = services.tokens.mint_session(cs)
    services.metrics.sessions_minted.inc()
    return json_response(
        {"id": cs.id, "token": token, "expires_at": iso(cs.expires_at)},
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
    rows = await end_user_sources(services_of(request), tenant_param(request), end_user_id)
    return json_response({"data": [render_source(row) for row in rows]})


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
    verified = await verify_receipt(services_of(request), receipt)
    row = verified.source
    body = {
        "valid": True,
        "source": render_source(row),
        "end_user_id": row.end_user_id,
        "tenant": row.tenant or None,
        "completed_at": iso(verified.completed_at),
    }
    return json_response(body, headers=NO_STORE)


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
