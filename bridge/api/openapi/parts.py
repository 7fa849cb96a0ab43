"""The pieces every /openapi.json fragment builds with: schema helpers, shared parameters, error
groups and the components' schemas."""

from __future__ import annotations

from typing import Any

from bridge.errors import ERROR_STATUS, VARIANT_STATUS
from bridge.steps import STATUSES

STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}


def ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


# Who a connect session (or a hosted link, which mints one) is for, and what it may touch.
CONNECT_SCOPE: dict[str, Any] = {
    "end_user": ref("EndUser"),
    "tenant": STR,
    "source_types": {"type": "array", "items": STR},
    "source_id": {"type": "integer", "minimum": 1},
}


def obj(required: list[str], props: dict[str, Any], extra: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": props}
    if not extra:
        schema["additionalProperties"] = False
    return schema


SCHEMAS: dict[str, Any] = {  # the Schedule and SyncState schemas are added below
    "Error": obj(
        ["error"],
        {
            "error": obj(
                ["code", "message"],
                {
                    "code": {"type": "string", "enum": sorted(ERROR_STATUS)},
                    "message": STR,
                    "details": {"type": "object"},
                },
            )
        },
    ),
    "Source": obj(
        [
            "id",
            "type",
            "display_name",
            "name",
            "end_user_id",
            "tenant",
            "current_step",
            "current_step_type",
            "status",
            "created_at",
            "updated_at",
            "schedule",
            "paused_at",
            "sync",
        ],
        {
            "id": INT,
            "type": STR,
            "display_name": STR,
            "name": STR,
            "end_user_id": STR,
            "tenant": NULLABLE_STR,
            "current_step": INT,
            "current_step_type": STR,
            "status": {"type": "string", "enum": list(STATUSES)},
            "created_at": TIME,
            "updated_at": TIME,
            "schedule": ref("Schedule"),
            "paused_at": {"type": ["string", "null"], "format": "date-time"},
            "sync": ref("SyncState"),
        },
    ),
    "Step": obj(
        ["type", "token", "expires_at", "js"],
        {
            "type": {
                "type": "string",
                "enum": ["form", "oauth", "discover_schema", "field_selection"],
            },
            "token": STR,
            "expires_at": TIME,
            "js": {
                "oneOf": [
                    {"type": "null"},
                    obj(["function", "options"], {"function": STR, "options": {"type": "object"}}),
                ]
            },
        },
    ),
    "SourceAnswer": obj(
        ["source", "next_step"],
        {
            "source": ref("Source"),
            "next_step": {"oneOf": [{"type": "null"}, ref("Step")]},
            "receipt": STR,
            "step_completed": {"type": "boolean"},
            "outcome": {"enum": ["completed", "failed"]},
            "error": STR,
            "connection_check": {"type": "object"},
            "data": {"type": "array"},
        },
    ),
    "EndUser": obj(
        ["id"],
        {
            "id": {"type": "string", "minLength": 1, "maxLength": 200},
            "name": {"type": "string", "minLength": 1, "maxLength": 300},
            "email": {"type": "string", "minLength": 1, "maxLength": 320},
        },
        extra=False,
    ),
    "Event": obj(
        ["id", "type", "created_at", "data"],
        {"id": STR, "type": STR, "created_at": TIME, "data": {"type": "object"}},
    ),
    "Tenant": obj(
        ["id", "stitch_account_id", "status"],
        {
            "id": STR,
            "stitch_account_id": {"type": ["integer", "null"]},
            "status": {"type": "string", "enum": ["pending", "connected", "unlinked"]},
            # Shown by GET only: where the tenant account's data goes, or null.
            "destination": {"anyOf": [ref("Destination"), {"type": "null"}]},
        },
    ),
    "Destination": obj(
        ["id", "type", "name", "created_at", "updated_at"],
        {
            "id": INT,
            "type": STR,
            "name": NULLABLE_STR,
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    ),
    "Stream": obj(
        ["stream_id", "tap_stream_id", "selected"],
        {
            "stream_id": INT,
            "tap_stream_id": STR,
            "stream_name": STR,
            "selected": {"type": "boolean"},
        },
    ),
}


def body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def content(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def html_page(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": STR}}}


def errors(*codes: str) -> dict[str, Any]:
    by_status: dict[str, list[str]] = {}
    for code in (*codes, "internal"):
        by_status.setdefault(str(ERROR_STATUS[code]), []).append(code)
        if code == "invalid_request":  # 400 for a body that is not an object, 422 per field
            by_status.setdefault(str(VARIANT_STATUS[code, "fields"]), []).append(code)
    return {
        status: content("error: " + ", ".join(names), ref("Error"))
        for status, names in sorted(by_status.items())
    }


AUTH_API: list[dict[str, list[str]]] = [{"apiKey": []}]
AUTH_SESSION: list[dict[str, list[str]]] = [{"connectSession": []}]
SOURCE_ID = {"name": "source_id", "in": "path", "required": True, "schema": {"type": "integer"}}
END_USER = {"name": "end_user_id", "in": "path", "required": True, "schema": STR}
EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": STR}
TENANT_ID = {"name": "tenant_id", "in": "path", "required": True, "schema": STR}
TENANT = {"name": "tenant", "in": "query", "required": False, "schema": STR}
UPSTREAM = ("upstream_rate_limited", "upstream_unavailable")
DESTINATION = {"destination": {"anyOf": [ref("Destination"), {"type": "null"}]}}
SESSION_ERRORS = ("unauthorized", "session_expired", "origin_not_allowed")
END_USER_LIMITS = (
    "End users' limits: past BRIDGE_MAX_SOURCES_PER_END_USER live sources a new one is "
    "`409 source_limit_reached`; `properties.frequency_in_minutes` outside "
    "BRIDGE_END_USER_FREQUENCIES, or `properties.cron_expression`/`anchor_time` without "
    "BRIDGE_END_USER_CRON, is `422 invalid_request` naming the property. In single-account mode "
    "a type one of whose steps only Stitch.js could run is `403 source_type_not_allowed`."
)
BODY_ERRORS = ("invalid_json", "invalid_request", "payload_too_large")
STEP_ERRORS = (
    *SESSION_ERRORS,
    *BODY_ERRORS,
    "token_invalid",
    "token_expired",
    "token_used",
    "source_not_found",
    *UPSTREAM,
)


def op(summary: str, auth: list[Any], responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "security": auth, "responses": responses, **extra}


SOURCE_ANSWER = content("the source and what the end user must do next", ref("SourceAnswer"))

SCHEDULE = {
    "type": ["object", "null"],
    "required": ["frequency_in_minutes", "anchor_time", "cron_expression", "next_sync_at"],
    "properties": {
        "frequency_in_minutes": {"type": ["integer", "null"]},
        "anchor_time": {"type": ["string", "null"]},
        "cron_expression": {"type": ["string", "null"]},
        "next_sync_at": {"type": ["string", "null"], "format": "date-time"},
    },
}
SYNC = {
    "type": "object",
    "required": [
        "state",
        "job_name",
        "trigger",
        "started_at",
        "completed_at",
        "last_succeeded_at",
        "error",
    ],
    "properties": {
        "state": {"type": "string", "enum": ["never", "running", "succeeded", "failed"]},
        "job_name": {"type": ["string", "null"]},
        "trigger": {"type": ["string", "null"], "enum": ["manual", "schedule", None]},
        "started_at": {"type": ["string", "null"], "format": "date-time"},
        "completed_at": {"type": ["string", "null"], "format": "date-time"},
        "last_succeeded_at": {"type": ["string", "null"], "format": "date-time"},
        "error": {
            "type": ["object", "null"],
            "required": ["phase", "message"],
            "properties": {
                "phase": {"type": "string", "enum": ["discovery", "tap", "target", "load"]},
                "message": {"type": "string"},
            },
        },
    },
}

SCHEMAS["Schedule"] = SCHEDULE
SCHEMAS["SyncState"] = SYNC
