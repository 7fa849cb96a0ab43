"""Destination types and v4 destinations (§5.7)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from .common import authenticate, read_json, reply


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    async def list_destination_types(request: Request) -> Response:
        authenticate(backend, request)
        return reply(backend.list_destination_types())

    async def get_destination_type(request: Request) -> Response:
        authenticate(backend, request)
        return reply(backend.get_destination_type(request.path_params["destination_type"]))

    async def create_destination(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply(backend.create_destination(account.id, await read_json(request)))

    async def list_destinations(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply(backend.list_destinations(account.id, dict(request.query_params)))

    async def update_destination(request: Request) -> Response:
        account = authenticate(backend, request)
        body = await read_json(request)
        destination_id = request.path_params["destination_id"]
        return reply(backend.update_destination(account.id, destination_id, body))

    async def delete_destination(request: Request) -> Response:
        account = authenticate(backend, request)
        destination_id = request.path_params["destination_id"]
        return reply(backend.delete_destination(account.id, destination_id))

    item = "/v4/destinations/{destination_id:int}"
    return [
        Route("/v4/destination-types", list_destination_types, methods=["GET"]),
        Route("/v4/destination-types/{destination_type}", get_destination_type, methods=["GET"]),
        Route("/v4/destinations", list_destinations, methods=["GET"]),
        Route("/v4/destinations", create_destination, methods=["POST"]),
        Route(item, update_destination, methods=["PUT"]),
        Route(item, delete_destination, methods=["DELETE"]),
    ]
