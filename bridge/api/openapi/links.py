"""/openapi.json for bridge/api/links.py: hosted connect links (the /connect pages themselves are HTML, undocumented)."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    AUTH_API,
    BODY_ERRORS,
    CONNECT_SCOPE,
    STR,
    TIME,
    body,
    content,
    errors,
    obj,
    op,
)

PATHS: dict[str, Any] = {
    "/v1/connect-links": {
        "post": op(
            "Make a hosted connect link to send an end user (e-mail, support ticket)",
            AUTH_API,
            {
                "201": content(
                    "the link",
                    obj(
                        ["id", "url", "expires_at"],
                        {"id": STR, "url": STR, "expires_at": TIME},
                    ),
                ),
                **errors("unauthorized", "source_not_found", *BODY_ERRORS),
            },
            requestBody=body(
                obj(
                    ["end_user"],
                    {
                        **CONNECT_SCOPE,
                        "return_url": {"type": "string", "format": "uri"},
                        "expires_in": {"type": "integer", "minimum": 60, "maximum": 2592000},
                    },
                    extra=False,
                )
            ),
        )
    },
}
