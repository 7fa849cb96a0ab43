"""`POST /v3/accounts` (§2.3) and `POST /v3/sessions/ephemeral` (§2.5)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from .common import authenticate, read_json, reply


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    async def create_account(request: Request) -> Response:
        # Partner credentials travel in the body; there is no Authorization header.
        return reply(backend.create_account(await read_json(request)))

    async def create_ephemeral_session(request: Request) -> Response:
        account = authenticate(backend, request)
        return reply({"ephemeral_token": backend.create_ephemeral_token(account.id)})

    return [
        Route("/v3/accounts", create_account, methods=["POST"]),
        Route("/v3/sessions/ephemeral", create_ephemeral_session, methods=["POST"]),
    ]
