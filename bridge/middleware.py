"""The bridge's one middleware: request ids and logging context, body limits, exact-origin CORS,
security headers, metrics and the last-resort 500, in one pass over each request.

Pure ASGI (not BaseHTTPMiddleware) so that context variables set here reach the route and its logs;
one layer rather than three because every layer costs a wrapped `send` and a header parse on the
hot paths (minting, widget polls).
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable

import structlog
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


class Edge:
    """Everything every request goes through before and after its route.

    In order: a request id (echoed when well-formed, else minted) bound to the logging context; a
    body whose declared or actual size passes `limit` is refused (`payload_too_large`); on `/v1/`,
    an `Origin` outside `allowed` is refused (`origin_not_allowed`), an allowed one gets CORS
    headers (no credentials: the widget authenticates with a bearer token) and its preflight is
    answered here; every answer carries the request id and the security headers; a route that
    raises gets `internal`. Then the request is counted by route template, method and status.
    """

    def __init__(
        self, app: ASGIApp, metrics: Metrics, allowed: Iterable[str], limit: int = MAX_BODY
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.allowed = frozenset(o.rstrip("/") for o in allowed)
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = _wanted_headers(scope)
        incoming = headers.get(b"x-request-id", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_id("req", 9)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        answer = _Answer(send, request_id)
        structlog.contextvars.bind_contextvars(request_id=request_id)
        try:
            await self._handle(scope, receive, answer, headers)
        except _TooLarge:
            await self._refuse(answer, self._too_large())
        except Exception:
            logging.getLogger("bridge.errors").exception(
                "unhandled error", extra={"request_id": request_id}
            )
            await self._refuse(
                answer, BridgeError("internal", f"internal error (request id {request_id})")
            )
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            elapsed = time.perf_counter() - started
            self.metrics.observe_request(template, scope["method"], answer.status, elapsed)
            structlog.contextvars.unbind_contextvars("request_id")

    async def _handle(
        self, scope: Scope, receive: Receive, answer: _Answer, headers: dict[bytes, str]
    ) -> None:
        if _declared_length(headers.get(b"content-length"), self.limit) > self.limit:
            await answer.error(self._too_large())
            return
        origin = headers.get(b"origin")
        if origin is not None and scope["path"].startswith("/v1/"):
            if origin not in self.allowed:
                error = BridgeError("origin_not_allowed", "this origin may not call the bridge")
                await answer.error(error)
                return
            answer.cors = _cors(origin)
            if scope["method"] == "OPTIONS" and b"access-control-request-method" in headers:
                await answer.preflight()
                return
        await self.app(scope, self._limited(receive), answer.send)

    def _limited(self, receive: Receive) -> Receive:
        """`receive`, refusing a body that grows past the limit whatever it declared."""
        received = 0

        async def receive_limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge()
            return message

        return receive_limited

    def _too_large(self) -> BridgeError:
        return BridgeError("payload_too_large", f"request bodies are limited to {self.limit} bytes")

    @staticmethod
    async def _refuse(answer: _Answer, error: BridgeError) -> None:
        if not answer.started:
            await answer.error(error)


class _TooLarge(Exception):
    pass


_WANTED = frozenset(
    (b"x-request-id", b"content-length", b"origin", b"access-control-request-method")
)


def _wanted_headers(scope: Scope) -> dict[bytes, str]:
    """The few request headers this layer reads, from the raw list (one pass, no Headers)."""
    found: dict[bytes, str] = {}
    for key, value in scope["headers"]:
        key = key.lower()
        if key in _WANTED and key not in found:
            found[key] = value.decode("latin-1")
    return found


def _declared_length(value: str | None, limit: int) -> int:
    if value is None:
        return 0
    try:
        return int(value)
    except ValueError:
        return limit + 1  # a length that is not a number is not trusted to be small


def _cors(origin: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"access-control-allow-origin", origin.encode("latin-1")),
        (b"vary", b"Origin"),
        (b"access-control-expose-headers", b"X-Request-ID, Retry-After"),
    ]


_PREFLIGHT = [
    (b"access-control-allow-methods", CORS_METHODS.encode()),
    (b"access-control-allow-headers", CORS_HEADERS.encode()),
    (b"access-control-max-age", b"600"),
]


class _Answer:
    """The response side of one request: adds the standard (and CORS) headers to whatever the
    route or this layer sends, and remembers the status for the metrics."""

    def __init__(self, send: Send, request_id: str) -> None:
        self._send = send
        self.request_id = request_id
        self.cors: list[tuple[bytes, bytes]] = []
        self.status = 500
        self.started = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
            self.status = message["status"]
            raw = _with_standard_headers(message.get("headers", []), self.request_id)
            if self.cors:
                names = {name for name, _ in self.cors}
                raw = [item for item in raw if item[0].lower() not in names] + self.cors
            message["headers"] = raw
        await self._send(message)

    async def error(self, error: BridgeError) -> None:
        await send_error(self.send, error, self.request_id)

    async def preflight(self) -> None:
        await self.send({"type": "http.response.start", "status": 204, "headers": _PREFLIGHT})
        await self.send({"type": "http.response.body", "body": b""})
