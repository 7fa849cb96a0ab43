"""A fake third-party OAuth provider (stands in for HubSpot's consent screen) under `/provider/`.

Thin HTTP translation of `stitch_emulator.provider.ProviderState`, plus its test controls under
`/_emulator/provider/`.
"""

from __future__ import annotations

import html
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from stitch_emulator.provider import Consent, ProviderClient, ProviderState, Redirect

STATIC = Path(__file__).resolve().parent.parent / "static" / "provider"


def _template(name: str) -> Template:
    return Template((STATIC / name).read_text(encoding="utf-8"))


def _page_headers(form_targets: str = "") -> dict[str, str]:
    policy = (
        "default-src 'none'; style-src 'self'; base-uri 'none'; frame-ancestors 'none'; "
        f"form-action 'self'{form_targets}"
    )
    # Opened inside popups: the opener must keep its window handle (CONTRACT §8).
    return {
        "Content-Security-Policy": policy,
        "Cross-Origin-Opener-Policy": "unsafe-none",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
    }


def _error_page(template: Template, error: str, description: str) -> HTMLResponse:
    body = template.substitute(error=html.escape(error), description=html.escape(description))
    return HTMLResponse(body, status_code=400, headers=_page_headers())


def _consent_page(template: Template, consent: Consent, provider: ProviderState) -> HTMLResponse:
    redirect = urlsplit(consent.redirect_uri)
    redirect_origin = f"{redirect.scheme}://{redirect.netloc}"
    body = template.substitute(
        client_name=html.escape(consent.client_name),
        user_email=html.escape(provider.user.email),
        hub_id=provider.user.hub_id,
        scope_items="".join(f"<li>{html.escape(s)}</li>" for s in consent.scopes),
        redirect_origin=html.escape(redirect_origin),
        ticket=html.escape(consent.ticket),
    )
    # The approve/deny POST is answered with a redirect there; Chromium checks it against
    # form-action too.
    return HTMLResponse(body, headers=_page_headers(f" {redirect_origin}"))


def _control_error(message: str) -> JSONResponse:
    return JSONResponse({"error": "invalid_request", "message": message}, status_code=400)


async def _json_body(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _parse_client(body: dict[str, Any]) -> ProviderClient | str:
    client_id, secret = body.get("client_id"), body.get("client_secret")
    uris, name = body.get("redirect_uris"), body.get("name", body.get("client_id"))
    if not isinstance(client_id, str) or not client_id:
        return "client_id must be a non-empty string"
    if not isinstance(secret, str) or not secret:
        return "client_secret must be a non-empty string"
    if not isinstance(name, str) or not name:
        return "name must be a non-empty string"
    if not isinstance(uris, list) or not uris:
        return "redirect_uris must be a non-empty list of absolute http(s) URLs"
    for uri in uris:
        parts = urlsplit(uri) if isinstance(uri, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return f"redirect_uris: {uri!r} is not an absolute http(s) URL"
        if parts.fragment:
            return f"redirect_uris: {uri!r} must not have a fragment"
    return ProviderClient(
        client_id=client_id, client_secret=secret, name=name, redirect_uris=tuple(uris)
    )


class _ProviderEndpoints:
    """The handlers, bound to one provider."""

    def __init__(self, provider: ProviderState) -> None:
        self.provider = provider
        self.consent_template = _template("consent.html")
        self.error_template = _template("error.html")

    async def authorize(self, request: Request) -> Response:
        outcome = self.provider.begin_authorization(
            str(request.url), request.query_params.multi_items()
        )
        if isinstance(outcome, Consent):
            return _consent_page(self.consent_template, outcome, self.provider)
        if isinstance(outcome, Redirect):
            return RedirectResponse(outcome.location, status_code=302)
        return _error_page(self.error_template, outcome.error, outcome.description)

    async def decide(self, request: Request) -> Response:
        form = await request.form()
        ticket, decision = form.get("ticket"), form.get("decision")
        if not isinstance(ticket, str) or decision not in ("approve", "deny"):
            return _error_page(
                self.error_template, "invalid_request", "Approve or deny the request."
            )
        outcome = self.provider.decide(ticket, approve=decision == "approve")
        if isinstance(outcome, Redirect):
            # 303: the browser follows with a GET, whatever the method of the consent form.
            return RedirectResponse(outcome.location, status_code=303)
        return _error_page(self.error_template, outcome.error, outcome.description)

    async def token(self, request: Request) -> Response:
        form = await request.form()
        pairs = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
        status, body, headers = self.provider.token_response(
            str(request.url), pairs, request.headers
        )
        return JSONResponse(body, status_code=status, headers=dict(headers))

    async def userinfo(self, request: Request) -> Response:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        info = self.provider.userinfo(credentials.strip()) if scheme.lower() == "bearer" else None
        if info is None:
            return JSONResponse(
                {"error": "invalid_token", "error_description": "Unknown or expired access token."},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        return JSONResponse(info)

    async def register_client(self, request: Request) -> Response:
        body = await _json_body(request)
        if body is None:
            return _control_error("the body must be a JSON object")
        client = _parse_client(body)
        if isinstance(client, str):
            return _control_error(client)
        try:
            self.provider.register_client(client)
        except ValueError as error:
            return _control_error(str(error))
        return JSONResponse(
            {
                "client_id": client.client_id,
                "name": client.name,
                "redirect_uris": list(client.redirect_uris),
            }
        )

    async def configure(self, request: Request) -> Response:
        body = await _json_body(request) if request.method == "POST" else {}
        if body is None:
            return _control_error("the body must be a JSON object")
        if any(v is not None and not isinstance(v, str) for v in body.values()):
            return _control_error("values must be an OAuth error code (string) or null")
        try:
            return JSONResponse(self.provider.configure(**body))
        except ValueError as error:
            return _control_error(str(error))

    async def reset(self, request: Request) -> Response:
        self.provider.reset()
        return JSONResponse({"status": "reset"})

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/provider/authorize", self.authorize, methods=["GET"]),
            Route("/provider/authorize", self.decide, methods=["POST"]),
            Route("/provider/token", self.token, methods=["POST"]),
            Route("/provider/userinfo", self.userinfo, methods=["GET"]),
            Mount("/provider/assets", app=StaticFiles(directory=STATIC / "assets")),
            Route("/_emulator/provider/clients", self.register_client, methods=["POST"]),
            Route("/_emulator/provider/config", self.configure, methods=["GET", "POST"]),
            Route("/_emulator/provider/reset", self.reset, methods=["POST"]),
        ]


def routes(provider: ProviderState) -> list[BaseRoute]:
    """Routes of the fake provider and its `/_emulator/provider/` controls."""
    return _ProviderEndpoints(provider).routes()
