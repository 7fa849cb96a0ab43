"""After-connect routes (CONTRACT §4.8): the widget's, under `/v1/sources/{id}`, and the SaaS
backend's, under `/v1/end-users/{end_user_id}/sources/{id}`; same suffixes, same answers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.api.common import (
    Fields,
    json_object,
    json_response,
    path_int,
    require_api_key,
    require_session,
    services_of,
)
from bridge.api.server import tenant_param
from bridge.services import Services
from bridge.sources import render_source
from bridge.store.tables import SourceRow
from bridge.sync import SCHEDULE_PROPERTIES, Actor, set_paused, set_schedule, start_sync, stop_sync

Action = Callable[[Services, Actor, int, Request], Awaitable[SourceRow]]


async def _actor(request: Request) -> Actor:
    if "end_user_id" not in request.path_params:
        return Actor.widget(await require_session(request))
    require_api_key(request)
    return Actor(tenant_param(request), request.path_params["end_user_id"])


def _route(action: Action, status: int = 200) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        actor = await _actor(request)
        source_id = path_int(request, "source_id")
        row = await action(services_of(request), actor, source_id, request)
        return json_response({"source": render_source(row)}, status=status)

    return endpoint


async def _start(services: Services, actor: Actor, source_id: int, _: Request) -> SourceRow:
    return await start_sync(services, actor, source_id)


async def _stop(services: Services, actor: Actor, source_id: int, _: Request) -> SourceRow:
    return await stop_sync(services, actor, source_id)


async def _pause(services: Services, actor: Actor, source_id: int, _: Request) -> SourceRow:
    return await set_paused(services, actor, source_id, paused=True)


async def _unpause(services: Services, actor: Actor, source_id: int, _: Request) -> SourceRow:
    return await set_paused(services, actor, source_id, paused=False)


async def _schedule(
    services: Services, actor: Actor, source_id: int, request: Request
) -> SourceRow:
    actor.allow("schedule")  # before reading the body: a session without it learns nothing more
    body = await json_object(request)
    fields = Fields(body, SCHEDULE_PROPERTIES)
    values: dict[str, object] = {}
    frequency = body.get("frequency_in_minutes")
    if "frequency_in_minutes" in body:
        if isinstance(frequency, bool) or not isinstance(frequency, int):
            fields.problems["frequency_in_minutes"] = "must be an integer number of minutes"
        else:
            values["frequency_in_minutes"] = frequency
    for name in ("anchor_time", "cron_expression"):
        if name in body:
            value = fields.text(name, max_length=200) if body[name] is not None else None
            values[name] = value
    if not values and not fields.problems:
        fields.problems["frequency_in_minutes"] = (
            "give at least one of frequency_in_minutes, anchor_time, cron_expression"
        )
    fields.check()
    return await set_schedule(services, actor, source_id, values)


def _routes(prefix: str) -> list[Route]:
    return [
        Route(f"{prefix}/sync", _route(_start, 202), methods=["POST"]),
        Route(f"{prefix}/sync", _route(_stop, 202), methods=["DELETE"]),
        Route(f"{prefix}/schedule", _route(_schedule), methods=["PUT"]),
        Route(f"{prefix}/pause", _route(_pause), methods=["POST"]),
        Route(f"{prefix}/unpause", _route(_unpause), methods=["POST"]),
    ]


widget_routes = _routes("/v1/sources/{source_id}")
server_routes = _routes("/v1/end-users/{end_user_id}/sources/{source_id}")
