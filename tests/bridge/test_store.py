"""The schema is versioned: an upgrade keeps existing data; `migrate` and `check` say what they did."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from bridge.store import schema
from bridge.store.schema import LATEST, MIGRATIONS, create_engine, migrate, schema_version
from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.bridge.conftest import API_KEY, APP_ORIGIN, SECRET_KEY, STITCH_TOKEN
from tests.live import serve


def _run(database: Path, upto: int | None = None) -> list[int]:
    async def go() -> list[int]:
        engine = create_engine(f"sqlite+aiosqlite:///{database}")
        original = schema.MIGRATIONS
        if upto is not None:
            schema.MIGRATIONS = [m for m in original if m[0] <= upto]
        try:
            return await migrate(engine)
        finally:
            schema.MIGRATIONS = original
            await engine.dispose()

    return asyncio.run(go())


def test_an_upgrade_from_the_first_version_keeps_every_row(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    assert _run(database, upto=1) == [1]
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO sources (id, tenant, end_user_id, type, display_name, name, current_step,"
            " current_step_type, status, needs_reauth, created_at, updated_at)"
            " VALUES (42, '', 'kept', 'platform.recurly', 'Billing', 'billing', 1, 'form',"
            " 'needs_input', 0, 1.0, 1.0)"
        )
    applied = _run(database)
    assert applied == [v for v, _, _ in MIGRATIONS if v > 1]
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT end_user_id, display_name FROM sources").fetchall() == [
            ("kept", "Billing")
        ]
        assert db.execute("SELECT max(version) FROM schema_version").fetchone()[0] == LATEST
    assert _run(database) == []  # nothing left to do: migrations run once


def test_every_migration_has_a_distinct_increasing_version() -> None:
    versions = [v for v, _, _ in MIGRATIONS]
    assert versions == sorted(set(versions)) == list(range(1, LATEST + 1))
    assert all(callable(step) for _, _, step in MIGRATIONS)
    assert all(isinstance(what, str) and what for _, what, _ in MIGRATIONS)


def _cli(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bridge", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_migrate_and_check_commands(tmp_path: Path) -> None:
    with serve(create_emulator(EmulatorConfig(token=STITCH_TOKEN))) as emulator:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "STITCH_"))},
            "STITCH_ACCESS_TOKEN": STITCH_TOKEN,
            "STITCH_API_URL": emulator.url,
            "BRIDGE_API_KEYS": API_KEY,
            "BRIDGE_SECRET_KEYS": SECRET_KEY,
            "BRIDGE_ALLOWED_ORIGINS": APP_ORIGIN,
            "BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}",
        }
        first = _cli("migrate", env=env, cwd=tmp_path)
        assert first.returncode == 0, first.stderr
        assert f"schema upgraded to version {LATEST}" in first.stdout
        again = _cli("migrate", env=env, cwd=tmp_path)
        assert "up to date" in again.stdout
        checked = _cli("check", env=env, cwd=tmp_path)
        assert checked.returncode == 0, checked.stderr
        assert "source types visible" in checked.stdout
        assert f"schema version {LATEST}" in checked.stdout
        assert STITCH_TOKEN not in checked.stdout + checked.stderr

        refused = _cli(
            "check", env={**env, "STITCH_ACCESS_TOKEN": "ac_wrong_token_123"}, cwd=tmp_path
        )
        assert refused.returncode == 1
        assert "refused (HTTP 401)" in refused.stderr
        assert "ac_wrong_token_123" not in refused.stdout + refused.stderr

    unreachable = _cli("check", env={**env, "STITCH_API_URL": "http://127.0.0.1:9"}, cwd=tmp_path)
    assert unreachable.returncode == 1 and "not usable" in unreachable.stderr
    broken = _cli("check", env={**env, "BRIDGE_SESSION_TTL": "forever"}, cwd=tmp_path)
    assert broken.returncode == 2 and "BRIDGE_SESSION_TTL" in broken.stderr


def test_every_command_has_help(tmp_path: Path) -> None:
    for command in ("serve", "demo", "emulator", "keygen", "check", "migrate", "rotate-keys"):
        result = _cli(command, "--help", env=dict(os.environ), cwd=tmp_path)
        assert result.returncode == 0, command
        assert "usage: stitch-bridge" in result.stdout
    top = _cli("--help", env=dict(os.environ), cwd=tmp_path)
    assert "keygen" in top.stdout and "rotate-keys" in top.stdout


def test_keygen_prints_two_fresh_usable_keys(tmp_path: Path) -> None:
    out = _cli("keygen", env=dict(os.environ), cwd=tmp_path).stdout
    values = dict(line.split("=", 1) for line in out.split())
    assert set(values) == {"BRIDGE_SECRET_KEYS", "BRIDGE_API_KEYS"}
    assert all(len(v) >= 32 for v in values.values())
    assert out != _cli("keygen", env=dict(os.environ), cwd=tmp_path).stdout


def test_schema_version_reads_zero_on_an_empty_database(tmp_path: Path) -> None:
    async def go() -> int:
        engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
        try:
            return await schema_version(engine)
        finally:
            await engine.dispose()

    assert asyncio.run(go()) == 0


def test_an_upgrade_keeps_hosted_links_and_lets_an_old_claim_lapse(tmp_path: Path) -> None:
    """Links claimed before claims could lapse (maybe by a link preview) keep every field; their
    last activity is the claim, so they are free again once it is 30 minutes old."""
    database = tmp_path / "links.db"
    assert _run(database, upto=5) == list(range(1, 6))
    with sqlite3.connect(database) as db:
        db.execute(
            "INSERT INTO connect_links (id, secret_hash, tenant, end_user_id, created_at,"
            " expires_at, state, claim_hash, claimed_at)"
            " VALUES ('cl_kept', 'h', '', 'kept', 1.0, 9e9, 'in_use', 'c', 5.0)"
        )
    assert 6 in _run(database)
    with sqlite3.connect(database) as db:
        row = db.execute(
            "SELECT end_user_id, state, claim_hash, claimed_at, active_at FROM connect_links"
        ).fetchall()
    assert row == [("kept", "in_use", "c", 5.0, 5.0)]
