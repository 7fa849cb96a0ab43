"""Acme Analytics' web app: the page, its backend calls to the bridge, CSP reports."""

from __future__ import annotations

import contextlib
import html
import json
from collections.abc import AsyncIterator
from importlib import resources
from string import Template
from typing import Any
from urllib.parse import urlencode

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from demo_site.config import TYPE_NAMES, DemoConfig
from demo_site.events import event_routes
from demo_site.security import CspReports, SecurityHeaders, reports_in
from demo_site.signin import MAX_BODY, USER_ID, SignIn, bridge_error
from demo_site.signin import error as _error
from demo_site.webhooks import Deliveries, webhook_receiver
from stitch_bridge_client import AsyncClient, BridgeError

PACKAGE = resources.files("demo_site")
# How the page's widget runs steps that leave the page (`?mode=`), CONTRACT §4.7.
WIDGET_MODES = ("auto", "popup", "redirect")
# What the end user may do with a connected source from the page (CONTRACT §4.8).
AFTER_CONNECT_ACTIONS = ("sync", "schedule", "pause")


def create_app(
    config: DemoConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """The demo site as an ASGI app. `transport` replaces the network to the bridge (tests).

    Every call to the bridge goes through the Python client (`stitch_bridge_client`), as a
    SaaS backend's would.
    """
    page = Template((PACKAGE / "templates" / "index.html").read_text(encoding="utf-8"))
    events_page = Template((PACKAGE / "templates" / "events.html").read_text(encoding="utf-8"))
    signin = SignIn(config.secret_key)
    reports = CspReports()
    deliveries = Deliveries()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        async with AsyncClient(
            config.bridge_url, config.bridge_api_key, timeout=30.0, transport=transport
        ) as bridge:
            yield {"bridge": bridge}

    signed_in_user = signin.user

    def end_user(user: str) -> dict[str, str]:
        return {"id": user, "name": user.capitalize(), "email": f"{user.lower()}@acme.example"}

    async def home(request: Request) -> Response:
        user = request.query_params.get("user") or config.default_user
        if not USER_ID.match(user):
            return HTMLResponse("user ids are 1-64 letters, digits, '.', '_' or '-'", 400)
        mode = request.query_params.get("mode", "auto")
        buttons = "".join(
            f'<button type="button" class="connect" data-testid="connect-{html.escape(t)}" '
            f'data-type="{html.escape(t)}" disabled>Connect '
            f"{html.escape(TYPE_NAMES.get(t, t))}</button>"
            for t in config.source_types
        )
        body = page.substitute(
            bridge_url=html.escape(config.browser_bridge_url),
            widget_path=html.escape(config.widget_path),
            widget_integrity=(
                f' integrity="{html.escape(config.widget_integrity)}" crossorigin="anonymous"'
                if config.widget_integrity
                else ""
            ),
            user_id=html.escape(user),
            user_name=html.escape(user.capitalize()),
            user_token=html.escape(signin.token(user)),
            connect_buttons=buttons,
            widget_mode=mode if mode in WIDGET_MODES else "auto",
            events_url=html.escape("/events?" + urlencode({"user": user})),
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    async def stitch_session(request: Request) -> Response:
        """Mint a connect session for the signed-in user (the widget's `fetchSession`)."""
        user = signed_in_user(request)
        if user is None:
            return _error(401, "unauthorized", "sign in first")
        raw = await request.body()
        try:
            wanted = json.loads(raw) if raw and len(raw) <= MAX_BODY else {}
        except ValueError:
            return _error(400, "invalid_json", "the body must be JSON")
        source_id = wanted.get("source_id") if isinstance(wanted, dict) else None
        if source_id is not None and (
            not isinstance(source_id, int) or isinstance(source_id, bool)
        ):
            return _error(400, "invalid_request", "source_id must be an integer")
        bridge: AsyncClient = request.state.bridge
        try:
            minted = await bridge.sessions.create(
                end_user=end_user(user),
                source_types=config.source_types,
                source_id=source_id,
                ttl=config.session_ttl,
                # The page's connection rows offer all three (sync now, schedule, pause).
                actions=AFTER_CONNECT_ACTIONS,
            )
        except BridgeError as exc:
            return bridge_error(exc)
        return JSONResponse({"token": minted.token, "expires_at": minted.expires_at})

    async def connect_link(request: Request) -> Response:
        """A hosted connect link for the signed-in user, to finish on any device; it comes back
        to this page with the receipt."""
        user = signed_in_user(request)
        if user is None:
            return _error(401, "unauthorized", "sign in first")
        # The bridge accepts only a return_url on BRIDGE_ALLOWED_ORIGINS, whatever Host says.
        base = (config.public_url or str(request.base_url)).rstrip("/")
        bridge: AsyncClient = request.state.bridge
        try:
            made = await bridge.links.create(
                end_user=end_user(user),
                source_types=config.source_types,
                return_url=f"{base}/?{urlencode({'user': user})}",
            )
        except BridgeError as exc:
            return bridge_error(exc)
        return JSONResponse({"url": made.url, "expires_at": made.expires_at})

    async def connections(request: Request) -> Response:
        """The signed-in user's sources, as the bridge knows them."""
        user = signed_in_user(request)
        if user is None:
            return _error(401, "unauthorized", "sign in first")
        bridge: AsyncClient = request.state.bridge
        try:
            listed = await bridge.end_users.sources(user)
        except BridgeError as exc:
            return bridge_error(exc)
        return JSONResponse({"data": [s.to_dict() for s in listed if s.status != "deleted"]})

    async def verify_receipt(request: Request) -> Response:
        """What a SaaS does with the widget's receipt: ask the bridge whether it is genuine."""
        user = signed_in_user(request)
        if user is None:
            return _error(401, "unauthorized", "sign in first")
        raw = await request.body()
        try:
            receipt = json.loads(raw).get("receipt") if len(raw) <= MAX_BODY else None
        except (ValueError, AttributeError):
            receipt = None
        if not isinstance(receipt, str):
            return _error(400, "invalid_request", 'send {"receipt": str}')
        bridge: AsyncClient = request.state.bridge
        try:
            verified = await bridge.receipts.verify(receipt)
        except BridgeError as exc:
            return bridge_error(exc)
        # A genuine receipt for somebody else's source is no proof for this user.
        if verified.end_user_id != user:
            return _error(400, "receipt_invalid", "this receipt is for another user")
        return JSONResponse(verified.to_dict())

    async def receive_csp_report(request: Request) -> Response:
        raw = await request.body()
        if len(raw) > MAX_BODY:
            return Response(status_code=413)
        try:
            body = json.loads(raw)
        except ValueError:
            return Response(status_code=400)
        for report in reports_in(body):
            reports.add(report)
        return Response(status_code=204)

    async def favicon(request: Request) -> Response:
        return FileResponse(
            PACKAGE / "static" / "favicon.svg",
            media_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    async def list_csp_reports(request: Request) -> Response:
        return JSONResponse({"data": reports.items})

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/api/stitch-session", stitch_session, methods=["POST"]),
            Route("/api/connections", connections, methods=["GET"]),
            Route("/api/receipts", verify_receipt, methods=["POST"]),
            Route("/api/connect-link", connect_link, methods=["POST"]),
            *event_routes(signin, deliveries, events_page),
            Route(
                "/webhooks/stitch-bridge",
                webhook_receiver(config.webhook_secret, deliveries),
                methods=["POST"],
            ),
            Route("/csp-report", receive_csp_report, methods=["POST"]),
            Route("/csp-reports", list_csp_reports, methods=["GET"]),
            # Browsers ask for /favicon.ico on pages without a <link rel="icon"> (the JSON ones).
            Route("/favicon.ico", favicon, methods=["GET"]),
            Mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders, csp=config.content_security_policy())],
        lifespan=lifespan,
    )
    app.state.csp_reports = reports
    app.state.webhook_deliveries = deliveries
    return app
