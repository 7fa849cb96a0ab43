"""A SaaS's project with no conftest at all: installing stitch-bridge is enough for its tests to
get the fixtures (the pytest11 entry point), and `-p no:stitch_bridge` turns them off."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

SAAS_TEST = """
from stitch_bridge_client import Webhook


def test_connected(connected_source, webhook_receiver, stitch_bridge):
    source = connected_source("u-1", "platform.recurly")
    assert source.status == "connected"
    event = webhook_receiver.wait_for("source.connected", source_id=source.id)
    assert event["data"]["end_user_id"] == "u-1"
    delivery = webhook_receiver.deliveries[-1]
    Webhook.verify(delivery.body, delivery.headers["bridge-signature"], stitch_bridge.webhook_secret)
"""


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=150,
    )


def test_a_project_without_conftest_gets_the_fixtures(tmp_path: Path) -> None:
    (tmp_path / "test_saas.py").write_text(SAAS_TEST, encoding="utf-8")
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout


def test_the_plugin_can_be_turned_off(tmp_path: Path) -> None:
    (tmp_path / "test_saas.py").write_text(SAAS_TEST, encoding="utf-8")
    result = run_pytest(tmp_path, "-p", "no:stitch_bridge")
    assert result.returncode != 0 and "fixture 'connected_source' not found" in result.stdout
