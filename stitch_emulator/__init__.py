"""The Stitch Connect emulator: a local stand-in for the Stitch Connect API and its web app."""

from __future__ import annotations

from .app import create_app
from .clock import Clock
from .config import EmulatorConfig
from .state.backend import EmulatorBackend

__all__ = ["Clock", "EmulatorBackend", "EmulatorConfig", "create_app"]
