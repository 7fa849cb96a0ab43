"""Partner OAuth state (§2.4): who consents, and the single-use five-minute codes."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from .accounts import active_account_by_email, create_account, new_access_token
from .model import Account, AuthorizationCode, World

CODE_TTL = timedelta(minutes=5)


def consenting_account(world: World, owner: dict[str, str], now: datetime) -> Account:
    """The account a consenting user signs in to (same email) or signs up for (a new one)."""
    existing = active_account_by_email(world, owner["email"])
    if existing is not None:
        return existing
    return create_account(world, owner, now)


def save_code(world: World, code: str, client_id: str, account_id: int, now: datetime) -> None:
    world.authorization_codes.append(AuthorizationCode(code, client_id, account_id, now + CODE_TTL))


def find_code(world: World, code: str, client_id: str, now: datetime) -> AuthorizationCode | None:
    """A live code issued to `client_id`; expired codes are dropped on the way."""
    world.authorization_codes = [c for c in world.authorization_codes if c.expires_at > now]
    return next(
        (
            c
            for c in world.authorization_codes
            if hmac.compare_digest(c.code.encode(), code.encode()) and c.client_id == client_id
        ),
        None,
    )


def redeem_code(world: World, code: AuthorizationCode) -> tuple[Account, str] | None:
    """Use a code up; returns its account and a new access token for it."""
    if code not in world.authorization_codes:
        return None
    world.authorization_codes.remove(code)
    account = world.account(code.account_id)
    if account is None:
        return None
    token = new_access_token()
    account.access_tokens.append(token)
    return account, token


def new_code() -> str:
    return secrets.token_urlsafe(32)
