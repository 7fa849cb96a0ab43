"""`GET /v4/source-types[/{source_type}]` (§5.1)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from .common import authenticate, reply


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    async def list_source_types(request: Request) -> Response:
        authenticate(backend, request)
        return reply(backend.list_source_types())

    async def get_source_type(request: Request) -> Response:
        authenticate(backend, request)
        return reply(backend.get_source_type(request.path_params["source_type"]))

    return [
        Route("/v4/source-types", list_source_types, methods=["GET"]),
        Route("/v4/source-types/{source_type}", get_source_type, methods=["GET"]),
    ]
