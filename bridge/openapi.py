"""The API description served at /openapi.json (and rendered at /docs), errors included."""

from __future__ import annotations

from typing import Any

from bridge import __version__
from bridge.errors import ERROR_STATUS
from bridge.steps import STATUSES

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
_SESSION_ERRORS = ("unauthorized", "session_expired", "origin_not_allowed")
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
                        "bad_properties",
                        "duplicate_name",
                        *_UPSTREAM,
                    ),
                },
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
                        "instructions",
                        _obj(["driver"], {"driver": {"enum": ["stitchjs", "native"]}}),
                    ),
                    **_errors(*_STEP_ERRORS),
                },
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
                "Partner mode: a tenant and whether its Stitch account is connected",
                _AUTH_API,
                {
                    "200": _json("the tenant", _ref("Tenant")),
                    **_errors("unauthorized", "not_found", "tenant_not_found"),
                },
                parameters=[_TENANT_ID],
            )
        },
        "/v1/tenants/{tenant_id}/authorize-url": {
            "post": _op(
                "Partner mode: a Stitch OAuth URL that links the tenant's existing Stitch account",
                _AUTH_API,
                {
                    "200": _json(
                        "the URL to send the tenant's admin to", _obj(["url"], {"url": _STR})
                    ),
                    **_errors("unauthorized", "not_found", "tenant_not_found", *_UPSTREAM),
                },
                parameters=[_TENANT_ID],
            )
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
    }
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
            "schemas": SCHEMAS,
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
