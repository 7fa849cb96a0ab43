"""Calls to Stitch ignore proxy variables unless `BRIDGE_UPSTREAM_TRUST_ENV` says otherwise:
a stray HTTPS_PROXY must not route the bridge's Stitch token through someone else's host."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bridge.lifespan import open_services
from bridge.settings import Settings, SettingsError
from bridge.stitch.errors import StitchTransportError
from tests.live import free_port

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


class Proxy:
    """A forward proxy on loopback that answers every request itself and remembers its URL."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        seen = self.seen

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the stdlib's naming)
                seen.append(self.path)  # a proxy is sent the absolute URL
                body = b"[]"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[Proxy]:
    running = Proxy()
    thread = threading.Thread(target=running.server.serve_forever, daemon=True)
    thread.start()
    for name in PROXY_VARIABLES:
        monkeypatch.setenv(name, running.url)
        monkeypatch.setenv(name.lower(), running.url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


def settings(tmp_path: Path, trust_env: str | None) -> Settings:
    # Stitch's address: a loopback port nobody listens on, so only a proxy can answer.
    env = {
        "BRIDGE_API_KEYS": "k" * 40,
        "BRIDGE_SECRET_KEYS": "s" * 40,
        "BRIDGE_ALLOWED_ORIGINS": "https://app.example.com",
        "STITCH_ACCESS_TOKEN": "ac_" + "t" * 40,
        "STITCH_API_URL": f"http://127.0.0.1:{free_port()}",
        "BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}",
    }
    if trust_env is not None:
        env["BRIDGE_UPSTREAM_TRUST_ENV"] = trust_env
    return Settings.from_env(env, env_file=None)


async def list_types(settings: Settings) -> object:
    async with open_services(settings, run_workers=False) as services:
        account = await services.account_for(None)
        return await account.list_source_types()


async def test_by_default_calls_to_stitch_go_direct_whatever_the_proxy_variables(
    proxy: Proxy, tmp_path: Path
) -> None:
    with pytest.raises(StitchTransportError):
        await list_types(settings(tmp_path, None))
    assert proxy.seen == []


async def test_with_the_setting_calls_to_stitch_go_through_the_proxy(
    proxy: Proxy, tmp_path: Path
) -> None:
    configured = settings(tmp_path, "true")
    assert await list_types(configured) == []
    assert proxy.seen == [f"{configured.stitch_api_url}/v4/source-types"]


def test_the_setting_takes_only_true_or_false(tmp_path: Path) -> None:
    assert settings(tmp_path, "false").upstream_trust_env is False
    with pytest.raises(SettingsError, match="BRIDGE_UPSTREAM_TRUST_ENV"):
        settings(tmp_path, "sometimes")
