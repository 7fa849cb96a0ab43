"""/openapi.json for bridge/api/server.py: the SaaS backend's sessions, end users' sources, receipts, the shared destination."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    AUTH_API,
    BODY_ERRORS,
    CONNECT_SCOPE,
    DESTINATION,
    END_USER,
    NULLABLE_STR,
    SOURCE_ID,
    STR,
    TENANT,
    TIME,
    UPSTREAM,
    body,
    content,
    errors,
    obj,
    op,
    ref,
)

PATHS: dict[str, Any] = {
    "/v1/connect-sessions": {
        "post": op(
            "Mint a short-lived connect session for one end user",
            AUTH_API,
            {
                "201": content(
                    "the session",
                    obj(
                        ["id", "token", "expires_at"],
                        {"id": STR, "token": STR, "expires_at": TIME},
                    ),
                ),
                **errors("unauthorized", "source_not_found", "tenant_not_found", *BODY_ERRORS),
            },
            requestBody=body(
                obj(
                    ["end_user"],
                    {
                        **CONNECT_SCOPE,
                        "ttl": {"type": "integer", "minimum": 1, "maximum": 86400},
                        "actions": {
                            "type": "array",
                            "items": {"type": "string", "enum": ["sync", "schedule", "pause"]},
                            "default": ["sync"],
                        },
                    },
                    extra=False,
                )
            ),
        )
    },
    "/v1/end-users/{end_user_id}/sources": {
        "get": op(
            "List an end user's sources, with their status as Stitch has it now",
            AUTH_API,
            {
                "200": content(
                    "the sources",
                    obj(["data"], {"data": {"type": "array", "items": ref("Source")}}),
                ),
                **errors("unauthorized", "invalid_request", *UPSTREAM),
            },
            parameters=[END_USER, TENANT],
        )
    },
    "/v1/end-users/{end_user_id}/sources/{source_id}": {
        "delete": op(
            "Delete an end user's source, in Stitch too",
            AUTH_API,
            {
                "204": {"description": "deleted"},
                **errors("unauthorized", "source_not_found", *UPSTREAM),
            },
            parameters=[END_USER, SOURCE_ID, TENANT],
        )
    },
    "/v1/receipts/verify": {
        "post": op(
            "Check a receipt the widget handed to your page",
            AUTH_API,
            {
                "200": content(
                    "a valid receipt",
                    obj(
                        ["valid", "source", "end_user_id", "tenant", "completed_at"],
                        {
                            "valid": {"type": "boolean"},
                            "source": ref("Source"),
                            "end_user_id": STR,
                            "tenant": NULLABLE_STR,
                            "completed_at": TIME,
                        },
                    ),
                ),
                **errors("unauthorized", "receipt_invalid", *BODY_ERRORS),
            },
            requestBody=body(obj(["receipt"], {"receipt": STR}, extra=False)),
        )
    },
    "/v1/destination": {
        "get": op(
            "Single-account mode: the shared Stitch account's destination, or null",
            AUTH_API,
            {
                "200": content("the destination", obj(["destination"], DESTINATION)),
                **errors("unauthorized", "not_found", *UPSTREAM),
            },
        )
    },
}
