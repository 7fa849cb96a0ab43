"""The events API (server to server): what the webhooks carry, to list, fetch and redeliver."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.api.common import MAX_ID, json_response, require_api_key, services_of
from bridge.errors import BridgeError
from bridge.events import get_event, list_events, redeliver
from bridge.store.event_queries import EventFilter

EVENT_TYPES = (
    "source.created",
    "source.step_completed",
    "source.connected",
    "source.needs_reauth",
    "source.reauth_completed",
    "source.deleted",
    "source.sync_started",
    "source.sync_succeeded",
    "source.sync_failed",
    "source.paused",
    "source.unpaused",
    "source.schedule_changed",
)


def _text(request: Request, name: str, problems: dict[str, str]) -> str | None:
    value = request.query_params.get(name)
    if value is None:
        return None
    if not value or len(value) > MAX_ID:
        problems[name] = f"must be 1 to {MAX_ID} characters"
        return None
    return value


async def events_index(request: Request) -> Response:
    require_api_key(request)
    problems: dict[str, str] = {}
    unknown = set(request.query_params) - {
        "limit",
        "starting_after",
        "type",
        "end_user_id",
        "tenant",
        "source_id",
    }
    for name in sorted(unknown):
        problems[name[:100]] = "unknown parameter"
    limit = 20
    raw_limit = request.query_params.get("limit")
    if raw_limit is not None:
        if raw_limit.isdigit() and 1 <= int(raw_limit) <= 100:
            limit = int(raw_limit)
        else:
            problems["limit"] = "must be a whole number from 1 to 100"
    event_type = _text(request, "type", problems)
    if event_type is not None and event_type not in EVENT_TYPES:
        problems["type"] = f"must be one of {', '.join(EVENT_TYPES)}"
    source_id = None
    raw_source = request.query_params.get("source_id")
    if raw_source is not None:
        if raw_source.isdigit() and 0 < int(raw_source) < 2**63:
            source_id = int(raw_source)
        else:
            problems["source_id"] = "must be a source id"
    starting_after = _text(request, "starting_after", problems)
    end_user_id = _text(request, "end_user_id", problems)
    tenant = _text(request, "tenant", problems)
    if problems:
        raise BridgeError(
            "invalid_request",
            "some parameters are not valid",
            variant="fields",
            details={"fields": problems},
        )
    page = await list_events(
        services_of(request).db,
        limit=limit,
        starting_after=starting_after,
        where=EventFilter(event_type, end_user_id, tenant, source_id),
    )
    return json_response({"data": page.data, "has_more": page.has_more})


async def event_detail(request: Request) -> Response:
    require_api_key(request)
    return json_response(await get_event(services_of(request).db, request.path_params["event_id"]))


async def event_redeliver(request: Request) -> Response:
    require_api_key(request)
    await redeliver(services_of(request).outbox, request.path_params["event_id"])
    return json_response({"status": "queued"}, status=202)


routes = [
    Route("/v1/events", events_index, methods=["GET"]),
    Route("/v1/events/{event_id}", event_detail, methods=["GET"]),
    Route("/v1/events/{event_id}/redeliver", event_redeliver, methods=["POST"]),
]
