"""The Stitch.js popup app (`/v2/js-client`) and the `/stitch.js` client script.

The page itself is static (static/popup/); these routes serve it with a strict CSP, exchange
the ephemeral token for a web session, and run Stitch-managed OAuth against the fake provider.
"""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from string import Template
from typing import Any
from urllib.parse import urlencode

from authlib.oauth2.rfc7636 import create_s256_code_challenge
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from stitch_emulator.provider import POPUP_CALLBACK_PATH, ProviderState
from stitch_emulator.state.errors import ApiError

STATIC = Path(__file__).resolve().parent.parent / "static"
POPUP_PATH = "/v2/js-client"
OAUTH_START_TTL = timedelta(minutes=10)
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    # The opener keeps its handle on this window and polls `closed` (CONTRACT §8).
    "Cross-Origin-Opener-Policy": "unsafe-none",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class _OAuthAttempt:
    account_id: int
    source_id: int
    code_verifier: str
    redirect_uri: str
    expires_at: datetime


class _OAuthAttempts:
    """OAuth round trips the popup has started, by their `state`; each is used once."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._attempts: dict[str, _OAuthAttempt] = {}

    def begin(self, account_id: int, source_id: int, redirect_uri: str) -> tuple[str, str]:
        state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        expires_at = self._now() + OAUTH_START_TTL
        self._attempts[state] = _OAuthAttempt(
            account_id, source_id, verifier, redirect_uri, expires_at
        )
        return state, verifier

    def take(self, state: str) -> _OAuthAttempt | None:
        attempt = self._attempts.pop(state, None)
        if attempt is None or self._now() >= attempt.expires_at:
            return None
        return attempt


def _origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.url.netloc}"


def _bearer(request: Request) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return credentials.strip() or None


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "data": {"message": message}}, status_code=status)


def _callback_error_page(template: Template, message: str) -> HTMLResponse:
    body = template.substitute(message=html.escape(message))
    return HTMLResponse(body, status_code=400, headers=PAGE_HEADERS)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _exchange_code(provider: ProviderState, origin: str, attempt: _OAuthAttempt, code: str) -> bool:
    """Stitch's server-side half of the OAuth dance, through the provider's token endpoint."""
    client = provider.builtin_client
    form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", attempt.redirect_uri),
        ("client_id", client.client_id),
        ("client_secret", client.client_secret),
        ("code_verifier", attempt.code_verifier),
    ]
    status, _body, _headers = provider.token_response(f"{origin}/provider/token", form, {})
    return status == 200


def _owned_source(backend: Any, account_id: int, source_id: Any) -> bool:
    if not isinstance(source_id, int) or isinstance(source_id, bool):
        return False
    try:
        source = backend.get_source(account_id, source_id)
    except ApiError:
        return False
    return source.get("deleted_at") is None


class _PopupEndpoints:
    """The handlers, bound to one backend and its provider."""

    def __init__(self, backend: Any, provider: ProviderState) -> None:
        self.backend = backend
        self.provider = provider
        self.attempts = _OAuthAttempts(backend.clock.now)
        self.page = (STATIC / "popup" / "index.html").read_bytes()
        self.script = (STATIC / "stitch.js").read_bytes()
        self.error_page = Template(
            (STATIC / "popup" / "oauth-error.html").read_text(encoding="utf-8")
        )

    async def js_client(self, request: Request) -> Response:
        return Response(self.page, media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)

    async def stitch_js(self, request: Request) -> Response:
        headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return Response(self.script, media_type="text/javascript; charset=utf-8", headers=headers)

    async def session(self, request: Request) -> Response:
        token = (await _json_object(request)).get("ephemeral_token")
        if not isinstance(token, str) or not token:
            return _error(400, "InvalidBody", "ephemeral_token is required")
        try:
            session_token = self.backend.exchange_ephemeral_token(token)
        except KeyError:
            return _error(401, "InvalidEphemeralToken", "unknown, used or expired ephemeral token")
        return JSONResponse({"session_token": session_token}, headers={"Cache-Control": "no-store"})

    async def oauth_start(self, request: Request) -> Response:
        token = _bearer(request)
        account = self.backend.account_for_token(token) if token else None
        if account is None:
            return _error(401, "Unauthorized", "invalid or missing session token")
        source_id = (await _json_object(request)).get("source_id")
        if not _owned_source(self.backend, account.id, source_id):
            return _error(400, "InvalidId", f"source not found ({source_id})")
        redirect_uri = _origin(request) + POPUP_CALLBACK_PATH
        state, verifier = self.attempts.begin(account.id, source_id, redirect_uri)
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.provider.builtin_client.client_id,
                "redirect_uri": redirect_uri,
                "scope": self.provider.builtin_client.scope,
                "state": state,
                "code_challenge": create_s256_code_challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        return JSONResponse({"authorize_url": f"/provider/authorize?{query}"})

    async def oauth_callback(self, request: Request) -> Response:
        attempt = self.attempts.take(request.query_params.get("state", ""))
        if attempt is None:
            return _callback_error_page(
                self.error_page, "This authorization is unknown, used or expired."
            )
        code = request.query_params.get("code")
        if request.query_params.get("error") == "access_denied":
            outcome = "denied"
        elif not code or not _exchange_code(self.provider, _origin(request), attempt, code):
            outcome = "failed"
        else:
            try:
                self.backend.authorize_source(attempt.account_id, attempt.source_id)
                outcome = "approved"
            except (ApiError, LookupError):  # the source went away meanwhile
                outcome = "failed"
        return RedirectResponse(f"{POPUP_PATH}#oauth={outcome}", status_code=303)

    def routes(self) -> list[BaseRoute]:
        return [
            Route(POPUP_PATH, self.js_client, methods=["GET"]),
            Route(f"{POPUP_PATH}/session", self.session, methods=["POST"]),
            Route(f"{POPUP_PATH}/oauth/start", self.oauth_start, methods=["POST"]),
            Route(POPUP_CALLBACK_PATH, self.oauth_callback, methods=["GET"]),
            Mount(f"{POPUP_PATH}/assets", app=StaticFiles(directory=STATIC / "popup" / "assets")),
            Route("/stitch.js", self.stitch_js, methods=["GET"]),
        ]


def routes(backend: Any, provider: ProviderState) -> list[BaseRoute]:
    """Routes of the popup app and `/stitch.js`; its OAuth runs against `provider`."""
    return _PopupEndpoints(backend, provider).routes()
