"""`stitch-bridge demo`: the emulator, the bridge and the demo site on three loopback origins.

`start_stack` is the reusable part (the command and the browser tests use it); the emulator and
the demo site are imported lazily, so the bridge itself never depends on them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import httpx
import uvicorn
from starlette.applications import Starlette

from bridge.assets import AssetCache
from bridge.clock import Clock, SystemClock
from bridge.oauth_apps import OAuthApp
from bridge.settings import JOBS_LIMIT, Settings, SettingsError

Driver = Literal["stitchjs", "native"]
HOST = "127.0.0.1"
START_TIMEOUT = 20.0


@dataclass(frozen=True)
class Stack:
    """Where the three parts of a running demo answer, and the secrets that tie them."""

    emulator_url: str
    bridge_url: str
    demo_url: str
    api_key: str
    stitch_access_token: str
    mode: str
    driver: str
    data_dir: Path
    # What the bridge reads the time from (a test may pass one it can move: link expiry).
    bridge_clock: Clock = field(default_factory=SystemClock)


@dataclass(frozen=True)
class _Secrets:
    api_key: str
    secret_key: str
    stitch_access_token: str
    oauth_client_secret: str
    webhook_secret: str

    @classmethod
    def load_or_create(cls, path: Path) -> _Secrets:
        """Kept in the data dir, so a restarted demo can still read what it stored before."""
        saved: dict[str, Any] = {}
        with contextlib.suppress(FileNotFoundError, ValueError):
            loaded = json.loads(path.read_text(encoding="utf-8"))
            saved = loaded if isinstance(loaded, dict) else {}
        made = cls(
            api_key=saved.get("api_key") or secrets.token_urlsafe(32),
            secret_key=saved.get("secret_key") or secrets.token_urlsafe(32),
            stitch_access_token=saved.get("stitch_access_token") or "ac_" + secrets.token_hex(16),
            oauth_client_secret=saved.get("oauth_client_secret") or secrets.token_urlsafe(24),
            webhook_secret=saved.get("webhook_secret") or secrets.token_urlsafe(32),
        )
        if made.__dict__ != saved:
            path.write_text(json.dumps(made.__dict__), encoding="utf-8")
            path.chmod(0o600)
        return made


def _bind(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise OSError(f"cannot listen on {HOST}:{port} ({exc.strerror})") from exc
    return sock


def _url(sock: socket.socket) -> str:
    return f"http://{HOST}:{sock.getsockname()[1]}"


@contextlib.contextmanager
def _serving(app: Any, sock: socket.socket, name: str) -> Iterator[None]:
    """Serve `app` on `sock` from a background thread (its own event loop) until the block ends."""
    config = uvicorn.Config(app, lifespan="on", log_level="warning", access_log=False)
    # Off the main thread uvicorn leaves signals alone: Ctrl-C stops the demo, not one server.
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=lambda: asyncio.run(server.serve(sockets=[sock])), name=f"demo-{name}", daemon=True
    )
    thread.start()
    waited = threading.Event()
    for _ in range(int(START_TIMEOUT / 0.02)):
        if server.started or not thread.is_alive():
            break
        waited.wait(0.02)
    try:
        if not server.started:
            raise RuntimeError(f"the {name} did not start (see the log above)")
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@contextlib.contextmanager
def start_stack(
    data_dir: Path | str,
    *,
    port_base: int | None = None,
    step_driver: Driver | None = None,
    check_delay: float = 2.0,
    session_ttl: int = 900,
    demo_session_ttl: int | None = None,
    persist: bool = True,
    white_label_oauth: bool = True,
    bridge_clock: Clock | None = None,
    job_duration: float = 5.0,
) -> Iterator[Stack]:
    """Start emulator, bridge and demo site; yield their URLs; stop all three on exit.

    Ports are `port_base` (bridge), `+1` (demo site) and `+2` (emulator), or free ones when
    `port_base` is None. `persist` keeps the emulator's state and the secrets in `data_dir`
    across runs (the bridge's SQLite file is always there). `white_label_oauth` registers the
    demo's own OAuth app for HubSpot with the emulator's fake provider, which the native driver
    uses instead of Stitch.js for the OAuth step. The bridge sends its signed webhooks to the
    demo site's receiver. `bridge_clock` replaces the bridge's clock (tests move it).
    `job_duration` is how long the emulator's replication jobs run: short, so that a person
    clicking "Sync now" sees it finish; the bridge reads sync state as often as the jobs budget
    allows (the most the settings accept, which the emulator's unlimited jobs API can take).
    """
    data = Path(data_dir)
    data.mkdir(parents=True, exist_ok=True)
    keys = _Secrets.load_or_create(data / "secrets.json")
    ports = (port_base, port_base + 1, port_base + 2) if port_base else (0, 0, 0)
    with contextlib.ExitStack() as stack:
        bridge_sock, demo_sock, emulator_sock = (
            stack.enter_context(contextlib.closing(_bind(port))) for port in ports
        )
        bridge_url, demo_url, emulator_url = (
            _url(s) for s in (bridge_sock, demo_sock, emulator_sock)
        )
        state_file = str(data / "emulator-state.json") if persist else None
        emulator = _emulator(keys, check_delay, job_duration, state_file)
        settings = _bridge_settings(
            keys,
            data,
            (bridge_url, demo_url, emulator_url),
            session_ttl=session_ttl,
            step_driver=step_driver,
            white_label_oauth=white_label_oauth,
        )
        from bridge.app import create_app as create_bridge

        clock = bridge_clock or SystemClock()
        assets = AssetCache()
        bridge = create_bridge(settings, clock=clock, assets=assets)
        demo = _demo_site(keys, settings, assets, demo_url, demo_session_ttl)
        stack.enter_context(_serving(emulator, emulator_sock, "emulator"))
        if settings.oauth_apps:
            _register_oauth_client(emulator_url, keys, bridge_url)
        stack.enter_context(_serving(bridge, bridge_sock, "bridge"))
        stack.enter_context(_serving(demo, demo_sock, "demo site"))
        yield _stack(keys, settings, data, (emulator_url, demo_url), clock)


def _stack(
    keys: _Secrets, settings: Settings, data: Path, urls: tuple[str, str], clock: Clock
) -> Stack:
    emulator, demo = urls
    return Stack(
        emulator_url=emulator,
        bridge_url=settings.public_url,
        demo_url=demo,
        api_key=keys.api_key,
        stitch_access_token=keys.stitch_access_token,
        mode=settings.mode,
        driver=settings.driver,
        data_dir=data,
        bridge_clock=clock,
    )


def _emulator(
    keys: _Secrets, check_delay: float, job_duration: float, state_file: str | None
) -> Starlette:
    from stitch_emulator import EmulatorConfig
    from stitch_emulator import create_app as create_emulator

    config = EmulatorConfig(
        token=keys.stitch_access_token,
        check_delay=check_delay,
        job_duration=job_duration,
        state_file=state_file,
    )
    return create_emulator(config)


def _bridge_settings(
    keys: _Secrets,
    data: Path,
    urls: tuple[str, str, str],
    *,
    session_ttl: int,
    step_driver: Driver | None,
    white_label_oauth: bool,
) -> Settings:
    """The demo bridge's settings: the emulator as Stitch, the demo site as the SaaS."""
    bridge_url, demo_url, emulator_url = urls
    return Settings(
        api_keys=(keys.api_key,),
        secret_keys=(keys.secret_key,),
        allowed_origins=(demo_url,),
        stitch_access_token=keys.stitch_access_token,
        stitch_api_url=emulator_url,
        stitch_app_url=emulator_url,
        stitch_js_url=f"{emulator_url}/stitch.js",
        public_url=bridge_url,
        database_url=f"sqlite+aiosqlite:///{(data / 'bridge.db').resolve()}",
        session_ttl=session_ttl,
        step_driver=step_driver,
        # Sync state as fresh as the jobs budget allows (the most the settings accept, which
        # the emulator's unlimited jobs API can take).
        sync_poll=5,
        jobs_budget=JOBS_LIMIT,
        log_format="console",
        webhook_url=f"{demo_url}/webhooks/stitch-bridge",
        webhook_secret=keys.webhook_secret,
        oauth_apps=_oauth_apps(keys, emulator_url) if white_label_oauth else (),
        # The demo's Stitch account is the emulator's sandbox, so Stitch.js may run there
        # when the stitchjs driver or a missing OAuth app needs it; the default demo
        # (native driver, its own HubSpot OAuth app) hands out no ephemeral token.
        shared_account_stitchjs=step_driver == "stitchjs" or not white_label_oauth,
    )


def _demo_site(
    keys: _Secrets, settings: Settings, assets: AssetCache, demo_url: str, session_ttl: int | None
) -> Starlette:
    from demo_site import DemoConfig
    from demo_site import create_app as create_demo

    # The page embeds the widget as the README recommends: its immutable URL with integrity
    # (built here, once, by the bridge's own asset cache).
    widget = assets.get("widget.js")
    return create_demo(
        DemoConfig(
            bridge_url=settings.public_url,
            bridge_api_key=keys.api_key,
            stitch_js_url=settings.stitch_js_url,
            session_ttl=session_ttl,
            public_url=demo_url,
            webhook_secret=keys.webhook_secret,
            widget_path=f"/widget.{widget.version}.js",
            widget_integrity=widget.integrity,
        )
    )


OAUTH_CLIENT_ID = "acme-analytics"
OAUTH_CALLBACK_PATH = "/v1/oauth/provider/callback"


def _oauth_apps(keys: _Secrets, emulator_url: str) -> tuple[OAuthApp, ...]:
    return (
        OAuthApp(
            source_type="platform.hubspot",
            client_id=OAUTH_CLIENT_ID,
            client_secret=keys.oauth_client_secret,
            authorize_url=f"{emulator_url}/provider/authorize",
            token_url=f"{emulator_url}/provider/token",
        ),
    )


def _register_oauth_client(emulator_url: str, keys: _Secrets, bridge_url: str) -> None:
    """The SaaS registered its OAuth app with the provider; here, with the emulator's fake one."""
    answer = httpx.post(
        f"{emulator_url}/_emulator/provider/clients",
        json={
            "client_id": OAUTH_CLIENT_ID,
            "client_secret": keys.oauth_client_secret,
            "name": "Acme Analytics",
            "redirect_uris": [bridge_url + OAUTH_CALLBACK_PATH],
        },
        timeout=10,
    )
    if answer.status_code >= 400:
        raise RuntimeError(f"the emulator refused the demo's OAuth app: {answer.text[:200]}")


def _driver_from_env() -> Driver | None:
    value = os.environ.get("BRIDGE_STEP_DRIVER") or None
    if value not in (None, "stitchjs", "native"):
        raise SettingsError(["BRIDGE_STEP_DRIVER: must be `stitchjs` or `native`"])
    return value  # type: ignore[return-value]


def _stop_on_sigterm() -> None:
    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def run(args: argparse.Namespace) -> int:
    """`stitch-bridge demo [--data-dir D] [--port-base N]`: runs until Ctrl-C."""
    try:
        driver = _driver_from_env()
        with start_stack(Path(args.data_dir), port_base=args.port_base, step_driver=driver) as s:
            print(f"stitch-bridge demo: {s.mode} mode, {s.driver} step driver", flush=True)
            print(f"  emulator   {s.emulator_url}  (Stitch API, Stitch.js popup, fake OAuth)")
            print(f"  bridge     {s.bridge_url}")
            print(f"  demo site  {s.demo_url}")
            print(f"  data dir   {s.data_dir}")
            print(
                f"\nOpen {s.demo_url}/ in a browser (add ?user=bob to act as another end user)."
                "\nPress Ctrl-C to stop.",
                flush=True,
            )
            _stop_on_sigterm()
            with contextlib.suppress(KeyboardInterrupt):
                threading.Event().wait()
            print("\nstopping…", flush=True)
    except SettingsError as exc:
        for problem in exc.problems:
            print(f"stitch-bridge demo: {problem}", file=sys.stderr)
        return 2
    except (OSError, RuntimeError) as exc:
        print(f"stitch-bridge demo: {exc}", file=sys.stderr)
        return 1
    return 0
