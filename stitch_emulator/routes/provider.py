"""A fake third-party OAuth provider (stands in for HubSpot's consent screen) under `/provider/`."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute


def routes(backend: Any) -> list[BaseRoute]:
    """Routes of the fake provider; filled in by the provider work."""
    return []
