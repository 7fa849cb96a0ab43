"""/openapi.json for bridge/api/sync.py: after connecting (CONTRACT §4.8), sync, schedule, pause."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    AUTH_API,
    AUTH_SESSION,
    BODY_ERRORS,
    END_USER,
    SESSION_ERRORS,
    SOURCE_ID,
    TENANT,
    UPSTREAM,
    body,
    content,
    errors,
    obj,
    op,
    ref,
)

_SCHEDULE_BODY = obj(
    [],
    {
        "frequency_in_minutes": {"type": "integer", "enum": [1, 30, 60, 360, 720, 1440]},
        "anchor_time": {"type": ["string", "null"], "format": "date-time"},
        "cron_expression": {"type": ["string", "null"]},
    },
    extra=False,
)


def _answer(description: str) -> dict[str, Any]:
    return content(description, obj(["source"], {"source": ref("Source")}))


def _operations(auth: list[Any], params: list[Any], who: list[str]) -> dict[str, Any]:
    """The five operations for one audience; `who` adds its own refusals."""
    gate = [*who, "source_not_found", *UPSTREAM]
    return {
        "/sync": {
            "post": op(
                "Start a replication job now (state `running`, trigger `manual`)",
                auth,
                {
                    "202": _answer("the source, its job running"),
                    **errors(*gate, "sync_already_running", "source_not_ready"),
                },
                parameters=params,
            ),
            "delete": op(
                "Stop the running replication job",
                auth,
                {"202": _answer("the source"), **errors(*gate)},
                parameters=params,
            ),
        },
        "/schedule": {
            "put": op(
                "Change the replication schedule at Stitch",
                auth,
                {
                    "200": _answer("the source with its new schedule"),
                    **errors(*gate, *BODY_ERRORS, "bad_properties"),
                },
                parameters=params,
                requestBody=body(_SCHEDULE_BODY),
            )
        },
        "/pause": {
            "post": op(
                "Pause the source's scheduled replication (idempotent)",
                auth,
                {"200": _answer("the source, paused"), **errors(*gate)},
                parameters=params,
            )
        },
        "/unpause": {
            "post": op(
                "Resume the source's scheduled replication (idempotent)",
                auth,
                {"200": _answer("the source, unpaused"), **errors(*gate)},
                parameters=params,
            )
        },
    }


def _sync_paths() -> dict[str, Any]:
    widget = _operations(AUTH_SESSION, [SOURCE_ID], [*SESSION_ERRORS, "action_not_allowed"])
    server = _operations(AUTH_API, [END_USER, SOURCE_ID, TENANT], ["unauthorized"])
    paths = {f"/v1/sources/{{source_id}}{suffix}": ops for suffix, ops in widget.items()}
    paths.update(
        {
            f"/v1/end-users/{{end_user_id}}/sources/{{source_id}}{suffix}": ops
            for suffix, ops in server.items()
        }
    )
    return paths


PATHS: dict[str, Any] = _sync_paths()
