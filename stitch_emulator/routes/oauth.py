"""Partner OAuth endpoints (§2.4): the consent page `/oauth/authorization` and `/oauth/token`."""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Mapping

from authlib.oauth2 import OAuth2Error
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import BaseRoute, Route

from ..state.backend import EmulatorBackend
from .oauth_server import PartnerAuthorizationServer, PartnerRequest

CARRIED = ("client_id", "redirect_uri", "state", "response_type")
OWNER = ("email", "first_name", "last_name", "company")


def _authorization_params(given: Mapping[str, str]) -> dict[str, str]:
    params = {key: given[key] for key in CARRIED if given.get(key)}
    # Stitch's authorize URL carries no response_type (§2.4); the only flow is the code flow.
    params.setdefault("response_type", "code")
    return params


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body><main>{body}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status)


def _error_page(error: OAuth2Error) -> HTMLResponse:
    """Problems that must not redirect (unknown partner, unregistered redirect_uri)."""
    message = error.description or error.error
    return _page(
        "Authorization error",
        "<h1>Authorization error</h1>"
        f'<p data-testid="oauth-error" data-error="{html.escape(error.error)}">'
        f"{html.escape(message)}</p>",
        status=400,
    )


def _consent_page(params: dict[str, str], prefill: Mapping[str, str]) -> HTMLResponse:
    hidden = "".join(
        f'<input type="hidden" name="{key}" value="{html.escape(value)}">'
        for key, value in params.items()
    )
    fields = "".join(
        f"<label>{key.replace('_', ' ').capitalize()} "
        f'<input name="{key}" data-testid="{key.replace("_", "-")}" '
        f'value="{html.escape(prefill.get(key, ""))}"></label><br>'
        for key in OWNER
    )
    return _page(
        "Authorize access to your Stitch account",
        "<h1>Sign in to Stitch</h1>"
        "<p>A partner application asks for access to your Stitch account. "
        "Use an existing account's email to link it, or a new one to sign up.</p>"
        f'<form method="post" action="/oauth/authorization">{hidden}{fields}'
        '<button type="submit" name="decision" value="approve" data-testid="approve">'
        "Allow access</button> "
        '<button type="submit" name="decision" value="deny" data-testid="deny">Deny</button>'
        "</form>",
    )


def _consenting_owner(given: dict[str, str]) -> dict[str, str]:
    """Who signs in or up on the consent page; blanks get placeholder values."""
    owner = {key: given.get(key, "").strip() for key in OWNER}
    if "@" not in owner["email"]:
        owner["email"] = f"user-{secrets.token_hex(4)}@emulator.stitch.invalid"
    owner["first_name"] = owner["first_name"] or "Stitch"
    owner["last_name"] = owner["last_name"] or "User"
    owner["company"] = owner["company"] or "Emulated company"
    return owner


async def _token_params(request: Request) -> dict[str, str]:
    """§13.2: form-encoded as documented, JSON accepted too."""
    if request.headers.get("content-type", "").startswith("application/json"):
        try:
            data = json.loads(await request.body() or b"{}")
        except ValueError:
            data = {}
        data = data if isinstance(data, dict) else {}
    else:
        data = dict((await request.form()).items())
    return {key: str(value) for key, value in data.items() if value is not None}


def routes(backend: EmulatorBackend) -> list[BaseRoute]:
    server = PartnerAuthorizationServer(backend)

    async def authorization_page(request: Request) -> Response:
        params = _authorization_params(request.query_params)
        oauth_request = PartnerRequest("GET", str(request.url), request.headers, params)
        try:
            server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            if error.redirect_uri:
                return server.handle_error_response(oauth_request, error)
            return _error_page(error)
        return _consent_page(params, request.query_params)

    async def authorization_decision(request: Request) -> Response:
        form = await request.form()
        given = {key: str(value) for key, value in form.items()}
        params = _authorization_params(given)
        oauth_request = PartnerRequest("POST", str(request.url), request.headers, params)
        try:
            grant = server.get_consent_grant(oauth_request)
        except OAuth2Error as error:
            if error.redirect_uri:
                return server.handle_error_response(oauth_request, error)
            return _error_page(error)
        approved = given.get("decision") == "approve"
        account = backend.consent(_consenting_owner(given)) if approved else None
        return server.create_authorization_response(oauth_request, grant_user=account, grant=grant)

    async def token(request: Request) -> Response:
        params = await _token_params(request)
        oauth_request = PartnerRequest("POST", str(request.url), request.headers, params)
        return server.create_token_response(oauth_request)

    return [
        Route("/oauth/authorization", authorization_page, methods=["GET"]),
        Route("/oauth/authorization", authorization_decision, methods=["POST"]),
        Route("/oauth/token", token, methods=["POST"]),
    ]
