"""Values the fake provider keeps: clients, the signed-in user, authorization codes, tokens.

They implement authlib's model mixins so that authlib's grants can read them unchanged.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import AuthorizationCodeMixin, ClientMixin

SCOPES_SUPPORTED = ("oauth", "contacts", "content", "forms", "tickets", "e-commerce", "timeline")
DEFAULT_SCOPE = "oauth contacts content"
TOKEN_AUTH_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token")


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class ProviderUser:
    """The one account that signs in to the provider (a HubSpot portal owner)."""

    sub: str = "provider-user-1"
    email: str = "owner@provider.example"
    hub_id: int = 62515

    def get_user_id(self) -> str:
        return self.sub

    def as_userinfo(self, scope: str) -> dict[str, object]:
        return {"sub": self.sub, "email": self.email, "hub_id": self.hub_id, "scope": scope}


@dataclass(frozen=True)
class ProviderClient(ClientMixin):  # type: ignore[misc]
    """An OAuth app registered with the provider.

    `redirect_uris` match exactly. `same_origin_redirect_paths` serve the emulator's own popup,
    whose origin is only known per request: the path must match and the origin must be the one
    the authorization request itself was made on.
    """

    client_id: str
    client_secret: str
    name: str
    redirect_uris: tuple[str, ...] = ()
    same_origin_redirect_paths: tuple[str, ...] = ()
    scope: str = DEFAULT_SCOPE

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        if not scope:
            return self.scope
        return " ".join(s for s in scope.split() if s in SCOPES_SUPPORTED)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def accepts_redirect(self, redirect_uri: str, request_origin: str) -> bool:
        if self.check_redirect_uri(redirect_uri):
            return True
        parts = urlsplit(redirect_uri)
        return (
            origin_of(redirect_uri) == request_origin
            and parts.path in self.same_origin_redirect_paths
            and not parts.query
            and not parts.fragment
        )

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return endpoint != "token" or method in TOKEN_AUTH_METHODS

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


@dataclass(frozen=True)
class AuthorizationCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: ProviderUser
    expires_at: datetime
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass(frozen=True)
class IssuedToken:
    """One access token; `refresh_token` is shared by every access token of one grant."""

    access_token: str
    client_id: str
    user: ProviderUser
    scope: str
    expires_at: datetime
    refresh_token: str | None = None
    code: str | None = field(default=None, compare=False)

    def check_client(self, client: ProviderClient) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope
