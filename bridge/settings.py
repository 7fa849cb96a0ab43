"""Settings from the environment (and a `.env` file), validated once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from dotenv import dotenv_values

from bridge.oauth_apps import OAuthApp, oauth_app_problems, parse_oauth_apps

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
        problems: list[str] = []
        if not self.api_keys:
            problems.append(
                "BRIDGE_API_KEYS is required (comma-separated; see `stitch-bridge keygen`)"
            )
        for key in self.api_keys:
            if len(key) < MIN_KEY_LENGTH:
                problems.append(
                    f"BRIDGE_API_KEYS: every key needs at least {MIN_KEY_LENGTH} characters"
                )
                break
        if not self.secret_keys:
            problems.append(
                "BRIDGE_SECRET_KEYS is required (comma-separated, newest first; "
                "see `stitch-bridge keygen`)"
            )
        for key in self.secret_keys:
            if len(key) < MIN_KEY_LENGTH:
                problems.append(
                    f"BRIDGE_SECRET_KEYS: every key needs at least {MIN_KEY_LENGTH} characters"
                )
                break
        if not self.allowed_origins:
            problems.append("BRIDGE_ALLOWED_ORIGINS is required (the origins of your web app)")
        for origin in self.allowed_origins:
            if not _is_origin(origin):
                problems.append(
                    f"BRIDGE_ALLOWED_ORIGINS: {origin!r} is not an origin like https://app.example.com"
                )
        single = bool(self.stitch_access_token)
        partner = bool(self.stitch_partner_id) or bool(self.stitch_partner_secret)
        if single and partner:
            problems.append(
                "set either STITCH_ACCESS_TOKEN or STITCH_PARTNER_ID/STITCH_PARTNER_SECRET, not both"
            )
        elif not single and not partner:
            problems.append(
                "STITCH_ACCESS_TOKEN (one Stitch account) or STITCH_PARTNER_ID and "
                "STITCH_PARTNER_SECRET (partner mode) is required"
            )
        elif partner and not (self.stitch_partner_id and self.stitch_partner_secret):
            problems.append("partner mode needs both STITCH_PARTNER_ID and STITCH_PARTNER_SECRET")
        for name in ("stitch_api_url", "stitch_app_url", "stitch_js_url", "public_url"):
            if not _is_http_url(getattr(self, name)):
                problems.append(
                    f"{name.upper().replace('PUBLIC', 'BRIDGE_PUBLIC')}: not an http(s) URL"
                )
        if self.webhook_url is not None and not _is_http_url(self.webhook_url):
            problems.append("BRIDGE_WEBHOOK_URL: not an http(s) URL")
        if not 0 < self.webhook_timeout <= 120:
            problems.append("BRIDGE_WEBHOOK_TIMEOUT: must be between 0 and 120 seconds")
        if self.webhook_url and not self.webhook_secret:
            problems.append("BRIDGE_WEBHOOK_SECRET is required when BRIDGE_WEBHOOK_URL is set")
        if not 1 <= self.session_ttl <= 86_400:
            problems.append("BRIDGE_SESSION_TTL: must be between 1 and 86400 seconds")
        if not 1 <= self.step_ttl <= 86_400:
            problems.append("BRIDGE_STEP_TTL: must be between 1 and 86400 seconds")
        if self.step_driver not in (None, "stitchjs", "native"):
            problems.append("BRIDGE_STEP_DRIVER: must be `stitchjs` or `native`")
        if self.log_format not in (None, "json", "console"):
            problems.append("BRIDGE_LOG_FORMAT: must be `json` or `console`")
        if self.upstream_rate is not None and not 0 < self.upstream_rate <= 10_000:
            problems.append("BRIDGE_UPSTREAM_RATE: must be between 0 and 10000 calls per second")
        if self.upstream_burst is not None and not 1 <= self.upstream_burst <= 10_000:
            problems.append("BRIDGE_UPSTREAM_BURST: must be a whole number from 1 to 10000")
        if self.upstream_burst is not None and self.upstream_rate is None:
            problems.append("BRIDGE_UPSTREAM_BURST: only means something with BRIDGE_UPSTREAM_RATE")
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            problems.append(
                "BRIDGE_DATABASE_URL: use sqlite+aiosqlite:///path.db or "
                "postgresql+asyncpg://user:pass@host/db"
            )
        if not 1 <= self.sync_poll <= 86_400:
            problems.append("BRIDGE_SYNC_POLL: must be between 1 and 86400 seconds")
        if not 1 <= self.jobs_budget <= JOBS_LIMIT:
            problems.append(
                f"BRIDGE_JOBS_BUDGET: must be between 1 and {JOBS_LIMIT} (Stitch's `jobs` limit "
                "per 10 minutes)"
            )
        problems.extend(oauth_app_problems(self.oauth_apps))
        problems.extend(self._end_user_problems())
        return problems

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
        problems: list[str] = []

        def text(name: str) -> str | None:
            value = values.get(name, "").strip()
            return value or None

        def listed(name: str) -> tuple[str, ...]:
            return tuple(part.strip() for part in values.get(name, "").split(",") if part.strip())

        def number(name: str, default: float) -> float:
            raw = text(name)
            if raw is None:
                return default
            try:
                return float(raw)
            except ValueError:
                problems.append(f"{name}: {raw!r} is not a number of seconds")
                return default

        def optional_number(name: str, unit: str, *, whole: bool = False) -> float | int | None:
            raw = text(name)
            if raw is None:
                return None
            try:
                return int(raw) if whole else float(raw)
            except ValueError:
                kind = "whole number" if whole else "number"
                problems.append(f"{name}: {raw!r} is not a {kind} of {unit}")
                return None

        def integer(name: str, default: int, unit: str = "seconds") -> int:
            raw = text(name)
            if raw is None:
                return default
            try:
                return int(raw)
            except ValueError:
                problems.append(f"{name}: {raw!r} is not a whole number of {unit}")
                return default

        def flag(name: str, default: bool) -> bool:
            raw = text(name)
            if raw is None:
                return default
            if raw.lower() in ("true", "1", "yes"):
                return True
            if raw.lower() in ("false", "0", "no"):
                return False
            problems.append(f"{name}: {raw!r} is not true or false")
            return default

        def minutes(name: str, default: tuple[int, ...]) -> tuple[int, ...]:
            if text(name) is None:
                return default
            try:
                return tuple(int(part) for part in listed(name))
            except ValueError:
                problems.append(f"{name}: {text(name)!r} is not a comma-separated list of minutes")
                return default

        oauth_apps, oauth_app_errors = parse_oauth_apps(values.get("BRIDGE_OAUTH_APPS"))
        problems.extend(oauth_app_errors)
        kwargs: dict[str, object] = {
            "api_keys": listed("BRIDGE_API_KEYS"),
            "secret_keys": listed("BRIDGE_SECRET_KEYS"),
            "allowed_origins": tuple(o.rstrip("/") for o in listed("BRIDGE_ALLOWED_ORIGINS")),
            "stitch_access_token": text("STITCH_ACCESS_TOKEN"),
            "stitch_partner_id": text("STITCH_PARTNER_ID"),
            "stitch_partner_secret": text("STITCH_PARTNER_SECRET"),
            "webhook_url": text("BRIDGE_WEBHOOK_URL"),
            "webhook_secret": text("BRIDGE_WEBHOOK_SECRET"),
            "webhook_timeout": number("BRIDGE_WEBHOOK_TIMEOUT", 10.0),
            "session_ttl": integer("BRIDGE_SESSION_TTL", 900),
            "step_ttl": integer("BRIDGE_STEP_TTL", 600),
            "step_driver": text("BRIDGE_STEP_DRIVER"),
            "log_format": text("BRIDGE_LOG_FORMAT"),
            "oauth_apps": oauth_apps,
            "upstream_rate": optional_number("BRIDGE_UPSTREAM_RATE", "calls per second"),
            "upstream_burst": optional_number("BRIDGE_UPSTREAM_BURST", "calls", whole=True),
            "shared_account_stitchjs": flag("BRIDGE_SHARED_ACCOUNT_STITCHJS", False),
            "max_sources_per_end_user": integer("BRIDGE_MAX_SOURCES_PER_END_USER", 20, "sources"),
            "end_user_frequencies": minutes(
                "BRIDGE_END_USER_FREQUENCIES", DEFAULT_END_USER_FREQUENCIES
            ),
            "end_user_cron": flag("BRIDGE_END_USER_CRON", False),
            "sync_poll": integer("BRIDGE_SYNC_POLL", 60, "seconds"),
            "jobs_budget": integer("BRIDGE_JOBS_BUDGET", 20, "requests"),
            "upstream_trust_env": flag("BRIDGE_UPSTREAM_TRUST_ENV", False),
        }
        for name, env in (
            ("stitch_api_url", "STITCH_API_URL"),
            ("stitch_app_url", "STITCH_APP_URL"),
            ("stitch_js_url", "STITCH_JS_URL"),
            ("public_url", "BRIDGE_PUBLIC_URL"),
            ("database_url", "BRIDGE_DATABASE_URL"),
        ):
            value = text(env)
            if value is not None:
                kwargs[name] = value.rstrip("/") if name != "database_url" else value
        try:
            settings = cls(**kwargs)  # type: ignore[arg-type]
        except SettingsError as error:
            raise SettingsError(problems + error.problems) from None
        if problems:
            raise SettingsError(problems)
        return settings


SETTING_NAMES = tuple(f.name for f in fields(Settings))


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
