"""Acme Analytics' web app: the page, its backend calls to the bridge, CSP reports."""

from __future__ import annotations

import contextlib
import html
import json
import re
from collections.abc import AsyncIterator
from importlib import resources
from string import Template
from typing import Any

import httpx
from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from demo_site.config import TYPE_NAMES, DemoConfig
from demo_site.security import CspReports, SecurityHeaders, reports_in

USER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
USER_TOKEN_MAX_AGE = 7 * 24 * 3600
MAX_BODY = 64 * 1024
PACKAGE = resources.files("demo_site")


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def create_app(
    config: DemoConfig, *, transport: httpx.AsyncBaseTransport | None = None
) -> Starlette:
    """The demo site as an ASGI app. `transport` replaces the network to the bridge (tests)."""
    page = Template((PACKAGE / "templates" / "index.html").read_text(encoding="utf-8"))
    users = URLSafeTimedSerializer(config.secret_key, salt="acme-demo-user")
    reports = CspReports()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        headers = {"Authorization": f"Bearer {config.bridge_api_key}"}
        async with httpx.AsyncClient(
            base_url=config.bridge_url, headers=headers, timeout=30.0, transport=transport
        ) as bridge:
            yield {"bridge": bridge}

    def signed_in_user(request: Request) -> str | None:
        """The end user this page was rendered for (a demo's sign-in: a signed page token)."""
        try:
            user = users.loads(request.headers.get("x-acme-user", ""), max_age=USER_TOKEN_MAX_AGE)
        except BadSignature:
            return None
        return user if isinstance(user, str) and USER_ID.match(user) else None

    async def home(request: Request) -> Response:
        user = request.query_params.get("user") or config.default_user
        if not USER_ID.match(user):
            return HTMLResponse("user ids are 1-64 letters, digits, '.', '_' or '-'", 400)
        buttons = "".join(
            f'<button type="button" class="connect" data-testid="connect-{html.escape(t)}" '
            f'data-type="{html.escape(t)}" disabled>Connect '
            f"{html.escape(TYPE_NAMES.get(t, t))}</button>"
            for t in config.source_types
        )
        body = page.substitute(
            bridge_url=html.escape(config.browser_bridge_url),
            user_id=html.escape(user),
            user_name=html.escape(user.capitalize()),
            user_token=html.escape(users.dumps(user)),
            connect_buttons=buttons,
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
        payload: dict[str, Any] = {
            "end_user": {
                "id": user,
                "name": user.capitalize(),
                "email": f"{user.lower()}@acme.example",
            },
            "source_types": list(config.source_types),
        }
        source_id = wanted.get("source_id") if isinstance(wanted, dict) else None
        if source_id is not None:
            if not isinstance(source_id, int) or isinstance(source_id, bool):
                return _error(400, "invalid_request", "source_id must be an integer")
            payload["source_id"] = source_id
        if config.session_ttl is not None:
            payload["ttl"] = config.session_ttl
        answer = await request.state.bridge.post("/v1/connect-sessions", json=payload)
        if answer.status_code != 201:
            return JSONResponse(answer.json(), status_code=answer.status_code)
        minted = answer.json()
        return JSONResponse({"token": minted["token"], "expires_at": minted["expires_at"]})

    async def connections(request: Request) -> Response:
        """The signed-in user's sources, as the bridge knows them."""
        user = signed_in_user(request)
        if user is None:
            return _error(401, "unauthorized", "sign in first")
        answer = await request.state.bridge.get(f"/v1/end-users/{user}/sources")
        if answer.status_code != 200:
            return JSONResponse(answer.json(), status_code=answer.status_code)
        sources = [s for s in answer.json().get("data", []) if s.get("status") != "deleted"]
        return JSONResponse({"data": sources})

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
        answer = await request.state.bridge.post("/v1/receipts/verify", json={"receipt": receipt})
        body = answer.json()
        # A genuine receipt for somebody else's source is no proof for this user.
        if answer.status_code == 200 and body.get("end_user_id") != user:
            return _error(400, "receipt_invalid", "this receipt is for another user")
        return JSONResponse(body, status_code=answer.status_code)

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

    async def list_csp_reports(request: Request) -> Response:
        return JSONResponse({"data": reports.items})

    app = Starlette(
        routes=[
            Route("/", home, methods=["GET"]),
            Route("/api/stitch-session", stitch_session, methods=["POST"]),
            Route("/api/connections", connections, methods=["GET"]),
            Route("/api/receipts", verify_receipt, methods=["POST"]),
            Route("/csp-report", receive_csp_report, methods=["POST"]),
            Route("/csp-reports", list_csp_reports, methods=["GET"]),
            Mount("/static", StaticFiles(directory=str(PACKAGE / "static")), name="static"),
        ],
        middleware=[Middleware(SecurityHeaders, csp=config.content_security_policy())],
        lifespan=lifespan,
    )
    app.state.csp_reports = reports
    return app
