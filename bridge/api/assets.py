"""The widget's files: `/widget.js` (short-lived), `/widget.<version>.js` (immutable), `/widget.css`.

Bodies come built from the app's AssetCache (in its Services); a route only negotiates the encoding and the ETag.
"""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge.api.common import services_of
from bridge.assets import Asset, etag_matches, negotiate
from bridge.errors import BridgeError

# A page that names /widget.js picks up a new release within five minutes, revalidating by ETag.
SHORT_LIVED = "public, max-age=300"
# A versioned URL names one exact content, so caches may keep it for a year without asking.
IMMUTABLE = "public, max-age=31536000, immutable"


async def _asset(request: Request, name: str) -> Asset:
    cache = services_of(request).assets
    asset = cache.cached(name)
    if asset is None:
        # The first request builds it (about 0.2 s of compression) off the event loop.
        asset = await asyncio.to_thread(cache.get, name)
    return asset


def _respond(request: Request, asset: Asset, cache_control: str) -> Response:
    chosen = asset.representation(negotiate(request.headers.get("accept-encoding")))
    headers = {
        "ETag": chosen.etag,
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
        # Public files; CORS lets a page load them with crossorigin="anonymous", which SRI needs.
        "Access-Control-Allow-Origin": "*",
    }
    if etag_matches(request.headers.get("if-none-match"), chosen.etag):
        return Response(status_code=304, headers=headers)
    if chosen.encoding != "identity":
        headers["Content-Encoding"] = chosen.encoding
    return Response(chosen.body, media_type=asset.media_type, headers=headers)


async def widget_js(request: Request) -> Response:
    return _respond(request, await _asset(request, "widget.js"), SHORT_LIVED)


async def widget_versioned(request: Request) -> Response:
    asset = await _asset(request, "widget.js")
    if request.path_params["version"] != asset.version:
        # Never old or new content under a hash that names other content; and a replica that
        # does not have this version yet must not have its 404 cached.
        raise BridgeError(
            "not_found",
            "this bridge serves another version of the widget",
            headers={"Cache-Control": "no-store"},
        )
    return _respond(request, asset, IMMUTABLE)


async def widget_css(request: Request) -> Response:
    return _respond(request, await _asset(request, "widget.css"), SHORT_LIVED)


routes = [
    Route("/widget.js", widget_js, methods=["GET"]),
    Route("/widget.{version}.js", widget_versioned, methods=["GET"]),
    Route("/widget.css", widget_css, methods=["GET"]),
]
