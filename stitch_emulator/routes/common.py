"""What every route module shares: bearer auth, JSON bodies, and Stitch-style error answers."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ..state.backend import EmulatorBackend
from ..state.errors import ApiError, not_found, unauthorized
from ..state.model import Account


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def authenticate(backend: EmulatorBackend, request: Request) -> Account:
    """The account of the request's access token or web session token, else 401 (§2.2)."""
    token = bearer_token(request)
    account = backend.account_for_token(token) if token else None
    if account is None:
        raise unauthorized()
    return account


async def read_json(request: Request) -> Any:
    """The JSON body, or None when it is empty or not JSON (each route words that refusal)."""
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None


def reply(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse(body, status_code=status, headers=headers)


async def api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return reply(exc.body, exc.status, exc.headers)


async def http_error(request: Request, exc: Exception) -> Response:
    """Unknown routes and wrong methods are both 404 in Stitch's table (§7.1)."""
    assert isinstance(exc, HTTPException)
    if exc.status_code in (404, 405):
        error = not_found(f"no route for {request.method} {request.url.path}")
        return reply(error.body, error.status)
    return reply({"error": "Error", "data": {"message": str(exc.detail)}}, exc.status_code)


def int_param(request: Request, name: str, default: int) -> int:
    """A positive integer query parameter; anything else counts as the default."""
    text = request.query_params.get(name, "")
    return int(text) if text.isdigit() and int(text) > 0 else default
