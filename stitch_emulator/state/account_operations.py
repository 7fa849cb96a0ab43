"""Accounts, sessions (§2) and partner OAuth (§2.4) as a part of the backend.

Plain and unlocked: `EmulatorBackend` serialises and settles around every call.
"""

from __future__ import annotations

from typing import Any

from . import accounts, partner_oauth
from .context import Context
from .model import Account, AuthorizationCode

DEFAULT_OWNER = {"first_name": "Emulator", "last_name": "Owner", "company": "Emulator"}


class AccountOperations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def ensure_default(self) -> None:
        """The configured account and its access token exist (after start and every reset)."""
        ctx = self.ctx
        default = ctx.world.account(ctx.world.default_account_id or -1)
        if default is None:
            owner = {**DEFAULT_OWNER, "email": ctx.config.default_account_email}
            default = accounts.create_account(
                ctx.world,
                owner,
                ctx.now(),
                ctx.config.access_token,
                account_id=ctx.world.default_account_id,
            )
            ctx.world.default_account_id = default.id
        if ctx.config.access_token not in default.access_tokens:
            default.access_tokens.append(ctx.config.access_token)

    def default(self) -> Account:
        account = self.ctx.world.account(self.ctx.world.default_account_id or -1)
        assert account is not None
        return account

    def create(self, body: Any) -> dict[str, Any]:
        config = self.ctx.config
        owner = accounts.validate_account_body(
            body, str(config.partner_id), str(config.partner_secret)
        )
        account = accounts.create_account(self.ctx.world, owner, self.ctx.now())
        return {"access_token": account.access_tokens[0], "stitch_account_id": account.id}

    def add(self, owner: dict[str, str]) -> Account:
        return accounts.create_account(self.ctx.world, owner, self.ctx.now())

    def for_token(self, token: str) -> Account | None:
        return accounts.account_for_token(self.ctx.world, token, self.ctx.now())

    def create_ephemeral_token(self, account_id: int) -> str:
        return accounts.create_ephemeral_token(self.ctx.world, account_id, self.ctx.now())

    def exchange_ephemeral_token(self, ephemeral_token: str) -> str:
        return accounts.exchange_ephemeral_token(self.ctx.world, ephemeral_token, self.ctx.now())


class PartnerOAuthOperations:
    """The partner's "Connect with Stitch" consent and its single-use codes (§2.4)."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def consent(self, owner: dict[str, str]) -> Account:
        return partner_oauth.consenting_account(self.ctx.world, owner, self.ctx.now())

    def save_code(self, code: str, client_id: str, account_id: int) -> None:
        partner_oauth.save_code(self.ctx.world, code, client_id, account_id, self.ctx.now())

    def find_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        return partner_oauth.find_code(self.ctx.world, code, client_id, self.ctx.now())

    def redeem_code(self, code: AuthorizationCode) -> tuple[Account, str] | None:
        return partner_oauth.redeem_code(self.ctx.world, code)
