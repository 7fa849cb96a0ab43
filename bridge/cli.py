"""The `stitch-bridge` command line: serve, demo, emulator, keygen, check, migrate."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stitch-bridge",
        description="Connect your end users' data sources to Stitch from inside your web app.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    serve = commands.add_parser(
        "serve", help="run the bridge (settings from the environment and .env)"
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8700, help="port to bind (default 8700)")

    demo = commands.add_parser(
        "demo", help="start the emulator, the bridge and the demo site; print the URL to open"
    )
    demo.add_argument("--data-dir", default=".demo-data", help="where the demo keeps its files")
    demo.add_argument(
        "--port-base", type=int, default=8700, help="first of three loopback ports (default 8700)"
    )

    emulator = commands.add_parser("emulator", help="run the Stitch Connect emulator alone")
    emulator.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    emulator.add_argument("--port", type=int, default=8790, help="port to bind (default 8790)")
    emulator.add_argument(
        "--token",
        default=os.environ.get("STITCH_EMULATOR_TOKEN"),
        help="access token it accepts (default $STITCH_EMULATOR_TOKEN, else generated)",
    )
    emulator.add_argument(
        "--partner-id",
        default=os.environ.get("STITCH_EMULATOR_PARTNER_ID"),
        help="partner id (default $STITCH_EMULATOR_PARTNER_ID, else generated)",
    )
    emulator.add_argument(
        "--partner-secret",
        default=os.environ.get("STITCH_EMULATOR_PARTNER_SECRET"),
        help="partner secret (default $STITCH_EMULATOR_PARTNER_SECRET, else generated)",
    )
    emulator.add_argument(
        "--check-delay",
        type=float,
        default=2.0,
        help="seconds a connection check runs (default 2)",
    )
    emulator.add_argument(
        "--job-duration",
        type=float,
        default=30.0,
        help="seconds a replication job runs (default 30)",
    )
    emulator.add_argument("--state-file", default=None, help="persist state to this JSON file")
    emulator.add_argument(
        "--no-hints",
        action="store_true",
        help="omit current_step_hints from report cards (as today's API does)",
    )

    commands.add_parser("keygen", help="print a new signing key and a new API key")
    commands.add_parser("check", help="validate settings and reach the Stitch API")
    commands.add_parser("migrate", help="create or upgrade the database schema")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _build_parser().parse_args(argv)
    if args.command == "emulator":
        from stitch_emulator.server import run as run_emulator

        return run_emulator(args)
    print(f"stitch-bridge {args.command}: not yet available", file=sys.stderr)
    return 2
