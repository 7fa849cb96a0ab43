"""Tenant routes (partner mode), for the SaaS backend with its API key (CONTRACT §4.1)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.api.common import (
    MAX_ID,
    MAX_STRING,
    Fields,
    json_object,
    json_response,
    require_api_key,
    services_of,
)
from bridge.api.renderers import render_destination, render_tenant
from bridge.clock import iso
from bridge.destinations import (
    DestinationRequest,
    put_destination,
    tenant_destination,
)
from bridge.errors import BridgeError
from bridge.partner_oauth import partner_authorize_url
from bridge.tenants import REGIONS, Owner, create_tenant, get_tenant

OWNER_FIELDS = ("email", "first_name", "last_name", "company")


def _partner_mode(request: Request) -> None:
    require_api_key(request)
    if not services_of(request).settings.partner_mode:
        raise BridgeError("not_found", "tenants exist in partner mode only")


def _tenant_id(request: Request) -> str:
    tenant_id = str(request.path_params["tenant_id"])
    if not 0 < len(tenant_id) <= MAX_ID or not tenant_id.isprintable():
        raise BridgeError("tenant_not_found", "no such tenant")
    return tenant_id


def _email(fields: Fields, *, required: bool) -> str | None:
    email = fields.text("email", required=required, max_length=320)
    if email is not None and ("@" not in email or any(c.isspace() for c in email)):
        fields.problems["email"] = "must be an email address"
        return None
    return email


async def post_tenant(request: Request) -> Response:
    _partner_mode(request)
    fields = Fields(await json_object(request), ("id", *OWNER_FIELDS, "region", "link"))
    tenant_id = fields.text("id", required=True, max_length=MAX_ID)
    if tenant_id is not None and not tenant_id.isprintable():
        fields.problems["id"] = "must be printable text"
    link = fields.body.get("link", False)
    if not isinstance(link, bool):
        fields.problems["link"] = "must be true or false"
    # `link: true` makes the tenant without an account, to link an existing one by OAuth.
    required = link is not True
    email = _email(fields, required=required)
    names = {
        name: fields.text(name, required=required, max_length=200) for name in OWNER_FIELDS[1:]
    }
    region = fields.text("region", max_length=20) or "us-east-1"
    if region not in REGIONS:
        fields.problems["region"] = f"must be one of {', '.join(REGIONS)}"
    fields.check()
    assert tenant_id is not None
    owner = None
    if required:
        assert email is not None
        owner = Owner(
            email=email,
            first_name=names["first_name"] or "",
            last_name=names["last_name"] or "",
            company=names["company"] or "",
            region=region,
        )
    tenant = await create_tenant(services_of(request), tenant_id, owner)
    return json_response(render_tenant(tenant), status=201)


async def show_tenant(request: Request) -> Response:
    _partner_mode(request)
    services = services_of(request)
    tenant = await get_tenant(services, _tenant_id(request))
    destination = await tenant_destination(services, tenant)
    return json_response({**render_tenant(tenant), "destination": render_destination(destination)})


def destination_request(body: dict[str, Any]) -> DestinationRequest:
    """The body of a destination PUT, every problem named; no message repeats a value."""
    fields = Fields(body, ("type", "name", "properties"))
    kind = fields.text("type", required=True, max_length=100)
    name = fields.text("name", max_length=200)
    properties = body.get("properties")
    if not isinstance(properties, dict) or not properties or len(properties) > 200:
        fields.problems["properties"] = "required: an object of 1 to 200 properties"
    else:
        for key, value in properties.items():
            # Booleans too: Stitch's own example sends `"ssl": false` (reference §5.7).
            if len(key) > MAX_ID or not isinstance(value, str | int | float | bool):
                fields.problems[f"properties.{key[:50]}"] = "must be a string, number or boolean"
            elif isinstance(value, str) and len(value) > MAX_STRING:
                fields.problems[f"properties.{key[:50]}"] = "too long"
    fields.check()
    assert kind is not None and isinstance(properties, dict)
    return DestinationRequest(type=kind, properties=properties, name=name)


async def put_tenant_destination(request: Request) -> Response:
    _partner_mode(request)
    services = services_of(request)
    tenant_id = _tenant_id(request)
    account = await services.account_for(tenant_id)
    wanted = destination_request(await json_object(request))
    destination = await put_destination(account, wanted)
    return json_response({"destination": render_destination(destination)})


async def authorize_url(request: Request) -> Response:
    _partner_mode(request)
    tenant_id = _tenant_id(request)
    fields = Fields(await json_object(request, optional=True), OWNER_FIELDS)
    prefill = {name: fields.text(name, max_length=320) for name in OWNER_FIELDS}
    fields.check()
    link = await partner_authorize_url(
        services_of(request),
        tenant_id,
        {name: value for name, value in prefill.items() if value is not None},
    )
    # Not a URL to redirect to: the SaaS's page posts `ticket` to `url` from its own origin,
    # so that only its admin's browser can complete the link (README, Security).
    return json_response(
        {
            "url": link.url,
            "method": "POST",
            "ticket": link.ticket,
            "expires_at": iso(link.expires_at),
        },
        headers={"Cache-Control": "no-store"},
    )


routes = [
    Route("/v1/tenants", post_tenant, methods=["POST"]),
    Route("/v1/tenants/{tenant_id}", show_tenant, methods=["GET"]),
    Route("/v1/tenants/{tenant_id}/destination", put_tenant_destination, methods=["PUT"]),
    Route("/v1/tenants/{tenant_id}/authorize-url", authorize_url, methods=["POST"]),
]
