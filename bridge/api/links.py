"""Hosted connect links: the API that makes them and the pages a link opens on any device."""

from __future__ import annotations

import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from bridge import links
from bridge.api.common import (
    NO_STORE,
    Fields,
    json_object,
    json_response,
    require_api_key,
    services_of,
)
from bridge.api.connect_fields import SCOPE_FIELDS, read_scope, require_tenant
from bridge.clock import iso
from bridge.connect_sessions import build_connect_session
from bridge.errors import BridgeError
from bridge.urls import origin_of, safe_return_url

CLAIM_COOKIE = "stitch_bridge_link"
UNAVAILABLE = {
    "in_use": (409, "This link is being used in another browser."),
    "used": (410, "This link has already been used."),
    "expired": (410, "This link has expired or does not exist."),
}


async def create_connect_link(request: Request) -> Response:
    require_api_key(request)
    services = services_of(request)
    fields = Fields(await json_object(request), (*SCOPE_FIELDS, "return_url", "expires_in"))
    scope = read_scope(fields)
    return_url = fields.text("return_url", max_length=2048)
    expires_in = fields.integer("expires_in", minimum=60, maximum=links.MAX_EXPIRES_IN)
    if return_url is not None and not safe_return_url(
        return_url, services.settings.allowed_origins
    ):
        fields.problems["return_url"] = "must be an http(s) URL on one of BRIDGE_ALLOWED_ORIGINS"
    require_tenant(fields, services.settings, scope)
    if fields.problems:
        # A bad return_url is the one problem the contract answers with a plain 400.
        variant = None if set(fields.problems) == {"return_url"} else "fields"
        raise BridgeError(
            "invalid_request",
            "some fields are not valid",
            variant=variant,
            details={"fields": fields.problems},
        )
    cs = await build_connect_session(services, scope.request(), tenant_connected=False)
    link = await links.create_link(
        services, cs, return_url=return_url, expires_in=expires_in or links.DEFAULT_EXPIRES_IN
    )
    return json_response(
        {"id": link.id, "url": link.url, "expires_at": iso(link.expires_at)},
        status=201,
        headers=NO_STORE,
    )


def _page_csp(request: Request) -> str:
    settings = services_of(request).settings
    stitch = " ".join(
        filter(None, {origin_of(settings.stitch_js_url), origin_of(settings.stitch_app_url)})
    )
    return (
        f"default-src 'none'; script-src 'self' {stitch}; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    )


def _page(title: str, body: str, request: Request, status: int = 200) -> Response:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/hosted.css"></head>'
        f'<body><main class="hosted">{body}</main></body></html>'
    )
    return HTMLResponse(
        document,
        status_code=status,
        headers={
            "Content-Security-Policy": _page_csp(request),
            "Cache-Control": "no-store",
            # The widget may open Stitch.js or OAuth popups and must keep its handle on them.
            "Cross-Origin-Opener-Policy": "unsafe-none",
        },
    )


async def open_connect_link(request: Request) -> Response:
    services = services_of(request)
    secret = request.path_params["secret"]
    visit = await links.open_link(services, secret, request.cookies.get(CLAIM_COOKIE))
    if visit.link is None:
        reason = visit.reason or "expired"
        status, text = UNAVAILABLE[reason]
        body = (
            f'<section data-testid="link-unavailable" data-reason="{reason}">'
            f"<h1>Link unavailable</h1><p>{html.escape(text)}</p>"
            "<p>Ask whoever sent it for a new link.</p></section>"
        )
        return _page("Link unavailable", body, request, status)
    base = f"/connect/{secret}"
    body = (
        f'<section class="card" data-testid="hosted-link" data-link-path="{html.escape(base)}"'
        f' data-bridge-url="{html.escape(services.settings.public_url)}"'
        f' data-source-id="{visit.link.source_id or ""}">'
        "<h1>Connect your data</h1>"
        '<p class="lede">Choose a source to connect. You can close this page once it says done.</p>'
        '<div class="types" data-testid="link-types"></div>'
        '<p class="status" data-testid="link-status" role="status"></p>'
        "</section>"
        '<script src="/widget.js"></script><script src="/hosted.js"></script>'
    )
    # No cookie here: only the page's own script claims the link (`link_claim`).
    return _page("Connect your data", body, request)


def _same_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin is not None and origin != origin_of(services_of(request).settings.public_url):
        raise BridgeError("origin_not_allowed", "this origin may not use the link")


async def link_claim(request: Request) -> Response:
    """The link page's script takes the link for this browser. Browsers send `Origin` on every
    POST, so one from the bridge's own origin is required: no other site can make a visitor's
    browser claim a link, and a fetch that is not the page's script (a preview) never gets here."""
    services = services_of(request)
    if request.headers.get("origin") != origin_of(services.settings.public_url):
        raise BridgeError("origin_not_allowed", "only the link's own page may claim it")
    secret = request.path_params["secret"]
    claim = await links.claim_link(services, secret, request.cookies.get(CLAIM_COOKIE))
    response = json_response({"claimed": True}, headers={"Cache-Control": "no-store"})
    if claim.cookie is not None:
        response.set_cookie(
            CLAIM_COOKIE,
            claim.cookie,
            max_age=max(1, int(claim.link.expires_at - services.clock.time())),
            path=f"/connect/{secret}",
            httponly=True,
            secure=services.settings.public_url.startswith("https://"),
            samesite="strict",
        )
    return response


async def link_session(request: Request) -> Response:
    _same_origin(request)
    services = services_of(request)
    link = await links.owned_link(
        services, request.path_params["secret"], request.cookies.get(CLAIM_COOKIE)
    )
    issued = links.link_session(services, link)
    return json_response(
        {"token": issued.token, "expires_at": iso(issued.expires_at)}, headers=NO_STORE
    )


async def link_complete(request: Request) -> Response:
    _same_origin(request)
    services = services_of(request)
    link = await links.owned_link(
        services, request.path_params["secret"], request.cookies.get(CLAIM_COOKIE)
    )
    fields = Fields(await json_object(request), ("receipt",))
    receipt = fields.text("receipt", required=True, max_length=4096)
    fields.check()
    redirect = await links.complete_link(services, link, receipt)
    return json_response({"redirect_url": redirect}, headers=NO_STORE)


routes = [
    Route("/v1/connect-links", create_connect_link, methods=["POST"]),
    Route("/connect/{secret}", open_connect_link, methods=["GET"]),
    Route("/connect/{secret}/claim", link_claim, methods=["POST"]),
    Route("/connect/{secret}/session", link_session, methods=["POST"]),
    Route("/connect/{secret}/complete", link_complete, methods=["POST"]),
]
