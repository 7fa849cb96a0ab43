"""The network under the Stitch client: httpx's interface, aiohttp's wire.

Every widget poll makes a call to Stitch, and httpx's own connection pool (httpcore and h11,
both pure Python) cost about 0.3 ms of CPU a call where aiohttp's C parser and pool cost about
0.1 ms. The client keeps speaking httpx (its requests, responses, errors, and the transports
tests plug in), and this transport carries its calls over aiohttp when nothing else is given.

aiohttp's errors become httpx's by what they say about the request, because the client's retry
rule depends on it: only a call that never reached Stitch (no connection, no pooled connection in
time) may be sent again whatever its method. A connection Stitch closed after the request was
written is a protocol error, never "not sent", so a create is not repeated blindly.
"""

from __future__ import annotations

import functools
import ssl
from typing import Any

import aiohttp
import certifi
import httpx

# Most specific first: the first class an error is an instance of decides.
_ERRORS: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ClientConnectorError, httpx.ConnectError),  # refused, unreachable, DNS: never sent
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),  # no connection in time: never sent
    (aiohttp.SocketTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientResponseError, httpx.RemoteProtocolError),  # not HTTP, or malformed
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
    (aiohttp.NonHttpUrlClientError, httpx.UnsupportedProtocol),
    (aiohttp.ClientError, httpx.NetworkError),  # reset mid-call and the rest: it may have been sent
)


@functools.lru_cache(maxsize=64)
def _client_timeout(
    pool: float | None, connect: float | None, read: float | None
) -> aiohttp.ClientTimeout:
    return aiohttp.ClientTimeout(total=None, connect=pool, sock_connect=connect, sock_read=read)


def httpx_error(exc: aiohttp.ClientError, request: httpx.Request) -> httpx.TransportError:
    """The httpx error that says what `exc` says about whether `request` reached the server."""
    kind = next(to for cls, to in _ERRORS if isinstance(exc, cls))
    return kind(str(exc) or type(exc).__name__, request=request)


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport over one aiohttp session (made at the first call, in its event loop).

    Answers are read whole (Stitch's are small JSON bodies) and handed to httpx still encoded,
    so that httpx decodes them exactly as with its own transport. `limit` bounds the open
    connections; idle ones are kept `keepalive` seconds. `trust_env` lets HTTP(S)_PROXY and
    NO_PROXY apply.
    """

    def __init__(
        self, *, trust_env: bool = False, limit: int = 100, keepalive: float = 5.0
    ) -> None:
        self._trust_env = trust_env
        self._limit = limit
        self._keepalive = keepalive
        self._session: aiohttp.ClientSession | None = None

    def _open(self) -> aiohttp.ClientSession:
        if self._session is None:
            connector = aiohttp.TCPConnector(
                limit=self._limit,
                keepalive_timeout=self._keepalive,
                ssl=ssl.create_default_context(cafile=certifi.where()),
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                trust_env=self._trust_env,
                auto_decompress=False,
                skip_auto_headers=("User-Agent",),
            )
        return self._session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout: dict[str, Any] = request.extensions.get("timeout", {})
        try:
            async with self._open().request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                timeout=_client_timeout(
                    timeout.get("pool"), timeout.get("connect"), timeout.get("read")
                ),
            ) as answer:
                body = await answer.read()
        except aiohttp.ClientError as exc:
            raise httpx_error(exc, request) from None
        return httpx.Response(
            answer.status,
            headers=answer.raw_headers,
            content=body,
            request=request,
            extensions={"http_version": b"HTTP/1.1"},
        )

    async def aclose(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()
