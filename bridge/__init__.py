"""stitch-bridge: let your SaaS's end users connect data sources to Stitch from your own web app."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bridge.version import __version__

if TYPE_CHECKING:
    from bridge.app import create_app
    from bridge.settings import Settings, SettingsError

__all__ = ["Settings", "SettingsError", "__version__", "create_app"]


def __getattr__(name: str) -> Any:
    # Loaded on first use: the pytest plugin (bridge.testing) lives in this package, and every
    # test run of a project that installs it should not pay for Starlette and SQLAlchemy.
    if name == "create_app":
        from bridge.app import create_app

        return create_app
    if name in ("Settings", "SettingsError"):
        import bridge.settings

        return getattr(bridge.settings, name)
    raise AttributeError(f"module 'bridge' has no attribute {name!r}")
