"""The widget's files on the wire: minified and compressed once per process, then served as-is.

Each asset is minified (tdewolff/minify through its Python binding, which parses modern
JavaScript and shortens local names; a whitespace-only minifier left the widget a kilobyte over
budget) and compressed with brotli and gzip (zopfli, which writes
ordinary gzip a few percent smaller than zlib) the first time it is asked for, never per request.
The content hash names the immutable URL (`/widget.<version>.js`) and the SRI `integrity` value,
both computed on the minified bytes: the decoded body is the same whichever encoding carries it.
The widget has no single source file: `assemble_widget` joins its parts (bridge/static/widget/,
in the order of WIDGET_PARTS) inside one strict IIFE before it is minified, so nothing needs Node.
ETags are strong and differ per encoding, because the bytes on the wire differ (RFC 9110 §8.8.3).
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources

import brotli
import minify
import zopfli.gzip

ENCODINGS = ("br", "gzip", "identity")
# Equal quality values go to the smaller encoding first.
_PREFERENCE = {"br": 0, "gzip": 1, "identity": 2}


@dataclass(frozen=True)
class Representation:
    body: bytes
    etag: str
    encoding: str


@dataclass(frozen=True)
class Asset:
    media_type: str
    identity: bytes
    gzip: bytes
    br: bytes
    version: str  # the content hash in the immutable URL: first 12 hex digits of SHA-256
    integrity: str  # the SRI value of the decoded body (the same for every encoding)

    def representation(self, encoding: str) -> Representation:
        body = {"br": self.br, "gzip": self.gzip}.get(encoding, self.identity)
        suffix = "" if encoding == "identity" else f"-{encoding}"
        return Representation(body, f'"{self.version}{suffix}"', encoding)


def build_asset(source: bytes, media_type: str, minify: Callable[[bytes], bytes]) -> Asset:
    identity = minify(source)
    return Asset(
        media_type=media_type,
        identity=identity,
        # Five zopfli iterations get nearly all of its gain in well under 0.1 s for the widget.
        gzip=zopfli.gzip.compress(identity, numiterations=5),
        br=brotli.compress(identity, quality=11, mode=brotli.MODE_TEXT),
        version=hashlib.sha256(identity).hexdigest()[:12],
        integrity="sha384-" + base64.b64encode(hashlib.sha384(identity).digest()).decode(),
    )


def _minify_js(source: bytes) -> bytes:
    return str(minify.string("application/javascript", source.decode())).encode()


def _minify_css(source: bytes) -> bytes:
    return str(minify.string("text/css", source.decode())).encode()


# The widget's parts, in the order they are joined: each is a plain script fragment sharing the
# IIFE's scope. base and core come first (mix() and the classes must exist when later parts run).
WIDGET_PARTS = (
    "base.js",
    "core.js",
    "api.js",
    "flow.js",
    "transport.js",
    "dialog.js",
    "views-form.js",
    "views-oauth.js",
    "views-streams.js",
    "after-connect.js",
    "main.js",
)
_IIFE = (b'(() => {\n  "use strict";\n\n', b"})();\n")


def assemble_widget() -> bytes:
    """The widget's readable source as served before minification: every part once, in order.

    For debugging, write it out: `python -c "import sys, bridge.assets as a;
    sys.stdout.buffer.write(a.assemble_widget())" > widget.js`."""
    folder = resources.files("bridge") / "static" / "widget"
    parts = [(folder / name).read_bytes().rstrip(b"\n") + b"\n\n" for name in WIDGET_PARTS]
    return _IIFE[0] + b"".join(parts) + _IIFE[1]


def _static_file(name: str) -> bytes:
    return (resources.files("bridge") / "static" / name).read_bytes()


# assembled from several files rather than read from bridge/static/<name>
_ASSEMBLED: dict[str, Callable[[], bytes]] = {"widget.js": assemble_widget}

# name in bridge/static → (media type, minifier)
KINDS: dict[str, tuple[str, Callable[[bytes], bytes]]] = {
    "widget.js": ("text/javascript; charset=utf-8", _minify_js),
    "widget.css": ("text/css; charset=utf-8", _minify_css),
}


def load_asset(name: str) -> Asset:
    """Read bridge/static/<name> as installed (or assemble it) and build it (about 0.2 s for the
    widget)."""
    media_type, minify = KINDS[name]
    assembled = _ASSEMBLED.get(name)
    source = assembled() if assembled else _static_file(name)
    return build_asset(source, media_type, minify)


class AssetCache:
    """One build per asset per process; the app owns one (create_app), nothing module-global."""

    def __init__(self, loader: Callable[[str], Asset] = load_asset) -> None:
        self._loader = loader
        self._built: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def cached(self, name: str) -> Asset | None:
        return self._built.get(name)

    def get(self, name: str) -> Asset:
        """The built asset; the first caller builds it while concurrent callers wait for it.
        Blocking: call it from a worker thread when the asset may not be built yet."""
        asset = self._built.get(name)
        if asset is not None:
            return asset
        with self._lock:
            if name not in self._built:
                self._built[name] = self._loader(name)
            return self._built[name]


def negotiate(accept_encoding: str | None) -> str:
    """The encoding to send for an `Accept-Encoding` header (RFC 9110 §12.5.3).

    No header: identity. Otherwise the acceptable coding with the highest q-value, br before gzip
    before identity on a tie; identity stays acceptable unless refused explicitly or by `*;q=0`.
    When nothing is acceptable the header is disregarded and identity is sent, as §12.5.3 allows.
    """
    if accept_encoding is None:
        return "identity"
    weights: dict[str, float] = {}
    for item in accept_encoding.split(","):
        coding, _, params = item.partition(";")
        coding = coding.strip().lower()
        if coding == "x-gzip":
            coding = "gzip"
        if coding:
            weights[coding] = _quality(params)
    wildcard = weights.get("*")
    candidates: dict[str, float] = {}
    for coding in ENCODINGS:
        if coding in weights:
            candidates[coding] = weights[coding]
        elif wildcard is not None:
            candidates[coding] = wildcard
        elif coding == "identity":
            candidates[coding] = 0.001  # acceptable, but below anything the client named
    acceptable = [c for c, q in candidates.items() if q > 0]
    if not acceptable:
        return "identity"
    return max(acceptable, key=lambda c: (candidates[c], -_PREFERENCE[c]))


def _quality(params: str) -> float:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                return min(max(float(value.strip()), 0.0), 1.0)
            except ValueError:
                return 0.0
    return 1.0


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored."""
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    tags = (tag.strip() for tag in if_none_match.split(","))
    return any(tag.removeprefix("W/") == etag for tag in tags)
