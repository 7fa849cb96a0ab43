"""The API description served at /openapi.json (and rendered at /docs), errors included.

Each api module's routes are described in the fragment of the same name in this package (its
`PATHS`); the pieces they share are in `parts`. This module only assembles them. A drift test
(tests/bridge/test_errors.py) checks the documented paths against the app's routes.
"""

from __future__ import annotations

import copy
from typing import Any

from bridge.api.openapi import (
    events,
    links,
    oauth,
    oauth_begin,
    ops,
    server,
    sync,
    tenants,
    widget,
)
from bridge.api.openapi.parts import SCHEMAS
from bridge.version import __version__

FRAGMENTS = (server, widget, events, links, tenants, oauth_begin, oauth, ops, sync)

SECURITY_SCHEMES: dict[str, Any] = {
    "apiKey": {"type": "http", "scheme": "bearer", "description": "a BRIDGE_API_KEYS key"},
    "connectSession": {
        "type": "http",
        "scheme": "bearer",
        "description": "a connect-session token",
    },
}


def build_openapi(public_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    for fragment in FRAGMENTS:
        overlap = set(paths) & set(fragment.PATHS)
        assert not overlap, f"{fragment.__name__} documents {overlap} again"
        paths.update(fragment.PATHS)
    # A copy: the tables are shared by every request, the answer is the caller's.
    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "stitch-bridge",
                "version": __version__,
                "description": "Connect your end users' data sources to Stitch from inside your "
                "web app.",
            },
            "servers": [{"url": public_url}],
            "paths": paths,
            "components": {"schemas": SCHEMAS, "securitySchemes": SECURITY_SCHEMES},
        }
    )
