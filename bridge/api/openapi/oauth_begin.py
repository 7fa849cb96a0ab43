"""/openapi.json for bridge/api/oauth_begin.py: binding a browser to an OAuth attempt."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    STR,
    errors,
    html_page,
    obj,
    ref,
)

PATHS: dict[str, Any] = {
    "/v1/oauth/begin": {
        "post": {
            "summary": (
                "Bind this browser to an OAuth attempt, then go on to the consent page. Only"
                " from the page that started it: a top-level form POST whose Origin is that"
                " page's, or the bridge's popup page (/oauth/begin) naming its opener"
            ),
            "security": [],
            "requestBody": {
                "required": True,
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": obj(
                            ["ticket"], {"ticket": STR, "opener_origin": STR}, extra=False
                        )
                    }
                },
            },
            "responses": {
                "200": html_page("sets the HttpOnly binding cookie; navigates to the consent page"),
                "400": html_page("token_invalid, token_expired or invalid_request"),
                "403": {
                    "description": "origin_not_allowed: not the page that started the step",
                    "content": {
                        **html_page("")["content"],
                        "application/json": {"schema": ref("Error")},
                    },
                },
                "409": html_page("token_used: the attempt is bound to a browser already"),
                **errors("payload_too_large"),
            },
        }
    },
}
