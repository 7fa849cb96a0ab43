"""The bridge as a real process (`python -m bridge serve`), for crash and shutdown tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.bridge.conftest import API_KEY, APP_ORIGIN, SECRET_KEY, STITCH_TOKEN


def bridge_env(emulator_url: str, port: int, database: Path, **extra: str) -> dict[str, str]:
    """A clean environment: the parent's BRIDGE_/STITCH_ variables never leak in."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("BRIDGE_", "STITCH_"))},
        "STITCH_ACCESS_TOKEN": STITCH_TOKEN,
        "STITCH_API_URL": emulator_url,
        "STITCH_APP_URL": emulator_url,
        "BRIDGE_API_KEYS": API_KEY,
        "BRIDGE_SECRET_KEYS": SECRET_KEY,
        "BRIDGE_ALLOWED_ORIGINS": APP_ORIGIN,
        "BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{database}",
        "BRIDGE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BRIDGE_LOG_FORMAT": "json",
        **extra,
    }


class Bridge:
    """`stitch-bridge serve` in its own process, so it can really be killed."""

    def __init__(self, env: dict[str, str], port: int, cwd: Path) -> None:
        self.env, self.port, self.cwd = env, port, cwd
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.log = cwd / "bridge.log"

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bridge", "serve", "--port", str(self.port)],
                env=self.env,
                cwd=self.cwd,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise AssertionError("the bridge did not become ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)
