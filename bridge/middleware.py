"""Pure ASGI middleware: request ids and logging context, size limits, origins, headers, metrics.

Pure ASGI (not BaseHTTPMiddleware) so that context variables set here reach the route and its logs.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridge.clock import new_id
from bridge.errors import BridgeError
from bridge.metrics import Metrics

log = structlog.get_logger("bridge.http")
MAX_BODY = 1024 * 1024
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
CORS_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Request-ID"
CORS_METHODS = "GET, POST, PUT, DELETE, OPTIONS"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "strict-origin-when-cross-origin",
    "x-frame-options": "DENY",
    "cross-origin-resource-policy": "cross-origin",
}
HTML_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
API_CSP = "default-src 'none'; frame-ancestors 'none'"


async def send_error(send: Send, error: BridgeError, request_id: str | None) -> None:
    body = json.dumps(error.body()).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if request_id:
        headers.append((b"x-request-id", request_id.encode()))
    headers.extend((k.lower().encode(), v.encode()) for k, v in error.headers.items())
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


_SECURITY_RAW = tuple((k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items())
_HTML_CSP_RAW = HTML_CSP.encode()
_API_CSP_RAW = API_CSP.encode()


def _with_standard_headers(
    headers: list[tuple[bytes, bytes]], request_id: str
) -> list[tuple[bytes, bytes]]:
    """The request id, and the security headers a response did not set itself (on the hot path
    of every request, so raw bytes rather than a headers object)."""
    raw = [(k, v) for k, v in headers if k.lower() != b"x-request-id"]
    present = {k.lower() for k, _ in raw}
    raw.append((b"x-request-id", request_id.encode()))
    raw.extend(item for item in _SECURITY_RAW if item[0] not in present)
    if b"content-security-policy" not in present:
        is_html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in raw)
        raw.append((b"content-security-policy", _HTML_CSP_RAW if is_html else _API_CSP_RAW))
    return raw


class RequestContext:
    """Request id (echoed or minted), logging context, security headers, metrics, last resort 500."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get("x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_id("req", 9)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        response_started = False
        structlog.contextvars.bind_contextvars(request_id=request_id)

        async def send_wrapped(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message["headers"] = _with_standard_headers(message.get("headers", []), request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapped)
        except Exception:
            logging.getLogger("bridge.errors").exception(
                "unhandled error", extra={"request_id": request_id}
            )
            if not response_started:
                await send_error(
                    send_wrapped,
                    BridgeError("internal", f"internal error (request id {request_id})"),
                    request_id,
                )
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(template, scope["method"], status, elapsed)
            structlog.contextvars.unbind_contextvars("request_id")


class BodyLimit:
    """Refuse bodies over the limit before the route reads them (and if they lie about size)."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = scope.get("state", {}).get("request_id")
        too_large = BridgeError(
            "payload_too_large", f"request bodies are limited to {self.limit} bytes"
        )
        length = Headers(scope=scope).get("content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                declared = self.limit + 1
            if declared > self.limit:
                await send_error(send, too_large, request_id)
                return
        received = 0
        refused = False

        async def receive_limited() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    refused = True
                    raise _TooLarge()
            return message

        try:
            await self.app(scope, receive_limited, send)
        except _TooLarge:
            await send_error(send, too_large, request_id)


class _TooLarge(Exception):
    pass


class OriginGate:
    """Exact-origin CORS for `/v1/`: allowed origins get CORS headers; any other Origin is refused.

    No credentials (cookies) are ever allowed; the widget authenticates with a bearer token.
    """

    def __init__(self, app: ASGIApp, allowed: Iterable[str]) -> None:
        self.app = app
        self.allowed = frozenset(o.rstrip("/") for o in allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        request_id = scope.get("state", {}).get("request_id")
        if origin is None:
            await self.app(scope, receive, send)  # not a browser's cross-origin call
            return
        if origin not in self.allowed:
            await send_error(
                send,
                BridgeError("origin_not_allowed", "this origin may not call the bridge"),
                request_id,
            )
            return
        cors = {
            "access-control-allow-origin": origin,
            "vary": "Origin",
            "access-control-expose-headers": "X-Request-ID, Retry-After",
        }
        if scope["method"] == "OPTIONS" and "access-control-request-method" in headers:
            preflight = {
                **cors,
                "access-control-allow-methods": CORS_METHODS,
                "access-control-allow-headers": CORS_HEADERS,
                "access-control-max-age": "600",
            }
            raw: list[tuple[bytes, bytes]] = [
                (k.encode(), v.encode()) for k, v in preflight.items()
            ]
            await send({"type": "http.response.start", "status": 204, "headers": raw})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in cors.items():
                    response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)
