"""Where the bridge may send a browser: only to the SaaS's own origins, spelled plainly."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    default = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError:
        return None
    suffix = f":{port}" if port is not None and port != default else ""
    return f"{parts.scheme}://{parts.hostname}{suffix}"


def safe_return_url(url: str, allowed_origins: Iterable[str]) -> bool:
    """True only for an absolute http(s) URL on one of `allowed_origins`.

    Refuses what browsers read differently from parsers: backslashes, control characters and
    spaces, userinfo (`https://app.example@evil`), scheme-relative `//evil`, other schemes.
    """
    if (
        not url
        or len(url) > 2048
        or "\\" in url
        or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in url)
    ):
        return False
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not url.lower().startswith(f"{parts.scheme}://"):
        return False
    if "@" in parts.netloc or not parts.hostname:
        return False
    origin = origin_of(url)
    allowed = {origin_of(o) or o for o in allowed_origins}
    return origin is not None and origin in allowed
