"""/openapi.json for bridge/api/widget.py: the widget's connect flow, under a connect session."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    AUTH_SESSION,
    BODY_ERRORS,
    END_USER_LIMITS,
    SESSION_ERRORS,
    SOURCE_ANSWER,
    SOURCE_ID,
    STEP_ERRORS,
    STR,
    UPSTREAM,
    body,
    content,
    errors,
    obj,
    op,
    ref,
)

PATHS: dict[str, Any] = {
    "/v1/session": {
        "get": op(
            "The connect session behind this token",
            AUTH_SESSION,
            {"200": content("the session", {"type": "object"}), **errors(*SESSION_ERRORS)},
        )
    },
    "/v1/source-types": {
        "get": op(
            "Source types this session may connect, with their forms",
            AUTH_SESSION,
            {
                "200": content("the types", obj(["data"], {"data": {"type": "array"}})),
                **errors(*SESSION_ERRORS, *UPSTREAM),
            },
            description="`frequency_in_minutes` is narrowed to an `enum` of "
            "BRIDGE_END_USER_FREQUENCIES; `cron_expression`/`anchor_time` are left out unless "
            "BRIDGE_END_USER_CRON; in single-account mode a type needing Stitch.js is left out "
            "unless BRIDGE_SHARED_ACCOUNT_STITCHJS.",
        )
    },
    "/v1/sources": {
        "post": op(
            "Create a source for the session's end user (send an Idempotency-Key)",
            AUTH_SESSION,
            {
                "201": content("created", ref("SourceAnswer")),
                "200": content(
                    "the source an earlier request (same key) created", ref("SourceAnswer")
                ),
                **errors(
                    *SESSION_ERRORS,
                    *BODY_ERRORS,
                    "source_type_not_allowed",
                    "source_limit_reached",
                    "bad_properties",
                    "duplicate_name",
                    *UPSTREAM,
                ),
            },
            description=END_USER_LIMITS,
            parameters=[
                {"name": "Idempotency-Key", "in": "header", "required": False, "schema": STR}
            ],
            requestBody=body(
                obj(
                    ["type"],
                    {"type": STR, "display_name": STR, "properties": {"type": "object"}},
                    extra=False,
                )
            ),
        )
    },
    "/v1/sources/{source_id}": {
        "get": op(
            "The session's source as Stitch has it now, and its next step",
            AUTH_SESSION,
            {"200": SOURCE_ANSWER, **errors(*SESSION_ERRORS, "source_not_found", *UPSTREAM)},
            parameters=[SOURCE_ID],
        ),
        "put": op(
            "Change a source's display name or properties",
            AUTH_SESSION,
            {
                "200": SOURCE_ANSWER,
                **errors(
                    *SESSION_ERRORS,
                    *BODY_ERRORS,
                    "source_not_found",
                    "bad_properties",
                    *UPSTREAM,
                ),
            },
            description=END_USER_LIMITS,
            parameters=[SOURCE_ID],
            requestBody=body(
                obj([], {"display_name": STR, "properties": {"type": "object"}}, extra=False)
            ),
        ),
    },
    "/v1/sources/{source_id}/streams": {
        "get": op(
            "The streams (tables) Stitch discovered",
            AUTH_SESSION,
            {
                "200": content(
                    "streams",
                    obj(["data"], {"data": {"type": "array", "items": ref("Stream")}}),
                ),
                **errors(*SESSION_ERRORS, "source_not_found", *UPSTREAM),
            },
            parameters=[SOURCE_ID],
        ),
        "put": op(
            "Select streams (and fields) to replicate",
            AUTH_SESSION,
            {
                "200": SOURCE_ANSWER,
                **errors(*SESSION_ERRORS, *BODY_ERRORS, "source_not_found", *UPSTREAM),
            },
            parameters=[SOURCE_ID],
            requestBody=body(obj(["streams"], {"streams": {"type": "array"}}, extra=False)),
        ),
    },
    "/v1/steps/start": {
        "post": op(
            "Start a step: how to run it (Stitch.js call or native action); once per token",
            AUTH_SESSION,
            {
                "200": content(
                    "instructions; a white-label OAuth step gives `oauth_url` (the bridge's"
                    " popup page) and `oauth_ticket`, which binds one browser to the attempt"
                    " (POST /v1/oauth/begin), never the provider's consent URL",
                    obj(
                        ["driver"],
                        {
                            "driver": {"enum": ["stitchjs", "native"]},
                            "oauth_url": {"type": "string", "format": "uri"},
                            "oauth_ticket": STR,
                        },
                    ),
                ),
                **errors(*STEP_ERRORS, "source_type_not_allowed"),
            },
            description="In single-account mode no answer carries an `ephemeral_token` "
            "unless BRIDGE_SHARED_ACCOUNT_STITCHJS=true: a step only Stitch.js could run is "
            "`403 source_type_not_allowed`.",
            requestBody=body(
                obj(
                    ["token"],
                    {"token": STR, "return_url": {"type": "string", "format": "uri"}},
                    extra=False,
                )
            ),
        )
    },
    "/v1/resume": {
        "post": op(
            "Redirect mode: continue a flow after a full-page round trip (resume id, once)",
            AUTH_SESSION,
            {
                "200": SOURCE_ANSWER,
                **errors(*STEP_ERRORS),
            },
            requestBody=body(obj(["resume_id"], {"resume_id": STR}, extra=False)),
        )
    },
    "/v1/steps/complete": {
        "post": op(
            "Report a step finished; the bridge asks Stitch whether it is, once per token",
            AUTH_SESSION,
            {
                "200": SOURCE_ANSWER,
                **errors(*STEP_ERRORS),
            },
            requestBody=body(
                obj(
                    ["token"],
                    {"token": STR, "outcome": {"enum": ["completed", "cancelled", "failed"]}},
                    extra=False,
                )
            ),
        )
    },
}
