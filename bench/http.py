"""A lean HTTP/1.1 keep-alive client for load, and the statistics of what it measured.

A general client (httpx) spends more time per request than the servers under test, which would
make the load generator the bottleneck on a two-core machine; this one does only what a JSON API
call needs: one request at a time per connection, Content-Length or chunked bodies.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from dataclasses import dataclass
from typing import Any


class HTTPError(Exception):
    pass


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    seconds: float

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive connection to 127.0.0.1:`port`."""

    def __init__(self, port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> Connection:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        self._reader = self._writer = None

    async def request(
        self,
        method: str,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        body: object = None,
    ) -> Reply:
        payload = b"" if body is None else json.dumps(body).encode()
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append("Content-Type: application/json")
        if payload or method in ("POST", "PUT"):
            lines.append(f"Content-Length: {len(payload)}")
        raw = ("\r\n".join(lines) + "\r\n\r\n").encode() + payload
        started = time.perf_counter()
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None and self._writer is not None
        self._writer.write(raw)
        status, reply_body, keep = await self._read(self._reader)
        elapsed = time.perf_counter() - started
        if not keep:
            await self.close()
        return Reply(status, reply_body, elapsed)

    async def _read(self, reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as error:
            raise HTTPError("connection closed before an answer") from error
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).strip(), 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            body = b"".join(chunks)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        return status, body, headers.get("connection", "").lower() != "close"


@dataclass(frozen=True)
class Latencies:
    """Percentiles in milliseconds."""

    count: int
    p50: float
    p90: float
    p99: float
    mean: float

    @classmethod
    def of(cls, seconds: list[float]) -> Latencies:
        if not seconds:
            return cls(0, float("nan"), float("nan"), float("nan"), float("nan"))
        ordered = sorted(s * 1000 for s in seconds)

        def at(fraction: float) -> float:
            return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

        return cls(len(ordered), at(0.50), at(0.90), at(0.99), statistics.fmean(ordered))


async def closed_loop(
    port: int,
    make_request: Any,
    *,
    connections: int,
    duration: float,
    warmup: float = 0.5,
) -> tuple[float, Latencies, int]:
    """`connections` clients each sending the next request as soon as the last is answered,
    for `warmup` + `duration` seconds; (requests per second, latencies, errors) of the
    measured part. `make_request(n)` → (method, path, headers, body)."""
    counter = 0
    errors = 0
    seconds: list[float] = []
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def client() -> None:
        nonlocal counter, errors
        async with Connection(port) as connection:
            while True:
                now = loop.time()
                if now >= stop_at:
                    return
                counter += 1
                method, path, headers, body = make_request(counter)
                reply = await connection.request(method, path, headers=headers, body=body)
                if now >= measure_from:
                    seconds.append(reply.seconds)
                    if reply.status >= 400:
                        errors += 1

    await asyncio.gather(*(client() for _ in range(connections)))
    return len(seconds) / duration, Latencies.of(seconds), errors
