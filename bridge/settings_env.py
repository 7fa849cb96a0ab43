"""The table of environment variables the settings are read from: variable, field, parser.

`Settings.from_env` walks it, the README drift test compares it with the README's settings table,
and a parser's refusal names its variable. A variable left empty keeps the field's default (or
`unset`, for the lists the settings require).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bridge.oauth_apps import parse_oauth_apps

# What a parser answers: the value (or KEEP, the field's default) and the problems it found.
KEEP: Any = object()
Parser = Callable[[str, str], tuple[Any, list[str]]]


@dataclass(frozen=True)
class EnvSetting:
    env: str
    field: str
    parse: Parser
    unset: Any = KEEP  # the value when the variable is missing or blank


def _converting(convert: Callable[[str], Any], what: str) -> Parser:
    """A parser of one stripped value; `what` completes "<VAR>: '<raw>' is not …"."""

    def parse(env: str, raw: str) -> tuple[Any, list[str]]:
        text = raw.strip()
        try:
            return convert(text), []
        except ValueError:
            return KEEP, [f"{env}: {text!r} is not {what}"]

    return parse


def _listed(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _origins(raw: str) -> tuple[str, ...]:
    return tuple(origin.rstrip("/") for origin in _listed(raw))


def _flag(raw: str) -> bool:
    if raw.lower() in ("true", "1", "yes"):
        return True
    if raw.lower() in ("false", "0", "no"):
        return False
    raise ValueError(raw)


def _minutes(raw: str) -> tuple[int, ...]:
    return tuple(int(part) for part in _listed(raw))


def _oauth_apps(env: str, raw: str) -> tuple[Any, list[str]]:
    return parse_oauth_apps(raw)


def _text(raw: str) -> str:
    return raw


def _url(raw: str) -> str:
    return raw.rstrip("/")


_LIST = _converting(_listed, "a list")  # splitting never fails
_TEXT = _converting(_text, "text")
_URL = _converting(_url, "a URL")
_FLAG = _converting(_flag, "true or false")


def _whole(unit: str) -> Parser:
    return _converting(int, f"a whole number of {unit}")


ENV_SETTINGS: tuple[EnvSetting, ...] = (
    EnvSetting("BRIDGE_API_KEYS", "api_keys", _LIST, unset=()),
    EnvSetting("BRIDGE_SECRET_KEYS", "secret_keys", _LIST, unset=()),
    EnvSetting("BRIDGE_ALLOWED_ORIGINS", "allowed_origins", _converting(_origins, ""), unset=()),
    EnvSetting("STITCH_ACCESS_TOKEN", "stitch_access_token", _TEXT),
    EnvSetting("STITCH_PARTNER_ID", "stitch_partner_id", _TEXT),
    EnvSetting("STITCH_PARTNER_SECRET", "stitch_partner_secret", _TEXT),
    EnvSetting("BRIDGE_WEBHOOK_URL", "webhook_url", _TEXT),
    EnvSetting("BRIDGE_WEBHOOK_SECRET", "webhook_secret", _TEXT),
    EnvSetting(
        "BRIDGE_WEBHOOK_TIMEOUT", "webhook_timeout", _converting(float, "a number of seconds")
    ),
    EnvSetting("BRIDGE_SESSION_TTL", "session_ttl", _whole("seconds")),
    EnvSetting("BRIDGE_STEP_TTL", "step_ttl", _whole("seconds")),
    EnvSetting("BRIDGE_STEP_DRIVER", "step_driver", _TEXT),
    EnvSetting("BRIDGE_LOG_FORMAT", "log_format", _TEXT),
    EnvSetting("BRIDGE_OAUTH_APPS", "oauth_apps", _oauth_apps),
    EnvSetting(
        "BRIDGE_UPSTREAM_RATE", "upstream_rate", _converting(float, "a number of calls per second")
    ),
    EnvSetting("BRIDGE_UPSTREAM_BURST", "upstream_burst", _whole("calls")),
    EnvSetting("BRIDGE_SHARED_ACCOUNT_STITCHJS", "shared_account_stitchjs", _FLAG),
    EnvSetting("BRIDGE_MAX_SOURCES_PER_END_USER", "max_sources_per_end_user", _whole("sources")),
    EnvSetting(
        "BRIDGE_END_USER_FREQUENCIES",
        "end_user_frequencies",
        _converting(_minutes, "a comma-separated list of minutes"),
    ),
    EnvSetting("BRIDGE_END_USER_CRON", "end_user_cron", _FLAG),
    EnvSetting("BRIDGE_SYNC_POLL", "sync_poll", _whole("seconds")),
    EnvSetting("BRIDGE_JOBS_BUDGET", "jobs_budget", _whole("requests")),
    EnvSetting("BRIDGE_UPSTREAM_TRUST_ENV", "upstream_trust_env", _FLAG),
    EnvSetting("STITCH_API_URL", "stitch_api_url", _URL),
    EnvSetting("STITCH_APP_URL", "stitch_app_url", _URL),
    EnvSetting("STITCH_JS_URL", "stitch_js_url", _URL),
    EnvSetting("BRIDGE_PUBLIC_URL", "public_url", _URL),
    EnvSetting("BRIDGE_DATABASE_URL", "database_url", _TEXT),
)
ENV_NAMES = tuple(setting.env for setting in ENV_SETTINGS)


def read_env(values: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The Settings keyword arguments `values` (the environment) give, and the problems met."""
    kwargs: dict[str, Any] = {}
    problems: list[str] = []
    for setting in ENV_SETTINGS:
        raw = values.get(setting.env, "")
        if not raw.strip():
            value = setting.unset
        else:
            value, found = setting.parse(setting.env, raw)
            problems.extend(found)
        if value is not KEEP:
            kwargs[setting.field] = value
    return kwargs, problems
