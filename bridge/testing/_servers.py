"""Loopback servers for the test kit: any ASGI app under uvicorn on a free 127.0.0.1 port, and
the webhook receiver that checks every delivery's signature."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from typing import Any

START_TIMEOUT = 20.0
MAX_BODY = 1024 * 1024

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


@contextlib.contextmanager
def serve(build: Callable[[str], Any]) -> Iterator[str]:
    """Serve the ASGI app `build(url)` makes on 127.0.0.1 from a background thread until the
    block ends; yields its URL. (The app learns its own URL first: a bridge's public URL.)"""
    import asyncio

    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    url = f"http://127.0.0.1:{port}"
    try:
        app = build(url)
    except BaseException:
        sock.close()
        raise
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])),
        name=f"stitch-bridge-testing-{port}",
        daemon=True,
    )
    thread.start()
    waiting = threading.Event()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        waiting.wait(0.01)
    try:
        if not server.started:
            raise RuntimeError(f"a test server for {type(app).__name__} did not start")
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@dataclass(frozen=True)
class Delivery:
    """One webhook delivery as it arrived: the raw `body` and `headers` (to replay into your
    own handler, signature and all) and the verified `event`."""

    body: bytes
    headers: dict[str, str]
    event: dict[str, Any]


@dataclass
class WebhookReceiver:
    """Receives the bridge's webhooks on `url` and keeps those whose signature verifies.

    `events` are the verified event bodies in arrival order, `deliveries` the same with their
    raw bytes and headers, `rejected` counts deliveries whose signature failed.
    """

    secret: str
    url: str = ""
    deliveries: list[Delivery] = field(default_factory=list)
    rejected: int = 0
    _changed: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def events(self) -> list[dict[str, Any]]:
        with self._changed:
            return [d.event for d in self.deliveries]

    def wait_for(
        self,
        type: str | None = None,
        *,
        source_id: int | None = None,
        timeout: float = 10.0,
    ) -> dict[str, Any]:
        """The first verified event of `type` (about `source_id`), waiting up to `timeout`
        seconds for it; `AssertionError` naming what did arrive when it does not."""

        def match(event: dict[str, Any]) -> bool:
            source = (event.get("data") or {}).get("source") or {}
            return (type is None or event.get("type") == type) and (
                source_id is None or source.get("id") == source_id
            )

        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [d.event for d in self.deliveries if match(d.event)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [d.event.get("type") for d in self.deliveries]
                    raise AssertionError(f"no {type or 'event'} arrived in {timeout} s; got {seen}")
                self._changed.wait(left)

    def _record(self, body: bytes, headers: dict[str, str]) -> int:
        from stitch_bridge_client import SignatureVerificationError, Webhook

        try:
            event = Webhook.verify(body, headers.get("bridge-signature", ""), self.secret)
        except SignatureVerificationError:
            with self._changed:
                self.rejected += 1
            return 400
        with self._changed:
            self.deliveries.append(Delivery(body=body, headers=headers, event=event))
            self._changed.notify_all()
        return 204

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The receiver as a bare ASGI app: POST anything, get 204 (verified) or 400."""
        if scope["type"] == "lifespan":
            while True:
                kind = (await receive())["type"]
                if kind == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
                await send({"type": "lifespan.startup.complete"})
        body = b""
        more = True
        while more and len(body) <= MAX_BODY:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        status = 405 if scope["method"] != "POST" else 413 if more else self._record(body, headers)
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b""})
