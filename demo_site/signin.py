"""The demo's sign-in: the page carries a signed user token that its scripts send back."""

from __future__ import annotations

import re

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import JSONResponse

from stitch_bridge_client import BridgeError

USER_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
USER_TOKEN_MAX_AGE = 7 * 24 * 3600
MAX_BODY = 64 * 1024


def error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)


def bridge_error(exc: BridgeError) -> JSONResponse:
    """The bridge's refusal, passed on to the page as the bridge put it (a 502 without one)."""
    body: dict[str, object] = {"code": exc.code, "message": exc.message}
    if exc.details:
        body["details"] = exc.details
    return JSONResponse({"error": body}, status_code=exc.status or 502)


class SignIn:
    """Who a request acts for: the user named by the `X-Acme-User` header's signed token."""

    def __init__(self, secret_key: str) -> None:
        self._users = URLSafeTimedSerializer(secret_key, salt="acme-demo-user")

    def token(self, user: str) -> str:
        return self._users.dumps(user)

    def user(self, request: Request) -> str | None:
        try:
            user = self._users.loads(
                request.headers.get("x-acme-user", ""), max_age=USER_TOKEN_MAX_AGE
            )
        except BadSignature:
            return None
        return user if isinstance(user, str) and USER_ID.match(user) else None
