"""The provider's state and its operations: clients, consent, codes, tokens, scripted errors.

Plain Python, no HTTP: the routes in `stitch_emulator.routes.provider` translate requests to these
calls. Time comes from the emulator backend's clock, so tests expire codes by moving that clock.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error

from .models import AuthorizationCode, IssuedToken, ProviderClient, ProviderUser
from .server import ProviderRequest, ProviderServer, Response

CODE_TTL = timedelta(minutes=5)
CONSENT_TTL = timedelta(minutes=10)
BUILTIN_CLIENT_ID = "stitch-emulator"
BUILTIN_CLIENT_NAME = "Stitch"
POPUP_CALLBACK_PATH = "/v2/js-client/oauth/callback"
JSON_HEADERS = [("Content-Type", "application/json"), ("Cache-Control", "no-store")]


@dataclass(frozen=True)
class Consent:
    """A validated authorization request waiting for the user's approve/deny."""

    ticket: str
    client_name: str
    scopes: tuple[str, ...]
    redirect_uri: str


@dataclass(frozen=True)
class Redirect:
    location: str


@dataclass(frozen=True)
class Refusal:
    """An authorization request that must not be redirected: shown as an error page."""

    error: str
    description: str


@dataclass(frozen=True)
class _PendingConsent:
    url: str
    pairs: tuple[tuple[str, str], ...]
    expires_at: datetime


class ProviderState:
    def __init__(self, now: Callable[[], datetime]) -> None:
        self.now = now
        self.user = ProviderUser()
        self.builtin_client = ProviderClient(
            client_id=BUILTIN_CLIENT_ID,
            client_secret=secrets.token_urlsafe(24),
            name=BUILTIN_CLIENT_NAME,
            same_origin_redirect_paths=(POPUP_CALLBACK_PATH,),
        )
        self.clients: dict[str, ProviderClient] = {BUILTIN_CLIENT_ID: self.builtin_client}
        self.token_error: str | None = None
        self.authorize_error: str | None = None
        self._codes: dict[str, AuthorizationCode] = {}
        self._spent_codes: set[str] = set()
        self._tokens: dict[str, IssuedToken] = {}
        self._refresh_tokens: dict[str, IssuedToken] = {}
        self._consents: dict[str, _PendingConsent] = {}
        self._server = ProviderServer(self)

    # -- control ------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget registered clients, codes, tokens and scripted errors; keep the built-in client."""
        self.clients = {BUILTIN_CLIENT_ID: self.builtin_client}
        self.token_error = None
        self.authorize_error = None
        self._codes.clear()
        self._spent_codes.clear()
        self._tokens.clear()
        self._refresh_tokens.clear()
        self._consents.clear()

    def register_client(self, client: ProviderClient) -> ProviderClient:
        if client.client_id == BUILTIN_CLIENT_ID:
            raise ValueError(f"client_id {BUILTIN_CLIENT_ID!r} is reserved for the emulator")
        self.clients[client.client_id] = client
        return client

    def configure(self, **changes: str | None) -> dict[str, str | None]:
        """Script errors: `token_error` answers every token request, `authorize_error` every
        valid authorization request (redirected back with `error=`), until set to None."""
        unknown = set(changes) - {"token_error", "authorize_error"}
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(sorted(unknown))}")
        for name, value in changes.items():
            setattr(self, name, value)
        return {"token_error": self.token_error, "authorize_error": self.authorize_error}

    # -- authorization endpoint ---------------------------------------------------------------

    def begin_authorization(
        self, url: str, pairs: Iterable[tuple[str, str]]
    ) -> Consent | Redirect | Refusal:
        pairs = tuple(pairs)
        request = ProviderRequest("GET", url, pairs)
        try:
            grant = self._server.get_consent_grant(request)
        except OAuth2Error as error:
            return _error_outcome(error)
        if self.authorize_error:
            params = [("error", self.authorize_error)]
            if request.payload.state:
                params.append(("state", request.payload.state))
            return Redirect(add_params_to_uri(grant.redirect_uri, params))
        ticket = secrets.token_urlsafe(24)
        self._consents[ticket] = _PendingConsent(url, pairs, self.now() + CONSENT_TTL)
        client: ProviderClient = request.client
        return Consent(
            ticket, client.name, tuple((request.scope or "").split()), grant.redirect_uri
        )

    def decide(self, ticket: str, approve: bool) -> Redirect | Refusal:
        """The user's answer on the consent page; each ticket answers once."""
        pending = self._consents.pop(ticket, None)
        if pending is None or self.now() >= pending.expires_at:
            return Refusal("invalid_request", "This consent page has expired. Start again.")
        request = ProviderRequest("GET", pending.url, pending.pairs)
        try:
            grant = self._server.get_consent_grant(request)
        except OAuth2Error as error:
            return _error_outcome(error)
        status, body, headers = self._server.create_authorization_response(
            request, grant_user=self.user if approve else None, grant=grant
        )
        location = dict(headers).get("Location")
        if location:
            return Redirect(location)
        return Refusal(body.get("error", "server_error"), body.get("error_description", ""))

    # -- token endpoint -----------------------------------------------------------------------

    def token_response(
        self, url: str, pairs: Iterable[tuple[str, str]], headers: Mapping[str, str]
    ) -> Response:
        if self.token_error:
            status = 401 if self.token_error == "invalid_client" else 400
            body = {"error": self.token_error, "error_description": "Scripted provider error."}
            return status, body, list(JSON_HEADERS)
        return self._server.create_token_response(ProviderRequest("POST", url, pairs, headers))  # type: ignore[no-any-return]

    def userinfo(self, access_token: str) -> dict[str, Any] | None:
        token = self._tokens.get(access_token)
        if token is None or self.now() >= token.expires_at:
            return None
        return token.user.as_userinfo(token.scope)

    # -- store used by the authlib grants -----------------------------------------------------

    def save_code(self, *, code: str, **fields: Any) -> None:
        self._codes[code] = AuthorizationCode(code=code, expires_at=self.now() + CODE_TTL, **fields)

    def find_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        if code in self._spent_codes:
            # A replayed code revokes what it bought (RFC 6749 §4.1.2).
            self._revoke_tokens_of_code(code)
            return None
        found = self._codes.get(code)
        if found is None or found.client_id != client_id:
            return None
        if self.now() >= found.expires_at:
            self.spend_code(code)
            return None
        return found

    def spend_code(self, code: str) -> None:
        self._codes.pop(code, None)
        self._spent_codes.add(code)

    def save_token(
        self,
        token: Mapping[str, Any],
        *,
        client_id: str,
        user: ProviderUser,
        refresh_token: str | None,
        code: str | None,
    ) -> IssuedToken:
        issued = IssuedToken(
            access_token=token["access_token"],
            client_id=client_id,
            user=user,
            scope=token.get("scope", ""),
            expires_at=self.now() + timedelta(seconds=int(token["expires_in"])),
            refresh_token=refresh_token,
            code=code,
        )
        self._tokens[issued.access_token] = issued
        if refresh_token:
            self._refresh_tokens[refresh_token] = issued
        return issued

    def find_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        return self._refresh_tokens.get(refresh_token)

    def _revoke_tokens_of_code(self, code: str) -> None:
        for issued in [t for t in self._tokens.values() if t.code == code]:
            self._tokens.pop(issued.access_token, None)
            if issued.refresh_token:
                self._refresh_tokens.pop(issued.refresh_token, None)


def _error_outcome(error: OAuth2Error) -> Redirect | Refusal:
    """RFC 6749 §4.1.2.1: redirect only once the client and its redirect URI are known good."""
    status, body, headers = error()
    location = dict(headers).get("Location")
    if location:
        return Redirect(location)
    return Refusal(error.error or "invalid_request", error.description or "")
