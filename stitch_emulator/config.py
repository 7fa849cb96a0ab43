"""The emulator's settings: one frozen value passed to `create_app`, never read from globals."""

from __future__ import annotations

import secrets
from dataclasses import dataclass


def _credential(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


@dataclass(frozen=True)
class EmulatorConfig:
    """What the emulator accepts and how it behaves.

    `token`, `partner_id` and `partner_secret` are generated (with the reference's `ac_`/`oc_`
    prefixes) when left as None, so every instance has concrete credentials to print.
    """

    token: str | None = None
    partner_id: str | None = None
    partner_secret: str | None = None
    partner_redirect_uris: tuple[str, ...] = ()
    check_delay: float = 2.0
    job_duration: float = 30.0
    current_step_hints: bool = True
    rate_limit_jobs: bool = False
    destination_limit: int = 1
    state_file: str | None = None
    # Plan feature of §6.2: cron scheduling is an Advanced/Premium feature; off → AccessDenied.
    cron_scheduling: bool = True
    default_account_email: str = "owner@emulator.stitch.invalid"

    def __post_init__(self) -> None:
        # A frozen dataclass can only fill its own defaults through object.__setattr__.
        if self.token is None:
            object.__setattr__(self, "token", _credential("ac_"))
        if self.partner_id is None:
            object.__setattr__(self, "partner_id", _credential("oc_"))
        if self.partner_secret is None:
            object.__setattr__(self, "partner_secret", _credential("oc_"))
        object.__setattr__(self, "partner_redirect_uris", tuple(self.partner_redirect_uris))
        if self.check_delay < 0 or self.job_duration < 0:
            raise ValueError("check_delay and job_duration must not be negative")
        if self.destination_limit < 0:
            raise ValueError("destination_limit must not be negative")

    @property
    def access_token(self) -> str:
        """The default account's token (never None after construction)."""
        assert self.token is not None
        return self.token
