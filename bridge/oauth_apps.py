"""White-label OAuth apps (BRIDGE_OAUTH_APPS): the SaaS's own OAuth client per source type.

Parsed and checked with the other settings; it imports nothing of the app, and a client secret
never appears in a repr or in a problem message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SETTING = "BRIDGE_OAUTH_APPS"
TOKEN_AUTH_METHODS = ("client_secret_post", "client_secret_basic")
_KEYS = ("client_id", "client_secret", "authorize_url", "token_url", "scopes", "token_auth_method")


@dataclass(frozen=True)
class OAuthApp:
    """One OAuth app registered by the SaaS with a provider, used for sources of `source_type`."""

    source_type: str
    client_id: str
    client_secret: str = field(repr=False)
    authorize_url: str
    token_url: str
    scopes: tuple[str, ...] = ()
    token_auth_method: str = "client_secret_post"


def parse_oauth_apps(raw: str | None) -> tuple[tuple[OAuthApp, ...], list[str]]:
    """(apps, problems) from the setting's JSON: `{"<source type>": {"client_id", …}}`."""
    if raw is None or not raw.strip():
        return (), []
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as error:
        # The decoder's message names a position, never the text (which may hold a secret).
        return (), [f"{SETTING}: not valid JSON ({error})"]
    if not isinstance(data, dict):
        return (), [f'{SETTING}: must be a JSON object like {{"platform.hubspot": {{…}}}}']
    apps: list[OAuthApp] = []
    problems: list[str] = []
    for source_type, entry in data.items():
        where = f"{SETTING}[{source_type}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be an object with client_id, client_secret, …")
            continue
        for key in entry:
            if key not in _KEYS:
                problems.append(f"{where}: unknown key {str(key)[:40]!r}")
        texts = {}
        for key in ("client_id", "client_secret", "authorize_url", "token_url"):
            value = entry.get(key)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}: {key} is required (a non-empty string)")
            elif key.endswith("_url") and not _is_http_url(value.strip()):
                problems.append(f"{where}: {key} is not an http(s) URL")
            else:
                texts[key] = value.strip()
        scopes = entry.get("scopes", [])
        if isinstance(scopes, str):
            scopes = scopes.split()
        if not isinstance(scopes, list) or not all(isinstance(s, str) and s for s in scopes):
            problems.append(f"{where}: scopes must be a list of strings (or one space-separated)")
            scopes = []
        method = entry.get("token_auth_method", "client_secret_post")
        if method not in TOKEN_AUTH_METHODS:
            problems.append(
                f"{where}: token_auth_method must be one of {', '.join(TOKEN_AUTH_METHODS)}"
            )
            method = "client_secret_post"
        if len(texts) == 4:
            apps.append(
                OAuthApp(
                    source_type=source_type,
                    client_id=texts["client_id"],
                    client_secret=texts["client_secret"],
                    authorize_url=texts["authorize_url"],
                    token_url=texts["token_url"],
                    scopes=tuple(scopes),
                    token_auth_method=method,
                )
            )
    return tuple(apps), problems


def oauth_app_problems(apps: tuple[OAuthApp, ...]) -> list[str]:
    """What is wrong with apps however they were made (environment or code)."""
    problems: list[str] = []
    seen: set[str] = set()
    for app in apps:
        where = f"{SETTING}[{app.source_type}]"
        if app.source_type in seen:
            problems.append(f"{where}: configured twice")
        seen.add(app.source_type)
        for name in ("authorize_url", "token_url"):
            if not _is_http_url(getattr(app, name)):
                problems.append(f"{where}: {name} is not an http(s) URL")
        if not app.client_id or not app.client_secret:
            problems.append(f"{where}: client_id and client_secret are required")
        if app.token_auth_method not in TOKEN_AUTH_METHODS:
            problems.append(
                f"{where}: token_auth_method must be one of {', '.join(TOKEN_AUTH_METHODS)}"
            )
    return problems


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.netloc) and not parts.fragment
