"""/openapi.json for bridge/api/oauth.py: the OAuth redirect targets."""

from __future__ import annotations

from typing import Any

PATHS: dict[str, Any] = {
    "/v1/oauth/stitch/callback": {
        "get": {
            "summary": "Partner OAuth redirect target (Stitch sends the tenant's admin here)",
            "security": [],
            "responses": {
                "200": {"description": "an HTML result page"},
                "400": {"description": "an HTML error page"},
            },
        }
    },
    "/v1/oauth/provider/callback": {
        "get": {
            "summary": "White-label OAuth redirect target (the provider sends the end user here)",
            "security": [],
            "responses": {
                "200": {"description": "an HTML page that reports to the widget and closes"},
                "400": {"description": "an HTML error page"},
            },
        }
    },
}
