"""The widget on the wire: minified, compressed once, revalidated by ETag, and an immutable
versioned URL whose SRI value `stitch-bridge widget-integrity` prints."""

from __future__ import annotations

import base64
import gzip
import hashlib
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import brotli
import httpx
import pytest
from starlette.applications import Starlette

from bridge import create_app
from bridge.assets import WIDGET_PARTS, Asset, AssetCache, assemble_widget, load_asset, negotiate
from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.bridge.conftest import APP_ORIGIN, STITCH_TOKEN, make_settings
from tests.inprocess import app_host
from tests.live import free_port, serve

ROOT = Path(__file__).resolve().parents[2]
PARTS = ROOT / "bridge" / "static" / "widget"
SOURCE = assemble_widget()
# Hand-written browser scripts (no generated or vendored JS lives in these folders).
SCRIPT_FOLDERS = ("bridge/static", "demo_site/static", "stitch_emulator/static")
MAX_SCRIPT_LINES = 500
# What a browser downloads (every current browser takes br over HTTPS) stays within 10 KiB; the
# gzip fallback (older clients, proxies) stays smaller than the real Stitch.js (11.0 KB gzip).
BR_BUDGET = 10 * 1024
GZIP_BUDGET = 11_000
BROWSER = "gzip, deflate, br, zstd"


@dataclass
class Live:
    url: str
    app: Starlette


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    database = tmp_path_factory.mktemp("widget") / "bridge.db"
    with serve(create_emulator(EmulatorConfig(token=STITCH_TOKEN))) as emulator:
        port = free_port()
        app = create_app(make_settings(emulator.url, port, database))
        with serve(app, port=port) as bridge:
            yield Live(bridge.url, app)


def raw_get(url: str, accept_encoding: str | None, **headers: str) -> tuple[httpx.Response, bytes]:
    """The response and its body as sent, before any decoding."""
    with httpx.Client(timeout=30) as client:
        if accept_encoding is None:
            del client.headers["Accept-Encoding"]
        else:
            client.headers["Accept-Encoding"] = accept_encoding
        with client.stream("GET", url, headers=headers) as response:
            return response, b"".join(response.iter_raw())


def test_br_and_gzip_carry_the_same_minified_widget_smaller_than_stitch_js(live: Live) -> None:
    identity, plain = raw_get(f"{live.url}/widget.js", None)
    br, br_wire = raw_get(f"{live.url}/widget.js", "br")
    gz, gz_wire = raw_get(f"{live.url}/widget.js", "gzip")

    assert identity.headers.get("content-encoding") is None
    assert br.headers["content-encoding"] == "br"
    assert gz.headers["content-encoding"] == "gzip"
    assert brotli.decompress(br_wire) == plain
    assert gzip.decompress(gz_wire) == plain
    assert len(plain) < len(SOURCE) * 0.8, "the widget is served minified"
    assert b"StitchBridge" in plain
    assert len(br_wire) <= BR_BUDGET, f"br: {len(br_wire)} bytes"
    assert len(gz_wire) <= GZIP_BUDGET, f"gzip: {len(gz_wire)} bytes"
    for response in (identity, br, gz):
        assert response.headers["vary"] == "Accept-Encoding"
        assert response.headers["content-type"].startswith("text/javascript")
        assert response.headers["cache-control"] == "public, max-age=300"
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_browser_s_accept_encoding_gets_brotli(live: Live) -> None:
    response, _ = raw_get(f"{live.url}/widget.js", BROWSER)
    assert response.headers["content-encoding"] == "br"


def test_a_matching_etag_answers_304_with_no_body_for_each_encoding(live: Live) -> None:
    for encoding in ("br", "gzip", "identity"):
        first, _ = raw_get(f"{live.url}/widget.js", encoding)
        etag = first.headers["etag"]
        again, body = raw_get(f"{live.url}/widget.js", encoding, **{"If-None-Match": etag})
        assert again.status_code == 304, encoding
        assert body == b""
        assert again.headers["etag"] == etag
        assert again.headers["vary"] == "Accept-Encoding"
        assert again.headers["cache-control"] == "public, max-age=300"


def test_each_encoding_has_its_own_strong_etag(live: Live) -> None:
    tags = {e: raw_get(f"{live.url}/widget.js", e)[0].headers["etag"] for e in ("br", "gzip")}
    assert tags["br"] != tags["gzip"]
    assert not tags["br"].startswith("W/")
    # A cached gzip copy does not stand for the brotli bytes.
    response, body = raw_get(f"{live.url}/widget.js", "br", **{"If-None-Match": tags["gzip"]})
    assert response.status_code == 200
    assert len(body) > 0


def test_head_answers_the_headers_of_get_without_a_body(live: Live) -> None:
    get, wire = raw_get(f"{live.url}/widget.js", "br")
    head = httpx.head(f"{live.url}/widget.js", headers={"Accept-Encoding": "br"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(wire))
    assert head.headers["etag"] == get.headers["etag"]


def test_the_versioned_url_is_immutable_and_matches_what_the_command_prints(live: Live) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "bridge", "widget-integrity", "--bridge-url", live.url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    fields = dict(line.split(None, 1) for line in printed.splitlines()[:2])
    path, integrity = fields["path"], fields["integrity"]
    assert f'src="{live.url}{path}" integrity="{integrity}" crossorigin="anonymous"' in printed

    for encoding in ("br", "gzip", None):
        # The page's origin asks, as a script tag with crossorigin="anonymous" does.
        response, wire = raw_get(f"{live.url}{path}", encoding, Origin=APP_ORIGIN)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert response.headers["access-control-allow-origin"] == "*"
        decoded = {"br": brotli.decompress, "gzip": gzip.decompress}.get(encoding or "", bytes)(
            wire
        )
        digest = base64.b64encode(hashlib.sha384(decoded).digest()).decode()
        assert integrity == f"sha384-{digest}"
        if encoding:
            assert f"{len(wire):,} {encoding}" in printed
    _, current = raw_get(f"{live.url}/widget.js", None)
    assert current == decoded


def test_an_unknown_version_is_not_found_and_not_cached(live: Live) -> None:
    response = httpx.get(f"{live.url}/widget.0123456789ab.js")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert response.headers["cache-control"] == "no-store"


def test_the_stylesheet_is_minified_compressed_and_revalidated(live: Live) -> None:
    response, wire = raw_get(f"{live.url}/widget.css", "br")
    assert response.headers["content-type"].startswith("text/css")
    source = (ROOT / "bridge" / "static" / "widget.css").read_bytes()
    assert len(brotli.decompress(wire)) < len(source)
    again, _ = raw_get(
        f"{live.url}/widget.css", "br", **{"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


def test_the_widget_is_compressed_once_per_app_however_many_ask(tmp_path: Path) -> None:
    builds: list[str] = []

    def counting_loader(name: str) -> Asset:
        builds.append(name)
        return load_asset(name)

    assets = AssetCache(counting_loader)
    settings = make_settings("http://127.0.0.1:9", 8700, tmp_path / "bridge.db")
    with app_host() as host, host.serve(create_app(settings, assets=assets), "http://bridge"):
        client = host.client("http://bridge")
        br = {"Accept-Encoding": "br"}
        with ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: client.get("/widget.js", headers=br), range(4)))
        first = assets.cached("widget.js")
        later = client.get("/widget.js", headers={"Accept-Encoding": "gzip"})
        client.close()
    assert [a.status_code for a in answers] == [200] * 4
    assert later.status_code == 200
    assert builds == ["widget.js"]
    again = assets.cached("widget.js")
    assert first is not None and again is not None and again.br is first.br


def test_the_widget_is_every_part_once_in_the_declared_order_inside_one_strict_iife() -> None:
    source = SOURCE.decode()
    assert source.startswith('(() => {\n  "use strict";\n')
    assert source.rstrip().endswith("})();")
    assert sorted(p.name for p in PARTS.glob("*.js")) == sorted(WIDGET_PARTS), (
        "every file in bridge/static/widget/ is a declared part"
    )
    positions = []
    for name in WIDGET_PARTS:
        text = (PARTS / name).read_text(encoding="utf-8").strip()
        assert source.count(text) == 1, f"{name} is in the widget exactly once"
        positions.append(source.index(text))
    assert positions == sorted(positions), "the parts are joined in the order of WIDGET_PARTS"
    assert source.count('"use strict"') == 1


def test_the_served_widget_is_the_assembled_parts_minified(live: Live) -> None:
    _, served = raw_get(f"{live.url}/widget.js", None)
    assert served == load_asset("widget.js").identity
    # Names from the first and the last parts: the assembled source, not a stale single file.
    assert b"StitchBridgeError" in served and b"stitch-bridge:oauth-ticket" in served
    assert served.count(b"window.StitchBridge=") == 1


def test_no_hand_written_script_is_over_500_lines() -> None:
    scripts = [p for folder in SCRIPT_FOLDERS for p in (ROOT / folder).rglob("*.js")]
    assert PARTS / "flow.js" in scripts  # the widget's parts are among those counted
    long = {
        str(p.relative_to(ROOT)): n
        for p in scripts
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_SCRIPT_LINES
    }
    assert long == {}


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip, br", "br"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("deflate", "identity"),
        ("*", "br"),
        ("*;q=0, gzip;q=0.1", "gzip"),
        ("identity;q=0, gzip;q=0", "identity"),  # nothing acceptable: the header is disregarded
        ("BR ; Q=0.9, identity", "identity"),
        ("gzip;q=bogus, br", "br"),
    ],
)
def test_accept_encoding_is_negotiated_by_quality(header: str | None, chosen: str) -> None:
    assert negotiate(header) == chosen
