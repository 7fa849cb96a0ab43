"""Replication jobs (§5.5) and the rate-limited extractions and loads (§5.6, §8)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from .common import authenticate, int_param, reply


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    async def start_replication_job(request: Request) -> Response:
        account = authenticate(backend, request)
        source_id = request.path_params["source_id"]
        return reply(backend.start_replication_job(account.id, source_id))

    async def stop_replication_job(request: Request) -> Response:
        account = authenticate(backend, request)
        source_id = request.path_params["source_id"]
        return reply(backend.stop_replication_job(account.id, source_id))

    async def list_extractions(request: Request) -> Response:
        account = authenticate(backend, request)
        client_id, page = request.path_params["client_id"], int_param(request, "page", 1)
        return reply(backend.list_extractions(account.id, client_id, page))

    async def get_extraction_logs(request: Request) -> Response:
        account = authenticate(backend, request)
        job = backend.get_extraction_logs(
            account.id, request.path_params["client_id"], request.path_params["job_name"]
        )
        # Stitch answers with a pre-signed download URL; ours is served under /_emulator/.
        location = str(request.url_for("extraction_log", job_name=job))
        return RedirectResponse(location, status_code=302)

    async def list_loads(request: Request) -> Response:
        account = authenticate(backend, request)
        client_id, page = request.path_params["client_id"], int_param(request, "page", 1)
        return reply(backend.list_loads(account.id, client_id, page))

    return [
        Route("/v4/sources/{source_id:int}/sync", start_replication_job, methods=["POST"]),
        Route("/v4/sources/{source_id:int}/sync", stop_replication_job, methods=["DELETE"]),
        Route("/v4/{client_id:int}/extractions", list_extractions, methods=["GET"]),
        Route("/v4/{client_id:int}/extractions/{job_name}", get_extraction_logs, methods=["GET"]),
        Route("/v4/{client_id:int}/loads", list_loads, methods=["GET"]),
    ]
