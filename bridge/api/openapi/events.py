"""/openapi.json for bridge/api/events.py: the event log the webhooks carry."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    AUTH_API,
    EVENT_ID,
    STR,
    TENANT,
    content,
    errors,
    obj,
    op,
    ref,
)

PATHS: dict[str, Any] = {
    "/v1/events": {
        "get": op(
            "Events the webhooks carry, newest first, cursor-paginated",
            AUTH_API,
            {
                "200": content(
                    "a page of events",
                    obj(
                        ["data", "has_more"],
                        {
                            "data": {"type": "array", "items": ref("Event")},
                            "has_more": {"type": "boolean"},
                        },
                    ),
                ),
                **errors("unauthorized", "invalid_request"),
            },
            parameters=[
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                },
                {"name": "starting_after", "in": "query", "schema": STR},
                {"name": "type", "in": "query", "schema": STR},
                {"name": "end_user_id", "in": "query", "schema": STR},
                TENANT,
                {
                    "name": "source_id",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
        )
    },
    "/v1/events/{event_id}": {
        "get": op(
            "One event",
            AUTH_API,
            {"200": content("the event", ref("Event")), **errors("unauthorized", "not_found")},
            parameters=[EVENT_ID],
        )
    },
    "/v1/events/{event_id}/redeliver": {
        "post": op(
            "Send an event's webhook again, with the same id",
            AUTH_API,
            {
                "202": content("queued", obj(["status"], {"status": STR})),
                **errors("unauthorized", "not_found"),
            },
            parameters=[EVENT_ID],
        )
    },
}
