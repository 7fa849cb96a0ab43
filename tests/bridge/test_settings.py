"""Settings: every problem reported at once, one clear line each, and no secret in a repr."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import pytest

from bridge.settings import Settings, SettingsError
from bridge.settings_env import ENV_NAMES, ENV_SETTINGS

KEY = "k" * 40
GOOD = {
    "BRIDGE_API_KEYS": KEY,
    "BRIDGE_SECRET_KEYS": "s" * 40,
    "BRIDGE_ALLOWED_ORIGINS": "https://app.example.com",
    "STITCH_ACCESS_TOKEN": "ac_secret_token_value",
}


def _read(env: dict[str, str], tmp_path: Path | None = None) -> Settings:
    return Settings.from_env(env, env_file=(tmp_path / ".env") if tmp_path else None)


def test_good_settings_choose_single_account_mode_and_the_native_driver() -> None:
    settings = _read(GOOD)
    assert settings.mode == "single-account"
    assert settings.driver == "native"
    assert settings.database_url == "sqlite+aiosqlite:///./bridge.db"


def test_partner_mode_defaults_to_the_stitchjs_driver() -> None:
    env = {k: v for k, v in GOOD.items() if k != "STITCH_ACCESS_TOKEN"}
    settings = _read({**env, "STITCH_PARTNER_ID": "oc_id", "STITCH_PARTNER_SECRET": "oc_secret"})
    assert settings.partner_mode and settings.driver == "stitchjs"


def test_every_problem_is_reported_on_its_own_line() -> None:
    with pytest.raises(SettingsError) as raised:
        _read({"BRIDGE_SESSION_TTL": "soon", "BRIDGE_ALLOWED_ORIGINS": "not an origin"})
    problems = raised.value.problems
    assert any(p.startswith("BRIDGE_SESSION_TTL") for p in problems)
    assert any(p.startswith("BRIDGE_API_KEYS is required") for p in problems)
    assert any(p.startswith("BRIDGE_SECRET_KEYS is required") for p in problems)
    assert any("not an origin like" in p for p in problems)
    assert any("STITCH_ACCESS_TOKEN" in p for p in problems)
    assert len(str(raised.value).splitlines()) == len(problems)


def test_both_modes_at_once_are_refused() -> None:
    with pytest.raises(SettingsError) as raised:
        _read({**GOOD, "STITCH_PARTNER_ID": "oc_id", "STITCH_PARTNER_SECRET": "oc_s"})
    assert any("not both" in p for p in raised.value.problems)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("BRIDGE_API_KEYS", "short"),
        ("BRIDGE_SECRET_KEYS", "short"),
        ("BRIDGE_STEP_DRIVER", "popup"),
        ("BRIDGE_LOG_FORMAT", "xml"),
        ("BRIDGE_DATABASE_URL", "mysql://x"),
        ("BRIDGE_WEBHOOK_URL", "ftp://hooks"),
        ("STITCH_API_URL", "api.stitchdata.com"),
        ("BRIDGE_STEP_TTL", "0"),
        ("BRIDGE_SYNC_POLL", "0"),
        ("BRIDGE_JOBS_BUDGET", "31"),
        ("BRIDGE_END_USER_FREQUENCIES", "45"),
        ("BRIDGE_END_USER_CRON", "maybe"),
    ],
)
def test_a_malformed_setting_names_itself(name: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        _read({**GOOD, name: value})
    assert any(name.split("_", 1)[1][:6].lower() in p.lower() for p in raised.value.problems)


def test_the_after_connect_settings_default_as_documented_and_are_read() -> None:
    defaults = _read(GOOD)
    assert (defaults.sync_poll, defaults.jobs_budget) == (60, 20)
    assert defaults.end_user_frequencies == (30, 60, 360, 720, 1440)
    assert defaults.end_user_cron is False
    chosen = _read(
        {
            **GOOD,
            "BRIDGE_SYNC_POLL": "300",
            "BRIDGE_JOBS_BUDGET": "10",
            "BRIDGE_END_USER_FREQUENCIES": "60, 1440",
            "BRIDGE_END_USER_CRON": "true",
        }
    )
    assert (chosen.sync_poll, chosen.jobs_budget) == (300, 10)
    assert chosen.end_user_frequencies == (60, 1440) and chosen.end_user_cron is True


def test_a_dotenv_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "BRIDGE_SESSION_TTL=120\nBRIDGE_STEP_TTL=30\nBRIDGE_API_KEYS=" + "d" * 40 + "\n"
    )
    settings = _read({**GOOD, "BRIDGE_STEP_TTL": "45"}, tmp_path)
    assert settings.session_ttl == 120
    assert settings.step_ttl == 45
    assert settings.api_keys == (KEY,)


def test_repr_shows_no_secret() -> None:
    settings = _read({**GOOD, "BRIDGE_WEBHOOK_URL": "https://h", "BRIDGE_WEBHOOK_SECRET": "w" * 20})
    text = repr(settings)
    for secret in settings.secrets:
        assert secret not in text


def _settings_table() -> set[str]:
    """The variables named in the first column of the README's settings table."""
    import re

    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Settings")[1].split("\n## ")[0]
    first_cells = [line.split("|")[1] for line in section.splitlines() if line.startswith("| `")]
    return {name for cell in first_cells for name in re.findall(r"`([A-Z_]+)`", cell)}


def test_every_setting_in_the_readme_table_is_read_from_the_environment() -> None:
    """Drift: a variable the README documents but the settings table does not read fails here."""
    missing = sorted(_settings_table() - set(ENV_NAMES))
    assert not missing, f"documented but not read: {missing}"


def test_every_setting_the_bridge_reads_is_in_the_readme() -> None:
    """Drift: a variable read from the environment but missing from the README fails here."""
    missing = sorted(set(ENV_NAMES) - _settings_table())
    assert not missing, f"settings missing from the README's table: {missing}"


def test_the_table_fills_every_field_and_each_variable_is_read_once() -> None:
    assert sorted(s.field for s in ENV_SETTINGS) == sorted(f.name for f in fields(Settings))
    assert len(set(ENV_NAMES)) == len(ENV_NAMES)
    for setting in ENV_SETTINGS:
        assert setting.env.startswith(("BRIDGE_", "STITCH_"))
