"""The `stitch-bridge` commands and their options as one table, and the parser built from it."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Option:
    flag: str
    help: str
    env: str | None = None  # the default comes from this variable, read when the parser is built
    extra: dict[str, Any] = field(default_factory=dict)  # argparse's own keywords


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    description: str | None = None
    options: tuple[Option, ...] = ()


def _host(default_help: str) -> Option:
    return Option("--host", default_help, extra={"default": "127.0.0.1"})


def _port(default: int) -> Option:
    return Option(
        "--port", f"port to bind (default {default})", extra={"type": int, "default": default}
    )


def _seconds(flag: str, default: float, what: str) -> Option:
    return Option(
        flag, f"seconds {what} (default {default:g})", extra={"type": float, "default": default}
    )


_ROTATE = (
    "Re-encrypt every stored secret (tenant Stitch tokens, pending OAuth verifiers) with the first "
    "key of BRIDGE_SECRET_KEYS. Put the new key first, keep the old ones after it, run this, then "
    "drop the old keys once sessions signed with them have expired."
)
_INTEGRITY = (
    "Print the immutable URL of the widget this installation serves (/widget.<hash>.js), the "
    "sha384 Subresource Integrity value of its bytes, its sizes on the wire, and a <script> tag "
    "with both. The hash changes with every release of the widget, so run this again after an "
    "upgrade; /widget.js always serves the current one."
)

COMMANDS: tuple[Command, ...] = (
    Command("serve", "run the bridge (settings from the environment and .env)", options=(
        _host("interface to bind (default 127.0.0.1)"),
        _port(8700),
    )),
    Command("demo", "start the emulator, the bridge and the demo site; print the URL to open", options=(
        Option("--data-dir", "where the demo keeps its files", extra={"default": ".demo-data"}),
        Option("--port-base", "first of three loopback ports (default 8700)", extra={"type": int, "default": 8700}),
    )),
    Command("emulator", "run the Stitch Connect emulator alone", options=(
        _host("interface (default 127.0.0.1)"),
        _port(8790),
        Option("--token", "access token it accepts (default $STITCH_EMULATOR_TOKEN, else generated)", env="STITCH_EMULATOR_TOKEN"),
        Option("--partner-id", "partner id (default $STITCH_EMULATOR_PARTNER_ID, else generated)", env="STITCH_EMULATOR_PARTNER_ID"),
        Option("--partner-secret", "partner secret (default $STITCH_EMULATOR_PARTNER_SECRET, else generated)", env="STITCH_EMULATOR_PARTNER_SECRET"),
        _seconds("--check-delay", 2.0, "a connection check runs"),
        _seconds("--job-duration", 30.0, "a replication job runs"),
        Option("--rate-limit-jobs", "answer the 31st extractions/loads request within 10 minutes with 429", extra={"action": "store_true"}),
        Option("--state-file", "persist state to this JSON file", extra={"default": None}),
        Option("--partner-redirect-uri", "a redirect URI registered for partner OAuth (repeatable; default $STITCH_EMULATOR_REDIRECT_URIS, comma-separated)", extra={"action": "append", "metavar": "URI"}),
        Option("--no-hints", "omit current_step_hints from report cards (as today's API does)", extra={"action": "store_true"}),
    )),
    Command("keygen", "print a new signing key and a new API key"),
    Command("check", "validate settings and reach the Stitch API"),
    Command("migrate", "create or upgrade the database schema"),
    Command("rotate-keys", "re-encrypt stored tokens with the newest BRIDGE_SECRET_KEYS key", _ROTATE),
    Command("widget-integrity", "print the widget's versioned URL and its SRI integrity value", _INTEGRITY, options=(
        Option("--bridge-url", "the bridge's public URL for the tag (default $BRIDGE_PUBLIC_URL, else a path)", env="BRIDGE_PUBLIC_URL", extra={"default": ""}),
    )),
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stitch-bridge",
        description="Connect your end users' data sources to Stitch from inside your web app.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for command in COMMANDS:
        sub = subparsers.add_parser(
            command.name, help=command.help, description=command.description
        )
        for option in command.options:
            extra = dict(option.extra)
            if option.env is not None:
                extra["default"] = os.environ.get(option.env, extra.get("default"))
            sub.add_argument(option.flag, help=option.help, **extra)
    return parser
