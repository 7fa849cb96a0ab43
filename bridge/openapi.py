"""The API description served at /openapi.json (and rendered at /docs), errors included."""

from __future__ import annotations

from typing import Any

from bridge.errors import ERROR_STATUS
from bridge.steps import STATUSES
from bridge.version import __version__

_STR: dict[str, Any] = {"type": "string"}
_INT: dict[str, Any] = {"type": "integer"}
_TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
_NULLABLE_STR: dict[str, Any] = {"type": ["string", "null"]}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: list[str], props: dict[str, Any], extra: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "required": required, "properties": props}
    if not extra:
        schema["additionalProperties"] = False
    return schema


SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        ["error"],
        {
            "error": _obj(
                ["code", "message"],
                {
                    "code": {"type": "string", "enum": sorted(ERROR_STATUS)},
                    "message": _STR,
                    "details": {"type": "object"},
                },
            )
        },
    ),
    "Source": _obj(
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
            "id": _INT,
            "type": _STR,
            "display_name": _STR,
            "name": _STR,
            "end_user_id": _STR,
            "tenant": _NULLABLE_STR,
            "current_step": _INT,
            "current_step_type": _STR,
            "status": {"type": "string", "enum": list(STATUSES)},
            "created_at": _TIME,
            "updated_at": _TIME,
            "schedule": _ref("Schedule"),
            "paused_at": {"type": ["string", "null"], "format": "date-time"},
            "sync": _ref("SyncState"),
        },
    ),
    "Step": _obj(
        ["type", "token", "expires_at", "js"],
        {
            "type": {
                "type": "string",
                "enum": ["form", "oauth", "discover_schema", "field_selection"],
            },
            "token": _STR,
            "expires_at": _TIME,
            "js": {
                "oneOf": [
                    {"type": "null"},
                    _obj(
                        ["function", "options"], {"function": _STR, "options": {"type": "object"}}
                    ),
                ]
            },
        },
    ),
    "SourceAnswer": _obj(
        ["source", "next_step"],
        {
            "source": _ref("Source"),
            "next_step": {"oneOf": [{"type": "null"}, _ref("Step")]},
            "receipt": _STR,
            "step_completed": {"type": "boolean"},
            "outcome": {"enum": ["completed", "failed"]},
            "error": _STR,
            "connection_check": {"type": "object"},
            "data": {"type": "array"},
        },
    ),
    "EndUser": _obj(
        ["id"],
        {
            "id": {"type": "string", "minLength": 1, "maxLength": 200},
            "name": {"type": "string", "minLength": 1, "maxLength": 300},
            "email": {"type": "string", "minLength": 1, "maxLength": 320},
        },
        extra=False,
    ),
    "Event": _obj(
        ["id", "type", "created_at", "data"],
        {"id": _STR, "type": _STR, "created_at": _TIME, "data": {"type": "object"}},
    ),
    "Tenant": _obj(
        ["id", "stitch_account_id", "status"],
        {
            "id": _STR,
            "stitch_account_id": {"type": ["integer", "null"]},
            "status": {"type": "string", "enum": ["pending", "connected", "unlinked"]},
            # Shown by GET only: where the tenant account's data goes, or null.
            "destination": {"anyOf": [_ref("Destination"), {"type": "null"}]},
        },
    ),
    "Destination": _obj(
        ["id", "type", "name", "created_at", "updated_at"],
        {
            "id": _INT,
            "type": _STR,
            "name": _NULLABLE_STR,
            "created_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        },
    ),
    "Stream": _obj(
        ["stream_id", "tap_stream_id", "selected"],
        {
            "stream_id": _INT,
            "tap_stream_id": _STR,
            "stream_name": _STR,
            "selected": {"type": "boolean"},
        },
    ),
}


def _body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": _STR}}}


def _errors(*codes: str) -> dict[str, Any]:
    by_status: dict[str, list[str]] = {}
    for code in (*codes, "internal"):
        by_status.setdefault(str(ERROR_STATUS[code]), []).append(code)
        if code == "invalid_request":  # 400 for a body that is not an object, 422 per field
            by_status.setdefault("422", []).append(code)
    return {
        status: _json("error: " + ", ".join(names), _ref("Error"))
        for status, names in sorted(by_status.items())
    }


_AUTH_API: list[dict[str, list[str]]] = [{"apiKey": []}]
_AUTH_SESSION: list[dict[str, list[str]]] = [{"connectSession": []}]
_SOURCE_ID = {"name": "source_id", "in": "path", "required": True, "schema": {"type": "integer"}}
_END_USER = {"name": "end_user_id", "in": "path", "required": True, "schema": _STR}
_EVENT_ID = {"name": "event_id", "in": "path", "required": True, "schema": _STR}
_TENANT_ID = {"name": "tenant_id", "in": "path", "required": True, "schema": _STR}
_TENANT = {"name": "tenant", "in": "query", "required": False, "schema": _STR}
_UPSTREAM = ("upstream_rate_limited", "upstream_unavailable")
_DESTINATION = {"destination": {"anyOf": [_ref("Destination"), {"type": "null"}]}}
_SESSION_ERRORS = ("unauthorized", "session_expired", "origin_not_allowed")
_END_USER_LIMITS = (
    "End users' limits: past BRIDGE_MAX_SOURCES_PER_END_USER live sources a new one is "
    "`409 source_limit_reached`; `properties.frequency_in_minutes` outside "
    "BRIDGE_END_USER_FREQUENCIES, or `properties.cron_expression`/`anchor_time` without "
    "BRIDGE_END_USER_CRON, is `422 invalid_request` naming the property. In single-account mode "
    "a type one of whose steps only Stitch.js could run is `403 source_type_not_allowed`."
)
_BODY_ERRORS = ("invalid_json", "invalid_request", "payload_too_large")
_STEP_ERRORS = (
    *_SESSION_ERRORS,
    *_BODY_ERRORS,
    "token_invalid",
    "token_expired",
    "token_used",
    "source_not_found",
    *_UPSTREAM,
)


def _op(summary: str, auth: list[Any], responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"summary": summary, "security": auth, "responses": responses, **extra}


def build_openapi(public_url: str) -> dict[str, Any]:
    source_answer = _json("the source and what the end user must do next", _ref("SourceAnswer"))
    paths: dict[str, Any] = {
        "/v1/connect-sessions": {
            "post": _op(
                "Mint a short-lived connect session for one end user",
                _AUTH_API,
                {
                    "201": _json(
                        "the session",
                        _obj(
                            ["id", "token", "expires_at"],
                            {"id": _STR, "token": _STR, "expires_at": _TIME},
                        ),
                    ),
                    **_errors(
                        "unauthorized", "source_not_found", "tenant_not_found", *_BODY_ERRORS
                    ),
                },
                requestBody=_body(
                    _obj(
                        ["end_user"],
                        {
                            "end_user": _ref("EndUser"),
                            "tenant": _STR,
                            "source_types": {"type": "array", "items": _STR},
                            "source_id": {"type": "integer", "minimum": 1},
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
            "get": _op(
                "List an end user's sources, with their status as Stitch has it now",
                _AUTH_API,
                {
                    "200": _json(
                        "the sources",
                        _obj(["data"], {"data": {"type": "array", "items": _ref("Source")}}),
                    ),
                    **_errors("unauthorized", "invalid_request", *_UPSTREAM),
                },
                parameters=[_END_USER, _TENANT],
            )
        },
        "/v1/end-users/{end_user_id}/sources/{source_id}": {
            "delete": _op(
                "Delete an end user's source, in Stitch too",
                _AUTH_API,
                {
                    "204": {"description": "deleted"},
                    **_errors("unauthorized", "source_not_found", *_UPSTREAM),
                },
                parameters=[_END_USER, _SOURCE_ID, _TENANT],
            )
        },
        "/v1/receipts/verify": {
            "post": _op(
                "Check a receipt the widget handed to your page",
                _AUTH_API,
                {
                    "200": _json(
                        "a valid receipt",
                        _obj(
                            ["valid", "source", "end_user_id", "tenant", "completed_at"],
                            {
                                "valid": {"type": "boolean"},
                                "source": _ref("Source"),
                                "end_user_id": _STR,
                                "tenant": _NULLABLE_STR,
                                "completed_at": _TIME,
                            },
                        ),
                    ),
                    **_errors("unauthorized", "receipt_invalid", *_BODY_ERRORS),
                },
                requestBody=_body(_obj(["receipt"], {"receipt": _STR}, extra=False)),
            )
        },
        "/v1/session": {
            "get": _op(
                "The connect session behind this token",
                _AUTH_SESSION,
                {"200": _json("the session", {"type": "object"}), **_errors(*_SESSION_ERRORS)},
            )
        },
        "/v1/source-types": {
            "get": _op(
                "Source types this session may connect, with their forms",
                _AUTH_SESSION,
                {
                    "200": _json("the types", _obj(["data"], {"data": {"type": "array"}})),
                    **_errors(*_SESSION_ERRORS, *_UPSTREAM),
                },
                description="`frequency_in_minutes` is narrowed to an `enum` of "
                "BRIDGE_END_USER_FREQUENCIES; `cron_expression`/`anchor_time` are left out unless "
                "BRIDGE_END_USER_CRON; in single-account mode a type needing Stitch.js is left out "
                "unless BRIDGE_SHARED_ACCOUNT_STITCHJS.",
            )
        },
        "/v1/sources": {
            "post": _op(
                "Create a source for the session's end user (send an Idempotency-Key)",
                _AUTH_SESSION,
                {
                    "201": _json("created", _ref("SourceAnswer")),
                    "200": _json(
                        "the source an earlier request (same key) created", _ref("SourceAnswer")
                    ),
                    **_errors(
                        *_SESSION_ERRORS,
                        *_BODY_ERRORS,
                        "source_type_not_allowed",
                        "source_limit_reached",
                        "bad_properties",
                        "duplicate_name",
                        *_UPSTREAM,
                    ),
                },
                description=_END_USER_LIMITS,
                parameters=[
                    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": _STR}
                ],
                requestBody=_body(
                    _obj(
                        ["type"],
                        {"type": _STR, "display_name": _STR, "properties": {"type": "object"}},
                        extra=False,
                    )
                ),
            )
        },
        "/v1/sources/{source_id}": {
            "get": _op(
                "The session's source as Stitch has it now, and its next step",
                _AUTH_SESSION,
                {"200": source_answer, **_errors(*_SESSION_ERRORS, "source_not_found", *_UPSTREAM)},
                parameters=[_SOURCE_ID],
            ),
            "put": _op(
                "Change a source's display name or properties",
                _AUTH_SESSION,
                {
                    "200": source_answer,
                    **_errors(
                        *_SESSION_ERRORS,
                        *_BODY_ERRORS,
                        "source_not_found",
                        "bad_properties",
                        *_UPSTREAM,
                    ),
                },
                description=_END_USER_LIMITS,
                parameters=[_SOURCE_ID],
                requestBody=_body(
                    _obj([], {"display_name": _STR, "properties": {"type": "object"}}, extra=False)
                ),
            ),
        },
        "/v1/sources/{source_id}/streams": {
            "get": _op(
                "The streams (tables) Stitch discovered",
                _AUTH_SESSION,
                {
                    "200": _json(
                        "streams",
                        _obj(["data"], {"data": {"type": "array", "items": _ref("Stream")}}),
                    ),
                    **_errors(*_SESSION_ERRORS, "source_not_found", *_UPSTREAM),
                },
                parameters=[_SOURCE_ID],
            ),
            "put": _op(
                "Select streams (and fields) to replicate",
                _AUTH_SESSION,
                {
                    "200": source_answer,
                    **_errors(*_SESSION_ERRORS, *_BODY_ERRORS, "source_not_found", *_UPSTREAM),
                },
                parameters=[_SOURCE_ID],
                requestBody=_body(_obj(["streams"], {"streams": {"type": "array"}}, extra=False)),
            ),
        },
        "/v1/steps/start": {
            "post": _op(
                "Start a step: how to run it (Stitch.js call or native action); once per token",
                _AUTH_SESSION,
                {
                    "200": _json(
                        "instructions; a white-label OAuth step gives `oauth_url` (the bridge's"
                        " popup page) and `oauth_ticket`, which binds one browser to the attempt"
                        " (POST /v1/oauth/begin), never the provider's consent URL",
                        _obj(
                            ["driver"],
                            {
                                "driver": {"enum": ["stitchjs", "native"]},
                                "oauth_url": {"type": "string", "format": "uri"},
                                "oauth_ticket": _STR,
                            },
                        ),
                    ),
                    **_errors(*_STEP_ERRORS, "source_type_not_allowed"),
                },
                description="In single-account mode no answer carries an `ephemeral_token` "
                "unless BRIDGE_SHARED_ACCOUNT_STITCHJS=true: a step only Stitch.js could run is "
                "`403 source_type_not_allowed`.",
                requestBody=_body(
                    _obj(
                        ["token"],
                        {"token": _STR, "return_url": {"type": "string", "format": "uri"}},
                        extra=False,
                    )
                ),
            )
        },
        "/v1/resume": {
            "post": _op(
                "Redirect mode: continue a flow after a full-page round trip (resume id, once)",
                _AUTH_SESSION,
                {
                    "200": source_answer,
                    **_errors(*_STEP_ERRORS),
                },
                requestBody=_body(_obj(["resume_id"], {"resume_id": _STR}, extra=False)),
            )
        },
        "/v1/steps/complete": {
            "post": _op(
                "Report a step finished; the bridge asks Stitch whether it is, once per token",
                _AUTH_SESSION,
                {
                    "200": source_answer,
                    **_errors(*_STEP_ERRORS),
                },
                requestBody=_body(
                    _obj(
                        ["token"],
                        {"token": _STR, "outcome": {"enum": ["completed", "cancelled", "failed"]}},
                        extra=False,
                    )
                ),
            )
        },
        "/v1/events": {
            "get": _op(
                "Events the webhooks carry, newest first, cursor-paginated",
                _AUTH_API,
                {
                    "200": _json(
                        "a page of events",
                        _obj(
                            ["data", "has_more"],
                            {
                                "data": {"type": "array", "items": _ref("Event")},
                                "has_more": {"type": "boolean"},
                            },
                        ),
                    ),
                    **_errors("unauthorized", "invalid_request"),
                },
                parameters=[
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                    },
                    {"name": "starting_after", "in": "query", "schema": _STR},
                    {"name": "type", "in": "query", "schema": _STR},
                    {"name": "end_user_id", "in": "query", "schema": _STR},
                    _TENANT,
                    {
                        "name": "source_id",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1},
                    },
                ],
            )
        },
        "/v1/events/{event_id}": {
            "get": _op(
                "One event",
                _AUTH_API,
                {"200": _json("the event", _ref("Event")), **_errors("unauthorized", "not_found")},
                parameters=[_EVENT_ID],
            )
        },
        "/v1/events/{event_id}/redeliver": {
            "post": _op(
                "Send an event's webhook again, with the same id",
                _AUTH_API,
                {
                    "202": _json("queued", _obj(["status"], {"status": _STR})),
                    **_errors("unauthorized", "not_found"),
                },
                parameters=[_EVENT_ID],
            )
        },
        "/v1/connect-links": {
            "post": _op(
                "Make a hosted connect link to send an end user (e-mail, support ticket)",
                _AUTH_API,
                {
                    "201": _json(
                        "the link",
                        _obj(
                            ["id", "url", "expires_at"],
                            {"id": _STR, "url": _STR, "expires_at": _TIME},
                        ),
                    ),
                    **_errors("unauthorized", "source_not_found", *_BODY_ERRORS),
                },
                requestBody=_body(
                    _obj(
                        ["end_user"],
                        {
                            "end_user": _ref("EndUser"),
                            "tenant": _STR,
                            "source_types": {"type": "array", "items": _STR},
                            "source_id": {"type": "integer", "minimum": 1},
                            "return_url": {"type": "string", "format": "uri"},
                            "expires_in": {"type": "integer", "minimum": 60, "maximum": 2592000},
                        },
                        extra=False,
                    )
                ),
            )
        },
        "/v1/tenants": {
            "post": _op(
                "Partner mode: create a tenant and its own Stitch client account (or one to link)",
                _AUTH_API,
                {
                    "201": _json("the tenant", _ref("Tenant")),
                    **_errors(
                        "unauthorized", "not_found", "tenant_exists", *_BODY_ERRORS, *_UPSTREAM
                    ),
                },
                requestBody=_body(
                    _obj(
                        ["id"],
                        {
                            "id": _STR,
                            "email": _STR,
                            "first_name": _STR,
                            "last_name": _STR,
                            "company": _STR,
                            "region": _STR,
                            "link": {"type": "boolean"},
                        },
                    )
                ),
            )
        },
        "/v1/tenants/{tenant_id}": {
            "get": _op(
                "Partner mode: a tenant, whether its Stitch account is connected, its destination",
                _AUTH_API,
                {
                    "200": _json("the tenant", _ref("Tenant")),
                    **_errors("unauthorized", "not_found", "tenant_not_found", *_UPSTREAM),
                },
                parameters=[_TENANT_ID],
            )
        },
        "/v1/tenants/{tenant_id}/destination": {
            "put": _op(
                "Partner mode: create or update (same type) the tenant account's destination; "
                "the properties go to Stitch and are never stored or returned",
                _AUTH_API,
                {
                    "200": _json("the destination", _obj(["destination"], _DESTINATION)),
                    **_errors(
                        "unauthorized",
                        "not_found",
                        "tenant_not_found",
                        "bad_properties",
                        *_BODY_ERRORS,
                        *_UPSTREAM,
                    ),
                },
                parameters=[_TENANT_ID],
                requestBody=_body(
                    _obj(
                        ["type", "properties"],
                        {
                            "type": _STR,
                            "name": _STR,
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
        "/v1/destination": {
            "get": _op(
                "Single-account mode: the shared Stitch account's destination, or null",
                _AUTH_API,
                {
                    "200": _json("the destination", _obj(["destination"], _DESTINATION)),
                    **_errors("unauthorized", "not_found", *_UPSTREAM),
                },
            )
        },
        "/v1/tenants/{tenant_id}/authorize-url": {
            "post": _op(
                "Partner mode: link the tenant's existing Stitch account by Stitch's OAuth."
                " The SaaS's page (on BRIDGE_ALLOWED_ORIGINS) sends its admin's browser to `url`"
                " with a top-level form POST carrying `ticket`; only that browser can finish",
                _AUTH_API,
                {
                    "200": _json(
                        "where and how the admin's browser starts the link",
                        _obj(
                            ["url", "method", "ticket", "expires_at"],
                            {
                                "url": {"type": "string", "format": "uri"},
                                "method": {"enum": ["POST"]},
                                "ticket": _STR,
                                "expires_at": {"type": "string", "format": "date-time"},
                            },
                        ),
                    ),
                    **_errors("unauthorized", "not_found", "tenant_not_found", *_UPSTREAM),
                },
                parameters=[_TENANT_ID],
            )
        },
        "/v1/oauth/begin": {
            "post": {
                "summary": (
                    "Bind this browser to an OAuth attempt, then go on to the consent page. Only"
                    " from the page that started it: a top-level form POST whose Origin is that"
                    " page's, or the bridge's popup page (/oauth/begin) naming its opener"
                ),
                "security": [],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": _obj(
                                ["ticket"], {"ticket": _STR, "opener_origin": _STR}, extra=False
                            )
                        }
                    },
                },
                "responses": {
                    "200": _html("sets the HttpOnly binding cookie; navigates to the consent page"),
                    "400": _html("token_invalid, token_expired or invalid_request"),
                    "403": {
                        "description": "origin_not_allowed: not the page that started the step",
                        "content": {
                            **_html("")["content"],
                            "application/json": {"schema": _ref("Error")},
                        },
                    },
                    "409": _html("token_used: the attempt is bound to a browser already"),
                    **_errors("payload_too_large"),
                },
            }
        },
        "/v1/oauth/stitch/callback": {
            "get": {
                "summary": "Partner OAuth redirect target (Stitch sends the tenant's admin here)",
                "security": [],
                "responses": {
                    "200": {"description": "an HTML result page"},
                    "400": {"description": "an HTML error page"},
                },
            }
        },
        "/v1/oauth/provider/callback": {
            "get": {
                "summary": "White-label OAuth redirect target (the provider sends the end user here)",
                "security": [],
                "responses": {
                    "200": {"description": "an HTML page that reports to the widget and closes"},
                    "400": {"description": "an HTML error page"},
                },
            }
        },
        "/healthz": {
            "get": {
                "summary": "The process is alive",
                "security": [],
                "responses": {"200": {"description": "alive"}},
            }
        },
        "/readyz": {
            "get": {
                "summary": "The database answers",
                "security": [],
                "responses": {
                    "200": {"description": "ready"},
                    "503": _json("not ready", {"type": "object"}),
                },
            }
        },
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics",
                "security": [],
                "responses": {"200": {"description": "metrics"}},
            }
        },
        "/widget.js": {
            "get": {
                "summary": "The browser widget, current version (cached 5 minutes, then revalidated)",
                "description": "Minified; br or gzip by Accept-Encoding; an ETag per encoding.",
                "security": [],
                "responses": {
                    "200": {"description": "JavaScript"},
                    "304": {"description": "not modified (If-None-Match matched the ETag)"},
                },
            }
        },
        "/widget.{version}.js": {
            "get": {
                "summary": "The browser widget at an immutable URL (`stitch-bridge widget-integrity`)",
                "description": "Cache-Control immutable for a year; only the version this bridge "
                "serves exists, any other is 404.",
                "security": [],
                "parameters": [{"name": "version", "in": "path", "required": True, "schema": _STR}],
                "responses": {
                    "200": {"description": "JavaScript"},
                    "304": {"description": "not modified (If-None-Match matched the ETag)"},
                    **_errors("not_found"),
                },
            }
        },
        "/widget.d.ts": {
            "get": {
                "summary": "TypeScript declarations of the browser widget",
                "security": [],
                "responses": {"200": {"description": "TypeScript"}},
            }
        },
    }
    from bridge.openapi_sync import SCHEDULE, SYNC, sync_paths  # it builds on the helpers above

    paths.update(sync_paths())
    schemas = {**SCHEMAS, "Schedule": SCHEDULE, "SyncState": SYNC}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "stitch-bridge",
            "version": __version__,
            "description": "Connect your end users' data sources to Stitch from inside your web app.",
        },
        "servers": [{"url": public_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a BRIDGE_API_KEYS key",
                },
                "connectSession": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "a connect-session token",
                },
            },
        },
    }
