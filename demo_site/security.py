"""Security headers on every response, and the store of CSP violation reports the page sends."""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_REPORTS = 1000


class SecurityHeaders:
    """Pure ASGI middleware: adds the demo's CSP and friends to every HTTP response.

    No Cross-Origin-Opener-Policy: the widget keeps handles on the popups it opens.
    """

    def __init__(self, app: ASGIApp, *, csp: str) -> None:
        self.app = app
        self.headers = [
            (b"content-security-policy", csp.encode()),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class CspReports:
    """Violation reports received so far, newest last (in memory: a demo, and tests read it)."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, report: dict[str, Any]) -> None:
        if len(self.items) < MAX_REPORTS:
            self.items.append(report)


def reports_in(body: Any) -> list[dict[str, Any]]:
    """The violation reports in a posted body, in either of the browsers' two formats."""
    # report-uri posts {"csp-report": {...}}; the Reporting API posts [{"type", "body"}, ...].
    if isinstance(body, dict) and isinstance(body.get("csp-report"), dict):
        return [body["csp-report"]]
    if isinstance(body, list):
        return [item.get("body", item) for item in body if isinstance(item, dict)]
    return [body] if isinstance(body, dict) else []
