"""BRIDGE_OAUTH_APPS: the SaaS's white-label OAuth apps, checked at start-up, secrets kept out."""

from __future__ import annotations

import json

import pytest

from bridge.oauth_apps import OAuthApp
from bridge.settings import Settings, SettingsError

SECRET = "very-secret-client-secret-value"
BASE = {
    "BRIDGE_API_KEYS": "k" * 40,
    "BRIDGE_SECRET_KEYS": "s" * 40,
    "BRIDGE_ALLOWED_ORIGINS": "https://app.example.com",
    "STITCH_ACCESS_TOKEN": "ac_secret_token_value",
}
HUBSPOT = {
    "client_id": "acme",
    "client_secret": SECRET,
    "authorize_url": "https://app.hubspot.com/oauth/authorize",
    "token_url": "https://api.hubapi.com/oauth/v1/token",
    "scopes": ["oauth", "contacts"],
}


def _read(apps: object) -> Settings:
    raw = apps if isinstance(apps, str) else json.dumps(apps)
    return Settings.from_env({**BASE, "BRIDGE_OAUTH_APPS": raw}, env_file=None)


def test_apps_are_read_per_source_type() -> None:
    settings = _read({"platform.hubspot": HUBSPOT})
    assert settings.oauth_apps == (
        OAuthApp(
            source_type="platform.hubspot",
            client_id="acme",
            client_secret=SECRET,
            authorize_url="https://app.hubspot.com/oauth/authorize",
            token_url="https://api.hubapi.com/oauth/v1/token",
            scopes=("oauth", "contacts"),
            token_auth_method="client_secret_post",
        ),
    )
    assert SECRET in settings.secrets  # so log redaction knows it
    assert SECRET not in repr(settings) and SECRET not in repr(settings.oauth_apps)


def test_scopes_may_be_one_space_separated_string() -> None:
    settings = _read({"platform.hubspot": {**HUBSPOT, "scopes": "oauth  contacts"}})
    assert settings.oauth_apps[0].scopes == ("oauth", "contacts")


def test_without_the_setting_there_are_no_apps() -> None:
    assert Settings.from_env(BASE, env_file=None).oauth_apps == ()


def test_every_problem_has_its_own_line_and_no_secret() -> None:
    apps = {
        "platform.hubspot": {
            **HUBSPOT,
            "token_url": "ftp://nope",
            "client_id": "",
            "scopes": [1],
            "token_auth_method": "magic",
            "colour": "blue",
        },
        "platform.other": "not an object",
    }
    with pytest.raises(SettingsError) as raised:
        _read(apps)
    problems = raised.value.problems
    assert problems == [
        "BRIDGE_OAUTH_APPS[platform.hubspot]: unknown key 'colour'",
        "BRIDGE_OAUTH_APPS[platform.hubspot]: client_id is required (a non-empty string)",
        "BRIDGE_OAUTH_APPS[platform.hubspot]: token_url is not an http(s) URL",
        "BRIDGE_OAUTH_APPS[platform.hubspot]: scopes must be a list of strings "
        "(or one space-separated)",
        "BRIDGE_OAUTH_APPS[platform.hubspot]: token_auth_method must be one of "
        "client_secret_post, client_secret_basic",
        "BRIDGE_OAUTH_APPS[platform.other]: must be an object with client_id, client_secret, …",
    ]
    assert not any(SECRET in line for line in problems)


@pytest.mark.parametrize("raw", ['{"platform.hubspot": {"client_secret": "' + SECRET, "[1, 2]"])
def test_malformed_json_is_one_line_without_its_text(raw: str) -> None:
    with pytest.raises(SettingsError) as raised:
        _read(raw)
    [problem] = raised.value.problems
    assert problem.startswith("BRIDGE_OAUTH_APPS: ")
    assert SECRET not in problem


def test_apps_built_in_code_are_checked_too() -> None:
    app = OAuthApp(
        source_type="platform.hubspot",
        client_id="acme",
        client_secret=SECRET,
        authorize_url="not a url",
        token_url="https://example.com/token",
    )
    with pytest.raises(SettingsError) as raised:
        Settings(
            api_keys=("k" * 40,),
            secret_keys=("s" * 40,),
            allowed_origins=("https://app.example.com",),
            stitch_access_token="ac_token",
            oauth_apps=(app, app),
        )
    assert raised.value.problems == [
        "BRIDGE_OAUTH_APPS[platform.hubspot]: authorize_url is not an http(s) URL",
        "BRIDGE_OAUTH_APPS[platform.hubspot]: configured twice",
        "BRIDGE_OAUTH_APPS[platform.hubspot]: authorize_url is not an http(s) URL",
    ]
