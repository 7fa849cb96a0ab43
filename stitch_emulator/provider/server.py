"""authlib's authorization server, wired to the provider's in-memory store, free of any web framework.

The routes hand it plain method/URL/parameter pairs/headers and get back `(status, body, headers)`.
The server names the store it needs (`GrantStore`) rather than importing the provider that keeps
one: the provider depends on the server, never the other way round.
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from authlib.oauth2.rfc6749 import AuthorizationServer, OAuth2Payload, OAuth2Request
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc7636 import CodeChallenge

from .models import (
    SCOPES_SUPPORTED,
    TOKEN_AUTH_METHODS,
    AuthorizationCode,
    IssuedToken,
    ProviderClient,
    ProviderUser,
    origin_of,
)

ACCESS_TOKEN_TTL = 1800  # seconds, as HubSpot's access tokens

Response = tuple[int, Any, list[tuple[str, str]]]


class GrantStore(Protocol):
    """Where the grants keep clients, codes and tokens (`ProviderState` is one)."""

    clients: dict[str, ProviderClient]

    def save_code(self, *, code: str, **fields: Any) -> None: ...

    def find_code(self, code: str, client_id: str) -> AuthorizationCode | None: ...

    def spend_code(self, code: str) -> None: ...

    def save_token(
        self,
        token: Mapping[str, Any],
        *,
        client_id: str,
        user: ProviderUser,
        refresh_token: str | None,
        code: str | None,
    ) -> IssuedToken: ...

    def find_refresh_token(self, refresh_token: str) -> IssuedToken | None: ...


class _Payload(OAuth2Payload):  # type: ignore[misc]
    """Keeps every value of a repeated parameter, so authlib can refuse duplicates."""

    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for key, value in pairs:
            self._datalist[key].append(value)
        self._data = {key: values[0] for key, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Headers(dict[str, str]):
    """Case-insensitive lookups, as authlib asks for `Authorization` by that spelling."""

    def get(self, key: str, default: Any = None) -> Any:  # type: ignore[override]
        return super().get(key.lower(), default)


class ProviderRequest(OAuth2Request):  # type: ignore[misc]
    def __init__(
        self,
        method: str,
        uri: str,
        pairs: Iterable[tuple[str, str]],
        headers: Mapping[str, str] | None = None,
    ) -> None:
        lowered = _Headers({k.lower(): v for k, v in (headers or {}).items()})
        # authlib refuses plain-HTTP URLs outside loopback to protect real servers; the emulator
        # serves plain HTTP by design (e.g. http://emulator.test in-process), so the check is
        # made against a placeholder and the real URL is set afterwards.
        super().__init__(method, "https://provider.invalid/", headers=lowered)
        self.uri = uri
        self.payload = _Payload(pairs)

    @property
    def form(self) -> dict[str, str]:
        return self.payload.data  # type: ignore[no-any-return]

    @property
    def args(self) -> dict[str, str]:
        return self.payload.data  # type: ignore[no-any-return]


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    @staticmethod
    def validate_authorization_redirect_uri(request: OAuth2Request, client: ProviderClient) -> str:
        uri = request.payload.redirect_uri
        if uri and client.accepts_redirect(uri, origin_of(request.uri)):
            return str(uri)
        return str(AuthorizationCodeGrant.validate_authorization_redirect_uri(request, client))

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        data = request.payload.data
        self.server.store.save_code(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri or "",
            scope=request.scope or "",
            user=request.user,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(
        self, code: str, client: ProviderClient
    ) -> AuthorizationCode | None:
        return self.server.store.find_code(code, client.client_id)  # type: ignore[no-any-return]

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        self.server.store.spend_code(authorization_code.code)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> ProviderUser:
        return authorization_code.user


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = list(TOKEN_AUTH_METHODS)

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        return self.server.store.find_refresh_token(refresh_token)  # type: ignore[no-any-return]

    def authenticate_user(self, refresh_token: IssuedToken) -> ProviderUser:
        return refresh_token.user

    def issue_token(self, user: ProviderUser, refresh_token: IssuedToken) -> dict[str, Any]:
        # Refresh tokens do not rotate here (HubSpot's don't); the answer repeats the same one.
        token: dict[str, Any] = super().issue_token(user, refresh_token)
        token["refresh_token"] = refresh_token.refresh_token
        return token

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        """Earlier access tokens stay valid until they expire, as at HubSpot."""


def _bearer_token(
    grant_type: str,
    client: ProviderClient,
    user: ProviderUser | None = None,
    scope: str | None = None,
    expires_in: int | None = None,
    include_refresh_token: bool = True,
) -> dict[str, Any]:
    token: dict[str, Any] = {
        "token_type": "bearer",
        "access_token": secrets.token_urlsafe(32),
        "expires_in": expires_in or ACCESS_TOKEN_TTL,
    }
    if include_refresh_token:
        token["refresh_token"] = secrets.token_urlsafe(32)
    if scope:
        token["scope"] = scope
    return token


class ProviderServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, store: GrantStore) -> None:
        super().__init__(scopes_supported=list(SCOPES_SUPPORTED))
        self.store = store
        self.register_token_generator("default", _bearer_token)
        # A challenge is optional, but once given the token request must prove it (RFC 7636).
        self.register_grant(_CodeGrant, [CodeChallenge(required=False)])
        self.register_grant(_RefreshGrant)

    def query_client(self, client_id: str) -> ProviderClient | None:
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        previous = request.refresh_token
        code = request.authorization_code
        self.store.save_token(
            token,
            client_id=request.client.client_id,
            user=request.user,
            refresh_token=token.get("refresh_token") or (previous and previous.refresh_token),
            code=code.code if code else (previous and previous.code),
        )

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return status, body, list(headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No listeners: the emulator has no signal bus."""
