"""Operations routes: health, readiness, metrics, the API description and its page, small files."""

from __future__ import annotations

import html
from importlib import resources

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bridge.api import assets
from bridge.api.common import services_of
from bridge.api.openapi import build_openapi
from bridge.store.schema import ping

STATIC = resources.files("bridge") / "static"


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    services = services_of(request)
    try:
        await ping(services.engine)
    except Exception as error:  # any database failure means "not ready", never a 500
        return JSONResponse(
            {"status": "unavailable", "database": type(error).__name__}, status_code=503
        )
    return JSONResponse({"status": "ready", "database": "ok"})


async def metrics(request: Request) -> Response:
    return Response(
        generate_latest(services_of(request).metrics.registry),
        media_type=CONTENT_TYPE_LATEST,
    )


async def openapi_json(request: Request) -> Response:
    return JSONResponse(build_openapi(services_of(request).settings.public_url))


async def docs(request: Request) -> Response:
    spec = build_openapi(services_of(request).settings.public_url)
    sections = []
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            auth = op.get("security") or []
            who = (
                "API key" if auth and "apiKey" in auth[0] else "connect session" if auth else "none"
            )
            rows = "".join(
                f"<tr><td>{html.escape(status)}</td><td>{html.escape(r.get('description', ''))}</td></tr>"
                for status, r in op["responses"].items()
            )
            sections.append(
                f'<section class="op"><h2><span class="method">{method.upper()}</span> '
                f"<code>{html.escape(path)}</code></h2><p>{html.escape(op['summary'])}</p>"
                f"<p>Authentication: {who}</p><table><tr><th>Status</th><th>Meaning</th></tr>"
                f"{rows}</table></section>"
            )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        "<title>stitch-bridge API</title>"
        '<link rel="stylesheet" href="/docs.css"></head><body><main>'
        "<h1>stitch-bridge API</h1>"
        '<p>Machine-readable description: <a href="/openapi.json">/openapi.json</a>. '
        'Errors are <code>{"error": {"code", "message", "details"}}</code>.</p>'
        + "".join(sections)
        + "</main></body></html>"
    )
    return HTMLResponse(page)


def _static(name: str, media_type: str) -> Route:
    async def serve(request: Request) -> Response:
        body = (STATIC / name).read_bytes()
        return Response(
            body, media_type=media_type, headers={"Cache-Control": "public, max-age=300"}
        )

    return Route(f"/{name}", serve, methods=["GET"], name=name)


routes = [
    Route("/healthz", healthz, methods=["GET"]),
    Route("/readyz", readyz, methods=["GET"]),
    Route("/metrics", metrics, methods=["GET"]),
    Route("/openapi.json", openapi_json, methods=["GET"]),
    Route("/docs", docs, methods=["GET"]),
    _static("docs.css", "text/css"),
    *assets.routes,  # the widget's files: compressed, revalidated, versioned
    # The widget's TypeScript declarations (CONTRACT §9), for a page's own type checking.
    _static("widget.d.ts", "application/typescript; charset=utf-8"),
    _static("hosted.js", "text/javascript"),
    _static("hosted.css", "text/css"),
]
