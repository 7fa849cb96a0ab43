"""Rotating BRIDGE_SECRET_KEYS: old rows stay readable, live sessions keep working, and
`stitch-bridge rotate-keys` moves stored tokens to the newest key."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from bridge.crypto import SecretBox, SecretUnreadable
from bridge.settings import Settings
from tests.bridge.conftest import API_KEY, APP_ORIGIN, RECURLY_PROPERTIES, SECRET_KEY
from tests.bridge.partner_stack import (
    PARTNER_ID,
    PARTNER_SECRET,
    PartnerStack,
    bridge_running,
    partner_stack,
)

NEW_KEY = "rotated-secret-key-" + "n" * 32
STRANGER_KEY = "unrelated-secret-key-" + "z" * 32


def _keys(stack: PartnerStack, *keys: str) -> Settings:
    return dataclasses.replace(stack.settings, secret_keys=keys)


def _stored_tokens(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as db:
        return dict(db.execute("SELECT id, access_token FROM tenants").fetchall())


def _rotate(stack: PartnerStack, keys: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`stitch-bridge rotate-keys`, configured from the environment as in production."""
    env = {
        **os.environ,
        "BRIDGE_API_KEYS": API_KEY,
        "BRIDGE_SECRET_KEYS": keys,
        "BRIDGE_ALLOWED_ORIGINS": APP_ORIGIN,
        "STITCH_PARTNER_ID": PARTNER_ID,
        "STITCH_PARTNER_SECRET": PARTNER_SECRET,
        "STITCH_API_URL": stack.emulator_url,
        "BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{stack.database}",
    }
    return subprocess.run(
        [sys.executable, "-m", "bridge", "rotate-keys"],
        env=env,
        cwd=cwd,  # no stray .env
        capture_output=True,
        text=True,
        timeout=60,
    )


def _read_source(stack: PartnerStack, token: str, source_id: int) -> httpx.Response:
    return stack.widget(token=token).get(f"/v1/sources/{source_id}")


def test_rotation_keeps_sessions_and_stored_tokens_working(
    tmp_path: Path,
) -> None:
    with partner_stack(tmp_path, start_bridge=False) as stack:
        with bridge_running(stack, stack.settings):
            stack.create_tenant("acme")
            live = stack.mint(end_user="alice", tenant="acme")
            made = stack.widget(token=live).post(
                "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
            )
            source_id = made.json()["source"]["id"]
        before = _stored_tokens(stack.database)

        # A new key in front: sessions and rows made with the old one keep working.
        with bridge_running(stack, _keys(stack, NEW_KEY, SECRET_KEY)):
            answer = _read_source(stack, live, source_id)
            assert answer.status_code == 200, answer.text
            stack.create_tenant("beta")  # written with the new key
        assert SecretBox((NEW_KEY,)).decrypt(_stored_tokens(stack.database)["beta"])

        # Re-encrypt what is stored with the newest key.
        rotated = _rotate(stack, f"{NEW_KEY},{SECRET_KEY}", tmp_path)
        assert rotated.returncode == 0, rotated.stderr
        assert "re-encrypted 1 stored secrets (1 already current)" in rotated.stdout
        after = _stored_tokens(stack.database)
        assert after["acme"] != before["acme"]
        plaintext = SecretBox((SECRET_KEY,)).decrypt(before["acme"])
        assert SecretBox((NEW_KEY,)).decrypt(after["acme"]) == plaintext
        with pytest.raises(SecretUnreadable):
            SecretBox((SECRET_KEY,)).decrypt(after["acme"])

        # The old key dropped: stored tokens still act for their tenants.
        with bridge_running(stack, _keys(stack, NEW_KEY)):
            fresh = stack.mint(end_user="alice", tenant="acme")
            answer = _read_source(stack, fresh, source_id)
            assert answer.status_code == 200, answer.text
            assert answer.json()["source"]["id"] == source_id
            # A session signed only with the dropped key has ended, as it must.
            assert _read_source(stack, live, source_id).status_code == 401


def test_stored_tokens_no_configured_key_opens_are_reported(
    tmp_path: Path,
) -> None:
    with partner_stack(tmp_path, start_bridge=False) as stack:
        original = stack.settings
        with bridge_running(stack, original):
            stack.create_tenant("acme")
        with bridge_running(stack, _keys(stack, STRANGER_KEY)):
            # Minting checks the tenant's account, so the operator hears of it at once.
            answer = stack.backend().post(
                "/v1/connect-sessions", json={"end_user": {"id": "alice"}, "tenant": "acme"}
            )
            assert answer.status_code == 502
            assert "BRIDGE_SECRET_KEYS" in answer.json()["error"]["message"]
        refused = _rotate(stack, STRANGER_KEY, tmp_path)
        assert refused.returncode == 1
        assert "acme" in refused.stderr and SECRET_KEY not in refused.stderr + refused.stdout
        with bridge_running(stack, original):  # the right key back: nothing was lost
            token = stack.mint(end_user="alice", tenant="acme")
            assert stack.widget(token=token).get("/v1/source-types").status_code == 200
