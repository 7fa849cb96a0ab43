"""Pure ASGI middleware around every route (popup and provider ones too): faults, log, state file.

Pure ASGI rather than BaseHTTPMiddleware, so that `after` faults can run the real operation
and still answer with the fault, and so that nothing buffers streaming responses.
"""

from __future__ import annotations

import json
import time
from http import HTTPStatus
from typing import Any

import anyio
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..state.backend import EmulatorBackend
from ..state.controls import Fault
from ..state.persistence import write_atomically
from ..state.timefmt import iso

CONTROL_PREFIX = "/_emulator/"
MAX_LOGGED_BODY = 16_384


def _fault_body(fault: Fault, status: int) -> tuple[bytes, str]:
    if fault.body is None:
        try:
            reason = HTTPStatus(status).phrase.replace(" ", "")
        except ValueError:
            reason = "Error"
        body = {"error": reason, "data": {"message": "fault injected by the Stitch emulator"}}
        return json.dumps(body).encode(), "application/json"
    if isinstance(fault.body, str):
        guess = "text/html; charset=utf-8" if fault.body.lstrip().startswith("<") else "text/plain"
        return fault.body.encode(), fault.content_type or guess
    return json.dumps(fault.body).encode(), fault.content_type or "application/json"


async def _send_fault(send: Send, fault: Fault, status: int) -> None:
    body, content_type = _fault_body(fault, status)
    headers = [
        (b"content-type", content_type.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    if fault.retry_after is not None:
        headers.append((b"retry-after", fault.retry_after.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _drain(receive: Receive) -> None:
    """Read the request body the app never will, so that the request log still sees it."""
    while True:
        message = await receive()
        if message["type"] != "http.request" or not message.get("more_body", False):
            return


class FaultInjection:
    """Answers matching requests with the faults queued by `POST /_emulator/faults`."""

    def __init__(self, app: ASGIApp, backend: EmulatorBackend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        fault = self.backend.controls.take_fault(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        if not fault.after:
            await anyio.sleep(fault.delay)
            if fault.status is None:
                await self.app(scope, receive, send)
            else:
                await _drain(receive)
                await _send_fault(send, fault, fault.status)
            return
        # `after`: do the real work, drop its answer, then answer with the fault (a lost response).
        held: list[Message] = []

        async def hold(message: Message) -> None:
            held.append(message)

        await self.app(scope, receive, hold)
        await anyio.sleep(fault.delay)
        if fault.status is None:
            for message in held:
                await send(message)
        else:
            await _send_fault(send, fault, fault.status)


def _redact(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    return f"{scheme} {token[:6]}…" if token else scheme


class RequestLog:
    """Records method, path, status, time and body of every non-control request."""

    def __init__(self, app: ASGIApp, backend: EmulatorBackend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        status: list[int] = []
        started = time.perf_counter()
        # When the request arrived, on the emulator's clock: what Stitch counts a request by
        # (read after the answer, a clock moved meanwhile by a test would date it later).
        arrived = self.backend.clock.now()

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        async def recording_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        try:
            await self.app(scope, recording_receive, recording_send)
        finally:
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            raw = b"".join(chunks)[:MAX_LOGGED_BODY]
            self.backend.controls.log_request(
                {
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status[0] if status else None,
                    "time": iso(arrived),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "authorization": _redact(headers.get("authorization")),
                    "content_type": headers.get("content-type"),
                    "idempotency_key": headers.get("idempotency-key"),
                    "body": _decode_body(raw),
                }
            )


def _decode_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


class StatePersistence:
    """Saves the state file after any request that changed the emulator (`--state-file`)."""

    def __init__(self, app: ASGIApp, backend: EmulatorBackend, path: str) -> None:
        self.app = app
        self.backend = backend
        self.path = path
        self.saved = backend.revision

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)
        if scope["type"] == "http" and self.backend.revision != self.saved:
            self.saved = self.backend.revision
            # Serialise in the loop (consistent), write in a thread (no blocking I/O here).
            text = self.backend.dump_state()
            await anyio.to_thread.run_sync(write_atomically, self.path, text)
