"""stitch-bridge: let your SaaS's end users connect data sources to Stitch from your own web app."""

from __future__ import annotations

__version__ = "0.1.0"

from bridge.app import create_app  # noqa: E402
from bridge.settings import Settings, SettingsError  # noqa: E402

__all__ = ["Settings", "SettingsError", "__version__", "create_app"]
