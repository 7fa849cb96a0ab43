"""Settings from the environment (and a `.env` file), validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bridge.oauth_apps import OAuthApp, oauth_app_problems
from bridge.settings_env import read_env

MIN_KEY_LENGTH = 32
DEFAULT_STITCH_JS_URL = "https://js.stitchdata.com/v1/stitch-client.umd.min.js"
# The values Stitch accepts for `frequency_in_minutes` (reference §4.6); end users get a subset.
STITCH_FREQUENCIES = (1, 30, 60, 360, 720, 1440)
DEFAULT_END_USER_FREQUENCIES = (30, 60, 360, 720, 1440)
JOBS_LIMIT = 30  # Stitch's `jobs` resource type: requests per 10 minutes per account (§8.1)


class SettingsError(Exception):
    """Raised with one line per problem, so start-up can print them all at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Settings:
    api_keys: tuple[str, ...]
    secret_keys: tuple[str, ...]
    allowed_origins: tuple[str, ...]
    stitch_access_token: str | None = None
    stitch_partner_id: str | None = None
    stitch_partner_secret: str | None = None
    stitch_api_url: str = "https://api.stitchdata.com"
    stitch_app_url: str = "https://app.stitchdata.com"
    stitch_js_url: str = DEFAULT_STITCH_JS_URL
    public_url: str = "http://127.0.0.1:8700"
    database_url: str = "sqlite+aiosqlite:///./bridge.db"
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    webhook_timeout: float = 10.0
    session_ttl: int = 900
    step_ttl: int = 600
    step_driver: Literal["stitchjs", "native"] | None = None
    log_format: Literal["json", "console"] | None = None
    oauth_apps: tuple[OAuthApp, ...] = ()  # white-label OAuth per source type (native driver)
    upstream_rate: float | None = None  # calls/s per Stitch credential, shared by replicas
    upstream_burst: int | None = None  # default: one second's worth of `upstream_rate`
    # Single-account mode: may a browser hold a Stitch ephemeral token (a login to the account)?
    shared_account_stitchjs: bool = False
    max_sources_per_end_user: int = 20
    end_user_frequencies: tuple[int, ...] = DEFAULT_END_USER_FREQUENCIES
    end_user_cron: bool = False
    sync_poll: int = 60  # how old the sync state shown may be, seconds (§4.8)
    jobs_budget: int = 20  # extractions/loads requests per 10 minutes per Stitch account
    # Proxy and TLS settings from the environment (HTTPS_PROXY, SSL_CERT_FILE...) for calls to
    # Stitch only when asked: a stray proxy variable must not silently reroute the bridge's token.
    upstream_trust_env: bool = False

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise SettingsError(problems)

    def __repr__(self) -> str:
        # Secrets never reach a log line or a traceback through repr().
        shown = ("stitch_api_url", "public_url", "allowed_origins", "mode", "driver")
        parts = ", ".join(f"{name}={getattr(self, name)!r}" for name in shown)
        return f"Settings({parts})"

    @property
    def partner_mode(self) -> bool:
        return self.stitch_partner_id is not None

    @property
    def mode(self) -> str:
        return "partner" if self.partner_mode else "single-account"

    @property
    def driver(self) -> Literal["stitchjs", "native"]:
        if self.step_driver is not None:
            return self.step_driver
        return "stitchjs" if self.partner_mode else "native"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value these settings hold (for log redaction and leak tests)."""
        values = (
            *self.api_keys,
            *self.secret_keys,
            self.stitch_access_token,
            self.stitch_partner_secret,
            self.webhook_secret,
            *(app.client_secret for app in self.oauth_apps),
        )
        return tuple(v for v in values if v)

    def problems(self) -> list[str]:
        problems = [*self._key_problems(), *self._mode_problems(), *self._url_problems()]
        problems.extend(message for holds, message in self._bounds() if not holds)
        problems.extend(oauth_app_problems(self.oauth_apps))
        problems.extend(self._end_user_problems())
        return problems

    def _key_problems(self) -> list[str]:
        problems: list[str] = []
        for env, keys, hint in (
            ("BRIDGE_API_KEYS", self.api_keys, "comma-separated"),
            ("BRIDGE_SECRET_KEYS", self.secret_keys, "comma-separated, newest first"),
        ):
            if not keys:
                problems.append(f"{env} is required ({hint}; see `stitch-bridge keygen`)")
            if any(len(key) < MIN_KEY_LENGTH for key in keys):
                problems.append(f"{env}: every key needs at least {MIN_KEY_LENGTH} characters")
        if not self.allowed_origins:
            problems.append("BRIDGE_ALLOWED_ORIGINS is required (the origins of your web app)")
        for origin in self.allowed_origins:
            if not _is_origin(origin):
                problems.append(
                    f"BRIDGE_ALLOWED_ORIGINS: {origin!r} is not an origin like https://app.example.com"
                )
        return problems

    def _mode_problems(self) -> list[str]:
        single = bool(self.stitch_access_token)
        partner = bool(self.stitch_partner_id) or bool(self.stitch_partner_secret)
        if single and partner:
            return [
                "set either STITCH_ACCESS_TOKEN or STITCH_PARTNER_ID/STITCH_PARTNER_SECRET, not both"
            ]
        if not single and not partner:
            return [
                "STITCH_ACCESS_TOKEN (one Stitch account) or STITCH_PARTNER_ID and "
                "STITCH_PARTNER_SECRET (partner mode) is required"
            ]
        if partner and not (self.stitch_partner_id and self.stitch_partner_secret):
            return ["partner mode needs both STITCH_PARTNER_ID and STITCH_PARTNER_SECRET"]
        return []

    def _url_problems(self) -> list[str]:
        problems = [
            f"{env}: not an http(s) URL"
            for env, url in (
                ("STITCH_API_URL", self.stitch_api_url),
                ("STITCH_APP_URL", self.stitch_app_url),
                ("STITCH_JS_URL", self.stitch_js_url),
                ("BRIDGE_PUBLIC_URL", self.public_url),
                ("BRIDGE_WEBHOOK_URL", self.webhook_url),
            )
            if url is not None and not _is_http_url(url)
        ]
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            problems.append(
                "BRIDGE_DATABASE_URL: use sqlite+aiosqlite:///path.db or "
                "postgresql+asyncpg://user:pass@host/db"
            )
        return problems

    def _bounds(self) -> list[tuple[bool, str]]:
        """Each rule on one value or a pair, with the line that reports it broken."""
        rate, burst = self.upstream_rate, self.upstream_burst
        return [
            (0 < self.webhook_timeout <= 120, "BRIDGE_WEBHOOK_TIMEOUT: must be between 0 and 120 seconds"),
            (not self.webhook_url or bool(self.webhook_secret), "BRIDGE_WEBHOOK_SECRET is required when BRIDGE_WEBHOOK_URL is set"),
            (1 <= self.session_ttl <= 86_400, "BRIDGE_SESSION_TTL: must be between 1 and 86400 seconds"),
            (1 <= self.step_ttl <= 86_400, "BRIDGE_STEP_TTL: must be between 1 and 86400 seconds"),
            (self.step_driver in (None, "stitchjs", "native"), "BRIDGE_STEP_DRIVER: must be `stitchjs` or `native`"),
            (self.log_format in (None, "json", "console"), "BRIDGE_LOG_FORMAT: must be `json` or `console`"),
            (rate is None or 0 < rate <= 10_000, "BRIDGE_UPSTREAM_RATE: must be between 0 and 10000 calls per second"),
            (burst is None or 1 <= burst <= 10_000, "BRIDGE_UPSTREAM_BURST: must be a whole number from 1 to 10000"),
            (burst is None or rate is not None, "BRIDGE_UPSTREAM_BURST: only means something with BRIDGE_UPSTREAM_RATE"),
            (1 <= self.sync_poll <= 86_400, "BRIDGE_SYNC_POLL: must be between 1 and 86400 seconds"),
            (1 <= self.jobs_budget <= JOBS_LIMIT, f"BRIDGE_JOBS_BUDGET: must be between 1 and {JOBS_LIMIT} (Stitch's `jobs` limit per 10 minutes)"),
        ]  # fmt: skip

    def _end_user_problems(self) -> list[str]:
        problems: list[str] = []
        if self.shared_account_stitchjs and self.partner_mode:
            problems.append(
                "BRIDGE_SHARED_ACCOUNT_STITCHJS: only means something in single-account mode "
                "(partner mode gives each tenant its own account)"
            )
        if (
            self.stitch_access_token
            and self.driver == "stitchjs"
            and not self.shared_account_stitchjs
        ):
            # Every step would need Stitch.js, which is refused: the bridge would offer nothing.
            problems.append(
                "BRIDGE_STEP_DRIVER=stitchjs in single-account mode hands every end user a "
                "12-hour Stitch login to the whole shared account: use the native driver with "
                "BRIDGE_OAUTH_APPS, or accept that with BRIDGE_SHARED_ACCOUNT_STITCHJS=true"
            )
        if not 1 <= self.max_sources_per_end_user <= 100_000:
            problems.append(
                "BRIDGE_MAX_SOURCES_PER_END_USER: must be a whole number from 1 to 100000"
            )
        allowed = ", ".join(str(f) for f in STITCH_FREQUENCIES)
        if not self.end_user_frequencies or any(
            f not in STITCH_FREQUENCIES for f in self.end_user_frequencies
        ):
            problems.append(
                f"BRIDGE_END_USER_FREQUENCIES: one or more of {allowed} (minutes), comma-separated"
            )
        return problems

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, *, env_file: Path | None = Path(".env")
    ) -> Settings:
        """Read settings; real environment variables win over the `.env` file."""
        values: dict[str, str] = {}
        if env_file is not None and env_file.is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        kwargs, problems = read_env(values)
        try:
            settings = cls(**kwargs)
        except SettingsError as error:
            raise SettingsError(problems + error.problems) from None
        if problems:
            raise SettingsError(problems)
        return settings


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _is_origin(value: str) -> bool:
    parts = urlsplit(value)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and parts.path in ("", "/")
        and not parts.query
        and not parts.fragment
        and "@" not in parts.netloc
    )
