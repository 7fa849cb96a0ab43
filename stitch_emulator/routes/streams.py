"""Streams: list, a stream's schema, and `PUT …/streams/metadata` (§5.4)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from ..state.errors import bare
from .common import authenticate, read_json, reply


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    async def list_streams(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply(backend.list_streams(account.id, request.path_params["source_id"]))

    async def get_stream_schema(request: Request) -> Response:
        account = authenticate(backend, request)
        stream_id = request.path_params["stream_id"]
        if not stream_id.isdigit():
            raise bare(f"invalid stream-id: {stream_id}")
        source_id = request.path_params["source_id"]
        return reply(backend.get_stream_schema(account.id, source_id, int(stream_id)))

    async def update_stream_metadata(request: Request) -> Response:
        account = authenticate(backend, request)
        body = await read_json(request)
        source_id = request.path_params["source_id"]
        return reply(backend.update_stream_metadata(account.id, source_id, body))

    base = "/v4/sources/{source_id:int}/streams"
    return [
        Route(base, list_streams, methods=["GET"]),
        Route(base + "/metadata", update_stream_metadata, methods=["PUT"]),
        Route(base + "/{stream_id}", get_stream_schema, methods=["GET"]),
    ]
