"""The Stitch.js popup app (`/v2/js-client`) and the `/stitch.js` client script."""

from __future__ import annotations

from typing import Any

from starlette.routing import BaseRoute


def routes(backend: Any) -> list[BaseRoute]:
    """Routes of the popup app; filled in by the popup work."""
    return []
