"""`/_emulator/` test controls (CONTRACT §7): no auth, JSON bodies optional, writes are POST."""

from __future__ import annotations

import dataclasses
from typing import Any

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from ..state.controls import parse_fault
from ..state.errors import ApiError, not_found
from ..state.jobs import DEFAULT_MESSAGES, PHASES
from ..state.model import CheckScript, JobScript
from ..state.snapshot import public_config
from ..state.timefmt import iso
from .common import read_json, reply

SWITCHES = {"current_step_hints": bool, "rate_limit_jobs": bool, "cron_scheduling": bool}
PREFIX = "/_emulator"
NUMBERS = ("check_delay", "job_duration", "destination_limit")


def _bad(message: str) -> ApiError:
    return ApiError(400, {"error": "InvalidControl", "data": {"message": message}})


def _config_changes(body: dict[str, Any]) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for key, value in body.items():
        if key in SWITCHES and isinstance(value, bool):
            changes[key] = value
        elif key in NUMBERS and isinstance(value, int | float) and value >= 0:
            changes[key] = int(value) if key == "destination_limit" else float(value)
        elif key == "partner_redirect_uris" and isinstance(value, list):
            if not all(isinstance(uri, str) for uri in value):
                raise _bad("partner_redirect_uris must be a list of strings")
            changes[key] = tuple(value)
        else:
            raise _bad(f"cannot set {key!r} to {value!r}")
    return changes


def _check_script(body: dict[str, Any]) -> CheckScript:
    outcome = body.get("outcome", "success")
    if outcome not in ("success", "failure"):
        raise _bad("outcome must be 'success' or 'failure'")
    source_id, count = body.get("source_id"), body.get("count", 1)
    if source_id is not None and not isinstance(source_id, int):
        raise _bad("source_id must be an integer")
    if count is not None and (not isinstance(count, int) or count < 1):
        raise _bad("count must be a positive integer or null (every check)")
    message = body.get("discovery_error_message")
    return CheckScript(outcome, message, source_id, count)


def _job_script(body: dict[str, Any]) -> JobScript:
    """CONTRACT §7; the older `{"source_id", "tap_error"}` still means a tap failure."""
    source_id = body.get("source_id")
    if isinstance(source_id, bool) or not isinstance(source_id, int):
        raise _bad("source_id must be an integer")
    outcome = body.get("outcome", "failed")
    if outcome not in ("succeeded", "failed"):
        raise _bad("outcome must be 'succeeded' or 'failed'")
    phase, message = body.get("phase"), body.get("message", body.get("tap_error"))
    if "tap_error" in body and phase is None:
        phase = "tap"
    if outcome == "succeeded" and (phase is not None or message is not None):
        raise _bad("phase and message describe a failure: use them with outcome 'failed'")
    if phase is not None and phase not in PHASES:
        raise _bad("phase must be one of " + ", ".join(PHASES))
    if message is not None and (not isinstance(message, str) or not message):
        raise _bad("message must be a non-empty string")
    if outcome == "failed":
        phase = phase or "tap"
        message = message or DEFAULT_MESSAGES[phase]
    return JobScript(source_id, outcome, phase, message)


async def _body_of(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    return body


class _Controls:
    """The handlers, bound to one backend."""

    def __init__(self, backend: EmulatorBackend) -> None:
        self.backend = backend

    async def reset(self, request: Request) -> Response:
        self.backend.reset()
        return reply({"status": "reset"})

    async def add_fault(self, request: Request) -> Response:
        try:
            fault = parse_fault(await _body_of(request))
        except ValueError as error:
            raise _bad(str(error)) from None
        self.backend.controls.add_fault(fault)
        return reply({"faults": self.backend.controls.faults()})

    async def clear_faults(self, request: Request) -> Response:
        self.backend.controls.clear_faults()
        return reply({"faults": []})

    async def list_faults(self, request: Request) -> Response:
        return reply({"faults": self.backend.controls.faults()})

    async def list_requests(self, request: Request) -> Response:
        return reply({"requests": self.backend.controls.requests()})

    async def clear_requests(self, request: Request) -> Response:
        self.backend.controls.clear_requests()
        return reply({"requests": []})

    async def state(self, request: Request) -> Response:
        return reply(self.backend.snapshot())

    async def authorize(self, request: Request) -> Response:
        source_id = request.path_params["source_id"]
        owner = self.backend.source_owner(source_id)
        if owner is None:
            raise not_found(f"source not found ({source_id})")
        return reply(self.backend.authorize_source(owner, source_id))

    async def clock(self, request: Request) -> Response:
        advance = (await _body_of(request)).get("advance", 0)
        if not isinstance(advance, int | float) or advance < 0:
            raise _bad("advance must be a non-negative number of seconds")
        self.backend.clock.advance(float(advance))
        return await self.now(request)

    async def now(self, request: Request) -> Response:
        return reply({"now": iso(self.backend.clock.now()), "frozen": self.backend.clock.frozen})

    async def script_check(self, request: Request) -> Response:
        self.backend.script_check(_check_script(await _body_of(request)))
        return reply({"check_scripts": self.backend.check_scripts()})

    async def script_job(self, request: Request) -> Response:
        script = _job_script(await _body_of(request))
        self.backend.script_job(script)
        return reply(dataclasses.asdict(script))

    async def clear_job_scripts(self, request: Request) -> Response:
        self.backend.clear_job_scripts()
        return reply({"job_scripts": []})

    async def clear_check_scripts(self, request: Request) -> Response:
        self.backend.clear_check_scripts()
        return reply({"check_scripts": []})

    async def configure(self, request: Request) -> Response:
        self.backend.configure(**_config_changes(await _body_of(request)))
        return await self.show_config(request)

    async def show_config(self, request: Request) -> Response:
        return reply(public_config(self.backend.config))

    async def add_account(self, request: Request) -> Response:
        body = await _body_of(request)
        suffix = self.backend.world.next_ids.get("account", 0)
        owner = {
            "email": str(body.get("email") or f"account-{suffix}@emulator.stitch.invalid"),
            "first_name": str(body.get("first_name") or "Test"),
            "last_name": str(body.get("last_name") or "Owner"),
            "company": str(body.get("company") or "Test company"),
        }
        account = self.backend.add_account(owner)
        return reply({"id": account.id, "access_token": account.access_tokens[0]})

    async def extraction_log(self, request: Request) -> Response:
        text = self.backend.extraction_log_text(request.path_params["job_name"])
        if text is None:
            raise not_found("no such job")
        return PlainTextResponse(text)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(f"{PREFIX}/reset", self.reset, methods=["POST"]),
            Route(f"{PREFIX}/faults", self.add_fault, methods=["POST"]),
            Route(f"{PREFIX}/faults", self.clear_faults, methods=["DELETE"]),
            Route(f"{PREFIX}/faults", self.list_faults, methods=["GET"]),
            Route(f"{PREFIX}/requests", self.list_requests, methods=["GET"]),
            Route(f"{PREFIX}/requests", self.clear_requests, methods=["DELETE"]),
            Route(f"{PREFIX}/state", self.state, methods=["GET"]),
            Route(
                f"{PREFIX}/sources/{{source_id:int}}/authorize", self.authorize, methods=["POST"]
            ),
            Route(f"{PREFIX}/clock", self.clock, methods=["POST"]),
            Route(f"{PREFIX}/clock", self.now, methods=["GET"]),
            Route(f"{PREFIX}/checks", self.script_check, methods=["POST"]),
            Route(f"{PREFIX}/checks", self.clear_check_scripts, methods=["DELETE"]),
            Route(f"{PREFIX}/jobs", self.script_job, methods=["POST"]),
            Route(f"{PREFIX}/jobs", self.clear_job_scripts, methods=["DELETE"]),
            Route(f"{PREFIX}/config", self.configure, methods=["POST"]),
            Route(f"{PREFIX}/config", self.show_config, methods=["GET"]),
            Route(f"{PREFIX}/accounts", self.add_account, methods=["POST"]),
            Route(
                f"{PREFIX}/extraction-logs/{{job_name}}",
                self.extraction_log,
                methods=["GET"],
                name="extraction_log",
            ),
        ]


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    return _Controls(backend).routes()
