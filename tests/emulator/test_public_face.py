"""Drift tests: the package's exports, and a README that names every setting and control."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from starlette.routing import Route

import stitch_emulator
from stitch_emulator import EmulatorConfig, create_app

README = (Path(stitch_emulator.__file__).parent / "README.md").read_text(encoding="utf-8")


def test_public_names_are_exactly_these() -> None:
    assert sorted(stitch_emulator.__all__) == [
        "Clock",
        "EmulatorBackend",
        "EmulatorConfig",
        "create_app",
    ]


def test_every_config_field_is_documented() -> None:
    for field in dataclasses.fields(EmulatorConfig):
        assert f"`{field.name}`" in README, field.name


def test_every_control_route_is_documented() -> None:
    app = create_app(EmulatorConfig())
    controls = {
        (
            method,
            re.sub(
                r"\{(\w+)(:\w+)?\}",
                lambda m: "{" + {"source_id": "id"}.get(m[1], m[1]) + "}",
                route.path,
            ),
        )
        for route in app.routes
        if isinstance(route, Route)
        and route.path.startswith("/_emulator/")
        and not route.path.startswith("/_emulator/provider")
        for method in (route.methods or set()) - {"HEAD"}
    }
    assert controls
    for method, path in controls:
        assert f"`{method} {path}`" in README, (method, path)


def test_generated_credentials_have_the_documented_prefixes() -> None:
    config = EmulatorConfig()
    assert str(config.token).startswith("ac_")
    assert str(config.partner_id).startswith("oc_") and str(config.partner_secret).startswith("oc_")
    assert EmulatorConfig().token != config.token
