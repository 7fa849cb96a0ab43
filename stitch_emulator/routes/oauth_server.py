"""Partner OAuth (§2.4) on authlib's server side, with the small Starlette glue it needs.

Where authlib's standard behaviour differs from Stitch's, Stitch wins: the authorize URL has no
`response_type` (it defaults to `code`), the token request authenticates the partner by
`client_secret` alone, ignores `redirect_uri`, and answers `{"token_type": "bearer",
"access_token", "stitch_account_id"}`; errors are bare `{"error": ...}` bodies (§13.2).
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from authlib.common.urls import add_params_to_uri
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientMixin,
    OAuth2Payload,
    OAuth2Request,
)
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant
from starlette.responses import JSONResponse, RedirectResponse, Response

from ..state.backend import EmulatorBackend
from ..state.model import Account, AuthorizationCode


class PartnerClient(ClientMixin):  # type: ignore[misc]
    """The one partner application the emulator knows, from its config."""

    def __init__(self, client_id: str, client_secret: str, redirect_uris: tuple[str, ...]) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uris = redirect_uris

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # §2.4: without `redirect_uri`, Stitch uses the first registered one.
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "partner_secret"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class FormPayload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, data: Mapping[str, str]) -> None:
        self._data = dict(data)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {key: [value] for key, value in self._data.items()}


class PartnerRequest(OAuth2Request):  # type: ignore[misc]
    """An OAuth2Request built from parameters Starlette has already read."""

    def __init__(self, method: str, uri: str, headers: Mapping[str, str], data: Mapping[str, str]):
        # authlib refuses plain-HTTP URIs off loopback; the emulator serves HTTP by design.
        super().__init__(method, uri.replace("http://", "https://", 1), headers=dict(headers))
        self.payload = FormPayload(data)

    @property
    def args(self) -> dict[str, str]:
        return dict(self.payload.data)

    @property
    def form(self) -> dict[str, str]:
        return dict(self.payload.data)


class StoredCode:
    """authlib's view of a stored code; `redirect_uri` is not re-checked at the token step."""

    def __init__(self, code: AuthorizationCode) -> None:
        self.code = code

    def get_redirect_uri(self) -> None:
        return None

    def get_scope(self) -> str:
        return ""


class PartnerCodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["partner_secret"]

    @property
    def backend(self) -> EmulatorBackend:
        return self.server.backend  # type: ignore[no-any-return]

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        self.backend.save_authorization_code(code, request.client.get_client_id(), request.user.id)

    def query_authorization_code(self, code: str, client: PartnerClient) -> StoredCode | None:
        found = self.backend.find_authorization_code(code, client.get_client_id())
        return StoredCode(found) if found else None

    def authenticate_user(self, authorization_code: StoredCode) -> tuple[Account, str] | None:
        # Redeeming uses the code up at once, so of two racing exchanges only one succeeds.
        return self.backend.redeem_authorization_code(authorization_code.code)

    def delete_authorization_code(self, authorization_code: StoredCode) -> None:
        """Already gone: `authenticate_user` consumed it."""


class PartnerAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, backend: EmulatorBackend) -> None:
        super().__init__()
        self.backend = backend
        self.register_grant(PartnerCodeGrant)
        self.register_client_auth_method("partner_secret", self._authenticate_partner_secret)

    def query_client(self, client_id: str) -> PartnerClient | None:
        config = self.backend.config
        if not isinstance(client_id, str) or client_id != config.partner_id:
            return None
        return PartnerClient(
            str(config.partner_id), str(config.partner_secret), config.partner_redirect_uris
        )

    def _authenticate_partner_secret(self, query_client: Any, request: OAuth2Request) -> Any:
        """§2.4: the token request names the partner by `client_secret` alone."""
        secret = request.form.get("client_secret")
        client = query_client(self.backend.config.partner_id)
        if isinstance(secret, str) and client is not None and client.check_client_secret(secret):
            return client
        return None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """The access token was stored on the account when the code was redeemed."""

    def generate_token(
        self, grant_type: str, client: Any, user: Any = None, **_: Any
    ) -> dict[str, Any]:
        account, access_token = user
        return {
            "token_type": "bearer",
            "access_token": access_token,
            "stitch_account_id": account.id,
        }

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        assert isinstance(request, PartnerRequest)
        return request

    def handle_response(self, status: int, body: Any, headers: Any) -> Response:
        headers = dict(headers)
        if status in (301, 302, 303):
            return RedirectResponse(headers.pop("Location"), status_code=302, headers=headers)
        return JSONResponse(body, status_code=status, headers=headers)

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        if error.redirect_uri:
            # §2.4 documents `?error=access_denied` alone (plus `state`), no description.
            params = [("error", error.error)]
            if error.state:
                params.append(("state", error.state))
            return RedirectResponse(add_params_to_uri(error.redirect_uri, params), status_code=302)
        status = 401 if error.error == "invalid_client" else 400
        return JSONResponse({"error": error.error}, status_code=status)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system here."""
