"""The after-connect part of /openapi.json (CONTRACT §4.8): sync, schedule, pause routes."""

from __future__ import annotations

from typing import Any

from bridge.openapi import (
    _AUTH_API,
    _AUTH_SESSION,
    _BODY_ERRORS,
    _END_USER,
    _SESSION_ERRORS,
    _SOURCE_ID,
    _TENANT,
    _UPSTREAM,
    _body,
    _errors,
    _json,
    _obj,
    _op,
    _ref,
)

_SCHEDULE_BODY = _obj(
    [],
    {
        "frequency_in_minutes": {"type": "integer", "enum": [1, 30, 60, 360, 720, 1440]},
        "anchor_time": {"type": ["string", "null"], "format": "date-time"},
        "cron_expression": {"type": ["string", "null"]},
    },
    extra=False,
)


def _answer(description: str) -> dict[str, Any]:
    return _json(description, _obj(["source"], {"source": _ref("Source")}))


def _operations(auth: list[Any], params: list[Any], who: list[str]) -> dict[str, Any]:
    """The five operations for one audience; `who` adds its own refusals."""
    gate = [*who, "source_not_found", *_UPSTREAM]
    return {
        "/sync": {
            "post": _op(
                "Start a replication job now (state `running`, trigger `manual`)",
                auth,
                {
                    "202": _answer("the source, its job running"),
                    **_errors(*gate, "sync_already_running", "source_not_ready"),
                },
                parameters=params,
            ),
            "delete": _op(
                "Stop the running replication job",
                auth,
                {"202": _answer("the source"), **_errors(*gate)},
                parameters=params,
            ),
        },
        "/schedule": {
            "put": _op(
                "Change the replication schedule at Stitch",
                auth,
                {
                    "200": _answer("the source with its new schedule"),
                    **_errors(*gate, *_BODY_ERRORS, "bad_properties"),
                },
                parameters=params,
                requestBody=_body(_SCHEDULE_BODY),
            )
        },
        "/pause": {
            "post": _op(
                "Pause the source's scheduled replication (idempotent)",
                auth,
                {"200": _answer("the source, paused"), **_errors(*gate)},
                parameters=params,
            )
        },
        "/unpause": {
            "post": _op(
                "Resume the source's scheduled replication (idempotent)",
                auth,
                {"200": _answer("the source, unpaused"), **_errors(*gate)},
                parameters=params,
            )
        },
    }


def sync_paths() -> dict[str, Any]:
    widget = _operations(_AUTH_SESSION, [_SOURCE_ID], [*_SESSION_ERRORS, "action_not_allowed"])
    server = _operations(_AUTH_API, [_END_USER, _SOURCE_ID, _TENANT], ["unauthorized"])
    paths = {f"/v1/sources/{{source_id}}{suffix}": ops for suffix, ops in widget.items()}
    paths.update(
        {
            f"/v1/end-users/{{end_user_id}}/sources/{{source_id}}{suffix}": ops
            for suffix, ops in server.items()
        }
    )
    return paths


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
