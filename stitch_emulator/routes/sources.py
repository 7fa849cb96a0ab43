"""`/v4/sources` create, list, get, update, delete (§5.2) and the last connection check (§5.3)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from .common import authenticate, read_json, reply


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    async def create_source(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply(backend.create_source(account.id, await read_json(request)))

    async def list_sources(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply(backend.list_sources(account.id))

    async def get_source(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply(backend.get_source(account.id, request.path_params["source_id"]))

    async def update_source(request: Request) -> Response:
        account = authenticate(backend, request)
        body = await read_json(request)
        return reply(backend.update_source(account.id, request.path_params["source_id"], body))

    async def delete_source(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply(backend.delete_source(account.id, request.path_params["source_id"]))

    async def get_last_connection_check(request: Request) -> Response:
        account = authenticate(backend, request)
        source_id = request.path_params["source_id"]
        return reply(backend.get_last_connection_check(account.id, source_id))

    return [
        Route("/v4/sources", list_sources, methods=["GET"]),
        Route("/v4/sources", create_source, methods=["POST"]),
        Route("/v4/sources/{source_id:int}", get_source, methods=["GET"]),
        Route("/v4/sources/{source_id:int}", update_source, methods=["PUT"]),
        Route("/v4/sources/{source_id:int}", delete_source, methods=["DELETE"]),
        Route(
            "/v4/sources/{source_id:int}/last-connection-check",
            get_last_connection_check,
            methods=["GET"],
        ),
    ]
