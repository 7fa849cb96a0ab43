"""`stitch-bridge emulator`: run the emulator alone under uvicorn and say how to use it."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO

import uvicorn

from .app import create_app
from .config import EmulatorConfig

CONTROLS = (
    "POST /_emulator/reset",
    "POST|GET|DELETE /_emulator/faults",
    "GET|DELETE /_emulator/requests",
    "GET /_emulator/state",
    "POST /_emulator/sources/{id}/authorize",
    "POST|GET /_emulator/clock",
    "POST|DELETE /_emulator/checks",
    "POST|DELETE /_emulator/jobs",
    "POST|GET /_emulator/config",
    "POST /_emulator/accounts",
)


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The config the command line asks for; redirect URIs from `--partner-redirect-uri`
    (repeatable) or else the environment."""
    redirect_uris = ",".join(getattr(args, "partner_redirect_uri", None) or []) or os.environ.get(
        "STITCH_EMULATOR_REDIRECT_URIS", ""
    )
    return EmulatorConfig(
        token=args.token,
        partner_id=args.partner_id,
        partner_secret=args.partner_secret,
        partner_redirect_uris=tuple(u.strip() for u in redirect_uris.split(",") if u.strip()),
        check_delay=args.check_delay,
        job_duration=args.job_duration,
        current_step_hints=not args.no_hints,
        rate_limit_jobs=bool(getattr(args, "rate_limit_jobs", False)),
        state_file=args.state_file,
    )


def describe(config: EmulatorConfig, base_url: str, out: TextIO) -> None:
    print(f"Stitch Connect emulator at {base_url}", file=out)
    print(f"  access token:    {config.token}", file=out)
    print(f"  partner id:      {config.partner_id}", file=out)
    print(f"  partner secret:  {config.partner_secret}", file=out)
    uris = ", ".join(config.partner_redirect_uris) or "(none: set STITCH_EMULATOR_REDIRECT_URIS)"
    print(f"  redirect URIs:   {uris}", file=out)
    hints = "on" if config.current_step_hints else "off"
    print(
        f"  check delay {config.check_delay:g} s, job duration {config.job_duration:g} s,"
        f" current_step_hints {hints},"
        f" jobs rate limit {'on' if config.rate_limit_jobs else 'off'}",
        file=out,
    )
    if config.state_file:
        print(f"  state file:      {config.state_file}", file=out)
    print("  controls (no auth):", file=out)
    for control in CONTROLS:
        print(f"    {control}", file=out)
    out.flush()


def run(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    app = create_app(config)
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "") else args.host
    describe(config, f"http://{shown_host}:{args.port}", sys.stdout)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
