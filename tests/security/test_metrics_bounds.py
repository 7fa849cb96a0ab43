"""/metrics stays bounded whatever strangers send: unknown methods and unmatched paths share labels."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from bridge.app import create_app
from bridge.clock import ManualClock
from tests.bridge.conftest import Stack, make_settings
from tests.live import free_port, serve


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    """A bridge behind uvicorn's pure-Python parser, which passes any method token to the app
    (httptools, the default where installed, refuses unknown methods before the app sees them;
    the app must stay bounded under either)."""
    port = free_port()
    settings = make_settings("http://127.0.0.1:9", port, tmp_path / "bridge.db")
    clock = ManualClock()
    with serve(create_app(settings, clock=clock), port=port, http="h11") as bridge:
        yield Stack(bridge.url, "http://127.0.0.1:9", settings, clock, tmp_path / "bridge.db")


def series(stack: Stack) -> set[str]:
    """Every time series /metrics exposes, by name and labels (values left out)."""
    text = httpx.get(f"{stack.bridge_url}/metrics").text
    return {line.rsplit(" ", 1)[0] for line in text.splitlines() if line and line[0] != "#"}


def read_response(stream: socket.socket, buffer: bytes) -> tuple[bytes, bytes]:
    """One HTTP/1.1 response (status line and body by Content-Length) and what follows it."""
    while b"\r\n\r\n" not in buffer:
        chunk = stream.recv(65536)
        assert chunk, "the bridge closed the connection"
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(rest) < length:
        chunk = stream.recv(65536)
        assert chunk, "the bridge closed the connection"
        rest += chunk
    return head.split(b"\r\n", 1)[0], rest[length:]


def send_junk(stack: Stack, count: int, start: int = 0) -> set[bytes]:
    """`count` requests with distinct made-up methods, half of them to a real route and half to
    distinct paths no route matches, pipelined in batches on one connection; their statuses."""
    address = urlsplit(stack.bridge_url)
    statuses = set()
    with socket.create_connection((address.hostname, address.port), timeout=30) as stream:
        leftover = b""
        for batch in range(start, start + count, 100):
            indexes = range(batch, min(batch + 100, start + count))
            stream.sendall(b"".join(junk_request(index) for index in indexes))
            for _ in indexes:
                status, leftover = read_response(stream, leftover)
                statuses.add(status.split(b" ")[1])
    return statuses


def junk_request(index: int) -> bytes:
    path = "/v1/session" if index % 2 else f"/no-such-page-{index}"
    return f"JUNK{index}X {path} HTTP/1.1\r\nHost: bridge\r\nContent-Length: 0\r\n\r\n".encode()


def test_a_thousand_made_up_methods_and_paths_add_no_series_to_metrics(stack: Stack) -> None:
    send_junk(stack, 2)  # the shared "other" and "unmatched" series exist from now on
    series(stack)  # and the series of /metrics itself
    before = series(stack)
    statuses = send_junk(stack, 1000, start=2)
    after = series(stack)
    assert statuses <= {b"404", b"405"}
    assert after == before, f"new series: {sorted(after - before)[:5]}"
    assert any('method="other"' in line and 'route="unmatched"' in line for line in after)
