"""The `stitch-bridge` command line: serve, demo, emulator, keygen, check, migrate, widget-integrity."""

from __future__ import annotations

import argparse
import asyncio
import secrets
import sys
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import async_sessionmaker

from bridge.cli_commands import build_parser as _build_parser
from bridge.settings import Settings, SettingsError
from bridge.stitch.client import StitchClient
from bridge.stitch.errors import StitchError, StitchUnauthorized
from bridge.stitch.models import SourceType
from bridge.stitchjs_gate import refusal, startup_notice
from bridge.store.schema import LATEST, create_engine, migrate, schema_version
from bridge.version import __version__


def _widget_integrity(args: argparse.Namespace) -> int:
    from bridge.assets import load_asset

    asset = load_asset("widget.js")
    path = f"/widget.{asset.version}.js"
    src = args.bridge_url.rstrip("/") + path
    print(f"path       {path}")
    print(f"integrity  {asset.integrity}")
    print(
        f"bytes      {len(asset.identity):,} minified, {len(asset.br):,} br, {len(asset.gzip):,} gzip"
    )
    print(f'<script src="{src}" integrity="{asset.integrity}" crossorigin="anonymous"></script>')
    return 0


def _settings() -> Settings | None:
    try:
        return Settings.from_env()
    except SettingsError as error:
        print("stitch-bridge: the settings are not valid:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return None


def _keygen() -> int:
    print(f"BRIDGE_SECRET_KEYS={secrets.token_urlsafe(32)}")
    print(f"BRIDGE_API_KEYS={secrets.token_urlsafe(32)}")
    return 0


def _migrate() -> int:
    settings = _settings()
    if settings is None:
        return 2

    async def run() -> list[int]:
        engine = create_engine(settings.database_url)
        try:
            return await migrate(engine)
        finally:
            await engine.dispose()

    applied = asyncio.run(run())
    if applied:
        print(f"schema upgraded to version {applied[-1]} (applied {applied})")
    else:
        print("schema is up to date")
    return 0


def _rotate_keys() -> int:
    settings = _settings()
    if settings is None:
        return 2
    from bridge.crypto import SecretBox
    from bridge.tenants import rotate_keys

    async def run() -> int:
        engine = create_engine(settings.database_url)
        try:
            await migrate(engine)
            result = await rotate_keys(
                async_sessionmaker(engine, expire_on_commit=False),
                SecretBox(settings.secret_keys),
            )
        finally:
            await engine.dispose()
        print(f"re-encrypted {result.rotated} stored secrets ({result.current} already current)")
        if result.unreadable:
            print(
                f"{len(result.unreadable)} stored secrets open with none of BRIDGE_SECRET_KEYS "
                f"(rows {', '.join(result.unreadable)}); put back the key they were written with",
                file=sys.stderr,
            )
            return 1
        return 0

    return asyncio.run(run())


def _check() -> int:
    settings = _settings()
    if settings is None:
        return 2
    print(f"settings: ok ({settings.mode} mode, {settings.driver} step driver)")

    async def run() -> int:
        client = StitchClient(
            settings.stitch_api_url,
            secrets=settings.secrets,
            trust_env=settings.upstream_trust_env,
        )
        try:
            if settings.stitch_access_token:
                types = await client.account(settings.stitch_access_token).list_source_types()
                print(
                    f"stitch: reached {settings.stitch_api_url}; {len(types)} source types visible"
                )
                _print_stitchjs(settings, types)
            else:
                print(f"stitch: partner mode; tokens are per tenant ({settings.stitch_api_url})")
            engine = create_engine(settings.database_url)
            try:
                version = await schema_version(engine)
            finally:
                await engine.dispose()
            print(f"database: reachable, schema version {version} (latest {LATEST})")
            return 0
        except StitchUnauthorized:
            print("stitch: the access token was refused (HTTP 401)", file=sys.stderr)
        except StitchError as error:
            print(f"stitch: {settings.stitch_api_url} is not usable: {error}", file=sys.stderr)
        except OSError as error:
            print(f"database: not reachable: {error}", file=sys.stderr)
        finally:
            await client.aclose()
        return 1

    return asyncio.run(run())


def _print_stitchjs(settings: Settings, types: Sequence[SourceType]) -> None:
    """One line: what single-account mode does about Stitch.js, and which types it leaves out."""
    notice = startup_notice(settings)
    if notice is None:
        return
    refused = [
        t.type
        for t in types
        if t.report_card is not None and refusal(settings, t.type, t.report_card.step_types)
    ]
    if refused:
        notice += f"; not offered here: {', '.join(refused)}"
    print(notice, file=sys.stderr if settings.shared_account_stitchjs else sys.stdout)


def _serve(args: argparse.Namespace) -> int:
    settings = _settings()
    if settings is None:
        return 2
    import uvicorn

    from bridge.app import create_app
    from bridge.logs import configure_logging

    configure_logging(settings.log_format, settings.secrets)
    http, loop = _server_stack()
    print(
        f"stitch-bridge {__version__}: {settings.mode} mode, {settings.driver} step driver\n"
        f"  listening on  http://{args.host}:{args.port}\n"
        f"  public URL    {settings.public_url}\n"
        f"  API docs      {settings.public_url}/docs\n"
        f"  Stitch API    {settings.stitch_api_url}\n"
        f"  database      {_safe_database(settings.database_url)}\n"
        f"  HTTP server   uvicorn, {http} parser, {loop} event loop",
        flush=True,
    )
    notice = startup_notice(settings)
    if notice is not None:
        print(notice, file=sys.stderr if settings.shared_account_stitchjs else sys.stdout)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        http=http,
        loop=loop,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=20,
    )
    return 0


def _server_stack() -> tuple[str, str]:
    """uvicorn's "auto" choice made here, so start-up can say what runs: httptools and uvloop
    (uvicorn[standard]: less CPU per request) where installed, else h11 and asyncio."""
    from importlib.util import find_spec

    http = "httptools" if find_spec("httptools") else "h11"
    loop = "uvloop" if find_spec("uvloop") else "asyncio"
    return http, loop


def _safe_database(url: str) -> str:
    """The database URL without its password, for start-up output."""
    head, sep, tail = url.partition("@")
    if not sep:
        return url
    scheme, _, credentials = head.partition("://")
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{tail}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "emulator":
        from stitch_emulator.server import run as run_emulator

        return int(run_emulator(args))
    if args.command == "demo":
        from bridge.demo import run as run_demo

        return run_demo(args)
    if args.command == "keygen":
        return _keygen()
    if args.command == "rotate-keys":
        return _rotate_keys()
    if args.command == "migrate":
        return _migrate()
    if args.command == "check":
        return _check()
    if args.command == "widget-integrity":
        return _widget_integrity(args)
    return _serve(args)
