"""`stitch-bridge emulator`: help, a real start in a subprocess, and `--state-file`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live import free_port


def _command() -> list[str]:
    script = Path(sys.executable).parent / "stitch-bridge"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bridge"]


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [*_command(), "emulator", "--help"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    for option in (
        "--port",
        "--token",
        "--partner-id",
        "--partner-secret",
        "--check-delay",
        "--job-duration",
        "--state-file",
    ):
        assert option in result.stdout


def _start(state_file: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *_command(),
            "emulator",
            "--port",
            str(port),
            "--token",
            "ac_cli_token",
            "--check-delay",
            "0",
            "--partner-id",
            "oc_id",
            "--partner-secret",
            "oc_secret",
            "--state-file",
            str(state_file),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/_emulator/clock", timeout=1)
            return
        except httpx.TransportError:
            assert process.poll() is None, process.communicate()[0]
            time.sleep(0.1)
    raise AssertionError("the emulator did not start")


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    try:
        return process.communicate(timeout=15)[0]
    finally:
        if process.poll() is None:
            process.kill()


def test_a_real_start_prints_what_to_use_and_persists_state(tmp_path: Path) -> None:
    state_file = tmp_path / "emulator.json"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    headers = {"Authorization": "Bearer ac_cli_token"}
    process = _start(state_file, port)
    try:
        _wait(url, process)
        body = {
            "type": "platform.recurly",
            "display_name": "Recurly",
            "properties": {
                "start_date": "2018-01-10T00:00:00Z",
                "api_key": "k",
                "quota_limit": "30",
                "subdomain": "s",
            },
        }
        created = httpx.post(f"{url}/v4/sources", json=body, headers=headers, timeout=5)
        assert created.status_code == 200, created.text
        assert created.json()["report_card"]["current_step_type"] == "field_selection"
    finally:
        output = _stop(process)
    assert f"Stitch Connect emulator at {url}" in output
    for expected in ("ac_cli_token", "oc_id", "oc_secret", "/_emulator/reset", "/_emulator/faults"):
        assert expected in output
    assert state_file.exists()

    process = _start(state_file, port)
    try:
        _wait(url, process)
        sources = httpx.get(f"{url}/v4/sources", headers=headers, timeout=5).json()
        assert [s["id"] for s in sources] == [created.json()["id"]]
        assert (
            len(
                httpx.get(
                    f"{url}/v4/sources/{sources[0]['id']}/streams", headers=headers, timeout=5
                ).json()
            )
            == 10
        )
    finally:
        _stop(process)


def test_binds_loopback_by_default() -> None:
    from bridge.cli import _build_parser

    args = _build_parser().parse_args(["emulator"])
    assert args.host == "127.0.0.1"


def test_redirect_uris_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from bridge.cli import _build_parser
    from stitch_emulator.server import config_from_args

    monkeypatch.setenv(
        "STITCH_EMULATOR_REDIRECT_URIS", "https://a.example/cb, https://b.example/cb"
    )
    config = config_from_args(
        _build_parser().parse_args(["emulator", "--no-hints", "--check-delay", "0.5"])
    )
    assert config.partner_redirect_uris == ("https://a.example/cb", "https://b.example/cb")
    assert config.current_step_hints is False and config.check_delay == 0.5
    assert str(config.token).startswith("ac_") and str(config.partner_secret).startswith("oc_")


def test_state_file_is_saved_after_changes_and_loaded_at_start(tmp_path: Path) -> None:
    from stitch_emulator import Clock, EmulatorConfig, create_app

    from .conftest import app_client
    from .factories import HUBSPOT

    config = EmulatorConfig(token="ac_saved", state_file=str(tmp_path / "state" / "emulator.json"))
    app = create_app(config, clock=Clock.frozen_at())
    with app_client(app, {"Authorization": "Bearer ac_saved"}) as client:
        created = client.post("/v4/sources", json=HUBSPOT).json()
        ephemeral = client.post("/v3/sessions/ephemeral").json()["ephemeral_token"]
    assert Path(str(config.state_file)).exists()

    reloaded = create_app(
        EmulatorConfig(token="ac_other", state_file=config.state_file), clock=Clock.frozen_at()
    )
    backend = reloaded.state.backend
    default = backend.default_account
    assert default.id == created["stitch_client_id"]
    assert {"ac_saved", "ac_other"} <= set(default.access_tokens)
    assert backend.get_source(default.id, created["id"]) == created
    assert backend.account_for_token(backend.exchange_ephemeral_token(ephemeral)) == default
