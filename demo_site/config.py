"""The demo site's settings: one frozen value passed to `create_app`, never read from globals."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_SOURCE_TYPES = ("platform.hubspot", "platform.recurly", "platform.hp-postgres")
TYPE_NAMES = {
    "platform.hubspot": "HubSpot",
    "platform.recurly": "Recurly",
    "platform.hp-postgres": "PostgreSQL",
}


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


@dataclass(frozen=True)
class DemoConfig:
    """What the demo's backend needs: where the bridge is and the API key it holds.

    `bridge_url` is how the backend reaches the bridge; `bridge_public_url` how browsers do
    (the same on one machine). `stitch_js_url` only widens the page's script-src.
    """

    bridge_url: str
    bridge_api_key: str
    bridge_public_url: str | None = None
    stitch_js_url: str | None = None
    source_types: tuple[str, ...] = DEFAULT_SOURCE_TYPES
    default_user: str = "alice"
    # Connect-session lifetime asked of the bridge; None leaves the bridge's default.
    session_ttl: int | None = None
    # This site's own URL (hosted links come back to it); None: the URL requests arrive on.
    public_url: str | None = None
    # The widget's path on the bridge, and its SRI value when that path is a versioned one
    # (`stitch-bridge widget-integrity` prints both).
    widget_path: str = "/widget.js"
    widget_integrity: str | None = None
    # BRIDGE_WEBHOOK_SECRET, when the bridge sends its webhooks to /webhooks/stitch-bridge.
    webhook_secret: str | None = field(default=None, repr=False)
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "bridge_url", self.bridge_url.rstrip("/"))
        public = (self.bridge_public_url or self.bridge_url).rstrip("/")
        object.__setattr__(self, "bridge_public_url", public)
        object.__setattr__(self, "source_types", tuple(self.source_types))

    @property
    def browser_bridge_url(self) -> str:
        assert self.bridge_public_url is not None
        return self.bridge_public_url

    def content_security_policy(self) -> str:
        """Strict: nothing inline, scripts only from here, the bridge and Stitch.js's host."""
        bridge = origin_of(self.browser_bridge_url)
        scripts = ["'self'", bridge]
        if self.stitch_js_url:
            stitch = origin_of(self.stitch_js_url)
            if stitch not in scripts:
                scripts.append(stitch)
        return "; ".join(
            [
                "default-src 'none'",
                f"script-src {' '.join(scripts)}",
                f"style-src 'self' {bridge}",
                f"connect-src 'self' {bridge}",
                "img-src 'self' data:",
                f"form-action 'self' {bridge}",  # redirect mode posts the OAuth ticket there
                "base-uri 'none'",
                "frame-ancestors 'none'",
                "report-uri /csp-report",
            ]
        )
