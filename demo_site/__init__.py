"""Acme Analytics: a small fictional SaaS that embeds the stitch-bridge widget (the demo site)."""

from __future__ import annotations

from demo_site.app import create_app
from demo_site.config import DemoConfig

__all__ = ["DemoConfig", "create_app"]
