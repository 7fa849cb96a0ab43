"""/openapi.json for bridge/api/tenants.py: partner mode's tenants, their destinations and account links."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    AUTH_API,
    BODY_ERRORS,
    DESTINATION,
    STR,
    TENANT_ID,
    UPSTREAM,
    body,
    content,
    errors,
    obj,
    op,
    ref,
)

PATHS: dict[str, Any] = {
    "/v1/tenants": {
        "post": op(
            "Partner mode: create a tenant and its own Stitch client account (or one to link)",
            AUTH_API,
            {
                "201": content("the tenant", ref("Tenant")),
                **errors("unauthorized", "not_found", "tenant_exists", *BODY_ERRORS, *UPSTREAM),
            },
            requestBody=body(
                obj(
                    ["id"],
                    {
                        "id": STR,
                        "email": STR,
                        "first_name": STR,
                        "last_name": STR,
                        "company": STR,
                        "region": STR,
                        "link": {"type": "boolean"},
                    },
                )
            ),
        )
    },
    "/v1/tenants/{tenant_id}": {
        "get": op(
            "Partner mode: a tenant, whether its Stitch account is connected, its destination",
            AUTH_API,
            {
                "200": content("the tenant", ref("Tenant")),
                **errors("unauthorized", "not_found", "tenant_not_found", *UPSTREAM),
            },
            parameters=[TENANT_ID],
        )
    },
    "/v1/tenants/{tenant_id}/destination": {
        "put": op(
            "Partner mode: create or update (same type) the tenant account's destination; "
            "the properties go to Stitch and are never stored or returned",
            AUTH_API,
            {
                "200": content("the destination", obj(["destination"], DESTINATION)),
                **errors(
                    "unauthorized",
                    "not_found",
                    "tenant_not_found",
                    "bad_properties",
                    *BODY_ERRORS,
                    *UPSTREAM,
                ),
            },
            parameters=[TENANT_ID],
            requestBody=body(
                obj(
                    ["type", "properties"],
                    {
                        "type": STR,
                        "name": STR,
                        "properties": {
                            "type": "object",
                            "additionalProperties": {"type": ["string", "number", "boolean"]},
                        },
                    },
                    extra=False,
                )
            ),
        )
    },
    "/v1/tenants/{tenant_id}/authorize-url": {
        "post": op(
            "Partner mode: link the tenant's existing Stitch account by Stitch's OAuth."
            " The SaaS's page (on BRIDGE_ALLOWED_ORIGINS) sends its admin's browser to `url`"
            " with a top-level form POST carrying `ticket`; only that browser can finish",
            AUTH_API,
            {
                "200": content(
                    "where and how the admin's browser starts the link",
                    obj(
                        ["url", "method", "ticket", "expires_at"],
                        {
                            "url": {"type": "string", "format": "uri"},
                            "method": {"enum": ["POST"]},
                            "ticket": STR,
                            "expires_at": {"type": "string", "format": "date-time"},
                        },
                    ),
                ),
                **errors("unauthorized", "not_found", "tenant_not_found", *UPSTREAM),
            },
            parameters=[TENANT_ID],
        )
    },
}
