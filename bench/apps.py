"""The servers the benchmarks run besides the bridge, each in its own process under uvicorn.

`python -m bench.apps baseline --port P` — a bare Starlette JSON endpoint, served with exactly
the uvicorn settings `stitch-bridge serve` uses, as the yardstick for the bridge's throughput.
`python -m bench.apps emulator --port P --token T [--rate R --burst B] [--check-delay S]` — the
Stitch emulator, optionally behind a per-account rate limit that answers 429 + Retry-After (the
reference documents no limit on the endpoints the bridge calls, §8.1, so the burst benchmark sets
one); a long `--check-delay` keeps every source's connection check running for the whole run.
`python -m bench.apps bridge --port P` — the bridge from its `BRIDGE_*` environment, exactly as
`stitch-bridge serve` builds it, but with the event loop and HTTP parser named (`--loop`,
`--http`) so that both server stacks can be compared whatever is installed.

`--loop`/`--http` default to uvicorn's `auto` (uvloop and httptools when installed), which is
what `stitch-bridge serve` uses.
"""

from __future__ import annotations

import argparse
import json
import math
import threading
import time
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

BASELINE_ANSWER = {
    "id": "cs_0123456789abcdef",
    "token": "x" * 300,  # about the size of a connect-session token
    "expires_at": "2030-01-01T00:00:00Z",
}


def create_baseline_app() -> Starlette:
    """POST /echo: read a JSON body, answer 201 with a JSON object — no middleware, no work."""

    async def echo(request: Request) -> Response:
        await request.json()
        return JSONResponse(BASELINE_ANSWER, status_code=201)

    return Starlette(routes=[Route("/echo", echo, methods=["POST"])])


class RateLimit:
    """Token bucket per bearer token on the Stitch API paths; over the limit → 429 Retry-After."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        rate: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self.buckets: dict[bytes, tuple[float, float]] = {}
        self.refused = 0
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/_bench/limit":
            await JSONResponse({"refused": self.refused})(scope, receive, send)
            return
        if scope["type"] != "http" or not scope["path"].startswith(("/v3/", "/v4/")):
            await self.app(scope, receive, send)
            return
        key = dict(scope["headers"]).get(b"authorization", b"")
        wait = self._take(key)
        if wait > 0:
            body = json.dumps({"error": "TooManyRequests", "data": {"message": "rate limited"}})
            headers = [
                (b"content-type", b"application/json"),
                (b"retry-after", str(math.ceil(wait)).encode()),
            ]
            await send({"type": "http.response.start", "status": 429, "headers": headers})
            await send({"type": "http.response.body", "body": body.encode()})
            return
        await self.app(scope, receive, send)

    def _take(self, key: bytes) -> float:
        with self.lock:
            now = self.clock()
            tokens, updated = self.buckets.get(key, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
            if tokens >= 1:
                self.buckets[key] = (tokens - 1, now)
                return 0.0
            self.buckets[key] = (tokens, now)
            self.refused += 1
            return (1 - tokens) / self.rate


def create_limited_emulator(
    token: str, rate: float | None, burst: int, check_delay: float = 0.0
) -> ASGIApp:
    from stitch_emulator import EmulatorConfig
    from stitch_emulator import create_app as create_emulator

    # By default connection checks finish at once: most benchmarks measure the bridge, not the wait.
    app: ASGIApp = create_emulator(EmulatorConfig(token=token, check_delay=check_delay))
    if rate is not None:
        app = RateLimit(app, rate=rate, burst=burst)
    return app


def serve(app: ASGIApp, port: int, loop: str = "auto", http: str = "auto") -> None:
    """Run `app` as `stitch-bridge serve` runs the bridge (same uvicorn options)."""
    uvicorn.run(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
        loop=loop,
        http=http,
    )


def create_bridge_app() -> ASGIApp:
    """The bridge as `stitch-bridge serve` builds it (settings from the environment, logging)."""
    from bridge.app import create_app
    from bridge.logs import configure_logging
    from bridge.settings import Settings

    settings = Settings.from_env()
    configure_logging(settings.log_format, settings.secrets)
    return create_app(settings)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.apps")
    parser.add_argument("app", choices=("baseline", "emulator", "bridge"))
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", default="ac_" + "b" * 40)
    parser.add_argument("--rate", type=float, default=None)
    parser.add_argument("--burst", type=int, default=1)
    parser.add_argument("--check-delay", type=float, default=0.0)
    parser.add_argument("--loop", choices=("auto", "asyncio", "uvloop"), default="auto")
    parser.add_argument("--http", choices=("auto", "h11", "httptools"), default="auto")
    args = parser.parse_args()
    app: ASGIApp
    if args.app == "baseline":
        app = create_baseline_app()
    elif args.app == "bridge":
        app = create_bridge_app()
    else:
        app = create_limited_emulator(args.token, args.rate, args.burst, args.check_delay)
    serve(app, args.port, args.loop, args.http)


if __name__ == "__main__":
    main()
