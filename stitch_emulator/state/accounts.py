"""Accounts (§2.3), access tokens, ephemeral tokens and web sessions (§2.5)."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from .errors import account_error
from .model import Account, EphemeralToken, WebSession, World

REGIONS = ("us-east-1", "eu-central-1")
OWNER_FIELDS = ("first_name", "last_name", "company", "email")
EPHEMERAL_TTL = timedelta(hours=1)
WEB_SESSION_TTL = timedelta(hours=12)


def new_access_token() -> str:
    return "ac_" + secrets.token_hex(20)


def _matches(given: Any, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def validate_account_body(body: Any, partner_id: str, partner_secret: str) -> dict[str, str]:
    """Check a `POST /v3/accounts` body; returns the owner fields (region defaulted)."""
    if not isinstance(body, dict):
        raise account_error("BadRequest", "Invalid form data.", {})
    if not _matches(body.get("partner_id"), partner_id):
        raise account_error("BadRequest", "Invalid form data.", {"partner_id": "required"})
    if not _matches(body.get("partner_secret"), partner_secret):
        raise account_error("BadRequest", "Invalid form data.", {"partner_secret": "required"})
    errors = {
        name: "required"
        for name in OWNER_FIELDS
        if not isinstance(body.get(name), str) or not body[name].strip()
    }
    if "email" not in errors and "@" not in body["email"]:
        errors["email"] = "invalid"
    # §12 #8: the partner guide omits `region`; default it rather than refuse.
    region = body.get("region", "us-east-1")
    if region not in REGIONS:
        errors["region"] = "invalid"
    if errors:
        raise account_error("BadRequest", "Invalid form data.", errors)
    if isinstance(body.get("region"), str):
        region = body["region"]
    return {**{name: body[name] for name in OWNER_FIELDS}, "region": region}


def active_account_by_email(world: World, email: str) -> Account | None:
    wanted = email.strip().lower()
    return next((a for a in world.accounts if a.email.lower() == wanted), None)


def create_account(
    world: World,
    owner: dict[str, str],
    now: datetime,
    token: str | None = None,
    account_id: int | None = None,
) -> Account:
    if active_account_by_email(world, owner["email"]) is not None:
        raise account_error(
            "ExistingUser", "This email address is already associated with an active user."
        )
    account = Account(
        id=account_id if account_id is not None else world.next_id("account", 116078),
        email=owner["email"],
        first_name=owner["first_name"],
        last_name=owner["last_name"],
        company=owner["company"],
        region=owner.get("region", "us-east-1"),
        created_at=now,
        access_tokens=[token or new_access_token()],
    )
    world.accounts.append(account)
    return account


def account_for_token(world: World, token: str, now: datetime) -> Account | None:
    """The account an access token or a live web session token belongs to."""
    for account in world.accounts:
        if any(_matches(token, t) for t in account.access_tokens):
            return account
    for session in world.web_sessions:
        if _matches(token, session.token) and session.expires_at > now:
            return world.account(session.account_id)
    return None


def create_ephemeral_token(world: World, account_id: int, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    world.ephemeral_tokens.append(EphemeralToken(token, account_id, now + EPHEMERAL_TTL))
    return token


def exchange_ephemeral_token(world: World, ephemeral_token: str, now: datetime) -> str:
    """Consume an ephemeral token for a 12-hour web session token; KeyError if it is unusable."""
    found = next(
        (e for e in world.ephemeral_tokens if _matches(ephemeral_token, e.token)),
        None,
    )
    if found is None:
        raise KeyError("unknown or already used ephemeral token")
    world.ephemeral_tokens.remove(found)
    if found.expires_at <= now:
        raise KeyError("expired ephemeral token")
    session = WebSession("ws_" + secrets.token_urlsafe(32), found.account_id, now + WEB_SESSION_TTL)
    world.web_sessions.append(session)
    return session.token
