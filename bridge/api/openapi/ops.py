"""/openapi.json for bridge/api/ops.py: health, readiness, metrics and the widget's files."""

from __future__ import annotations

from typing import Any

from bridge.api.openapi.parts import (
    STR,
    content,
    errors,
)

PATHS: dict[str, Any] = {
    "/healthz": {
        "get": {
            "summary": "The process is alive",
            "security": [],
            "responses": {"200": {"description": "alive"}},
        }
    },
    "/readyz": {
        "get": {
            "summary": "The database answers",
            "security": [],
            "responses": {
                "200": {"description": "ready"},
                "503": content("not ready", {"type": "object"}),
            },
        }
    },
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "security": [],
            "responses": {"200": {"description": "metrics"}},
        }
    },
    "/widget.js": {
        "get": {
            "summary": "The browser widget, current version (cached 5 minutes, then revalidated)",
            "description": "Minified; br or gzip by Accept-Encoding; an ETag per encoding.",
            "security": [],
            "responses": {
                "200": {"description": "JavaScript"},
                "304": {"description": "not modified (If-None-Match matched the ETag)"},
            },
        }
    },
    "/widget.{version}.js": {
        "get": {
            "summary": "The browser widget at an immutable URL (`stitch-bridge widget-integrity`)",
            "description": "Cache-Control immutable for a year; only the version this bridge "
            "serves exists, any other is 404.",
            "security": [],
            "parameters": [{"name": "version", "in": "path", "required": True, "schema": STR}],
            "responses": {
                "200": {"description": "JavaScript"},
                "304": {"description": "not modified (If-None-Match matched the ETag)"},
                **errors("not_found"),
            },
        }
    },
    "/widget.d.ts": {
        "get": {
            "summary": "TypeScript declarations of the browser widget",
            "security": [],
            "responses": {"200": {"description": "TypeScript"}},
        }
    },
}
