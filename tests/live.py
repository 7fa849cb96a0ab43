"""Run an ASGI app under a real uvicorn server on a free loopback port, in a background thread."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import uvicorn


@dataclass
class LiveServer:
    url: str
    port: int
    server: uvicorn.Server
    thread: threading.Thread


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def serve(
    app: Any, *, port: int | None = None, lifespan: str = "on", http: str = "auto"
) -> Iterator[LiveServer]:
    """Serve `app` on 127.0.0.1 until the block ends; yields the server's base URL. `http`
    picks uvicorn's parser ("h11", the pure-Python one, accepts any method token)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port or 0))
    bound = int(sock.getsockname()[1])
    config = uvicorn.Config(
        app, lifespan=lifespan, log_level="warning", access_log=False, http=http
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]

    def run() -> None:
        asyncio.run(server.serve(sockets=[sock]))

    thread = threading.Thread(target=run, name=f"uvicorn-{bound}", daemon=True)
    thread.start()
    for _ in range(500):
        if server.started or not thread.is_alive():
            break
        threading.Event().wait(0.01)
    if not server.started:
        raise RuntimeError("live server did not start")
    try:
        yield LiveServer(url=f"http://127.0.0.1:{bound}", port=bound, server=server, thread=thread)
    finally:
        stop(LiveServer(url="", port=bound, server=server, thread=thread))
        sock.close()


def stop(*servers: LiveServer) -> None:
    """Stop servers at once: each takes a few tenths of a second (uvicorn looks at its exit flag
    every 0.1 s, then lets connections settle), spent side by side rather than one after the
    other. Stopping one already stopped does nothing."""
    for live in servers:
        live.server.should_exit = True
    for live in servers:
        live.thread.join(timeout=10)
