"""The Stitch client's own network path (aiohttp under httpx's interface), against real sockets:
answers arrive as Stitch sent them, and every failure says truthfully whether the request may
have reached Stitch, since that decides whether a create is sent twice."""

from __future__ import annotations

import asyncio
import gzip
import json
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from bridge.stitch import StitchClient, StitchTransportError
from bridge.stitch.retry import RetryPolicy
from bridge.stitch.wire import AiohttpTransport
from tests.live import free_port

TOKEN = "ac_wire_test_token_0123456789abcdef"
Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A loopback TCP server that answers with whatever `handler` writes; counts requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []
        self.connections = 0
        self.port = 0

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                await self.handler(reader, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(handler: Handler) -> Server:
        server = Server(handler)
        listening = await asyncio.start_server(server._serve, "127.0.0.1", 0)
        server.port = listening.sockets[0].getsockname()[1]
        servers.append(listening)
        return server

    yield start
    for listening in servers:
        listening.close()


def answer(status: int, body: bytes, *headers: str) -> Handler:
    async def handler(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        lines = [f"HTTP/1.1 {status} X", f"Content-Length: {len(body)}", *headers]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        await writer.drain()

    return handler


async def hang_up(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.close()  # the request was read: Stitch may have acted on it


def client(url: str, attempts: int = 3) -> StitchClient:
    policy = RetryPolicy(attempts=attempts, base=0.0, cap=0.0, deadline=5.0)
    return StitchClient(url, retry=policy, timeout=httpx.Timeout(2.0))


async def test_an_answer_arrives_decoded_and_the_call_carries_its_headers(serve) -> None:
    body = gzip.compress(json.dumps([{"type": "platform.recurly"}]).encode())
    server = await serve(
        answer(200, body, "Content-Type: application/json", "Content-Encoding: gzip")
    )
    async with client(server.url) as stitch:
        listed = await stitch.call("GET", "/v4/source-types", key="k", bearer=TOKEN)
    assert listed == [{"type": "platform.recurly"}]
    sent = server.requests[0].decode().lower()
    assert sent.startswith("get /v4/source-types http/1.1")
    assert f"authorization: bearer {TOKEN}".lower() in sent
    assert "user-agent: stitch-bridge/" in sent
    assert "accept: application/json" in sent


async def test_a_json_body_is_sent_whole(serve) -> None:
    server = await serve(answer(200, b'{"id": 7}', "Content-Type: application/json"))
    async with client(server.url) as stitch:
        created = await stitch.call(
            "POST", "/v4/sources", key="k", bearer=TOKEN, json_body={"type": "platform.recurly"}
        )
    assert created == {"id": 7}
    assert server.requests[0].endswith(b'{"type":"platform.recurly"}')


async def test_keep_alive_serves_several_calls_on_one_connection(serve) -> None:
    server = await serve(answer(200, b"{}", "Content-Type: application/json"))
    async with client(server.url) as stitch:
        for _ in range(5):
            assert await stitch.call("GET", "/v4/sources/1", key="k", bearer=TOKEN) == {}
    assert (server.connections, len(server.requests)) == (1, 5)


async def test_a_refused_connection_never_sent_anything_so_even_a_create_is_tried_again() -> None:
    port = free_port()  # nobody listens
    async with client(f"http://127.0.0.1:{port}") as stitch:
        with pytest.raises(StitchTransportError) as raised:
            await stitch.call("POST", "/v4/sources", key="k", bearer=TOKEN, json_body={})
    assert "ConnectError" in str(raised.value)
    assert TOKEN not in str(raised.value)


async def test_a_hang_up_after_the_request_is_not_retried_for_a_create(serve) -> None:
    server = await serve(hang_up)
    async with client(server.url) as stitch:
        with pytest.raises(StitchTransportError) as raised:
            await stitch.call("POST", "/v4/sources", key="k", bearer=TOKEN, json_body={})
    assert "RemoteProtocolError" in str(raised.value)
    assert len(server.requests) == 1  # sent once: Stitch may have made the source


async def test_a_hang_up_is_retried_for_a_read(serve) -> None:
    server = await serve(hang_up)
    async with client(server.url, attempts=3) as stitch:
        with pytest.raises(StitchTransportError):
            await stitch.call("GET", "/v4/sources/7", key="k", bearer=TOKEN)
    # Three attempts; aiohttp itself also sends a read once more on a dropped connection.
    assert len(server.requests) in (3, 6)


async def test_a_silent_server_is_a_read_timeout(serve) -> None:
    async def silent(reader: asyncio.StreamReader, _writer: asyncio.StreamWriter) -> None:
        await reader.read()  # never answers

    server = await serve(silent)
    transport = AiohttpTransport()
    try:
        request = httpx.Request(
            "GET",
            f"{server.url}/v4/sources/7",
            extensions={"timeout": httpx.Timeout(0.3).as_dict()},
        )
        with pytest.raises(httpx.ReadTimeout):
            await transport.handle_async_request(request)
    finally:
        await transport.aclose()


async def test_an_answer_that_is_not_http_is_a_protocol_error(serve) -> None:
    async def garbage(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await serve(garbage)
    transport = AiohttpTransport()
    try:
        with pytest.raises(httpx.RemoteProtocolError):
            await transport.handle_async_request(httpx.Request("GET", f"{server.url}/x"))
    finally:
        await transport.aclose()


async def test_closing_an_unused_transport_is_harmless() -> None:
    await AiohttpTransport().aclose()
