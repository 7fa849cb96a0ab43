"""Every public name of the client is documented: a docstring in the code, a mention in the
README (what a SaaS engineer reads)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import bridge.testing
import stitch_bridge_client as sbc
from stitch_bridge_client import AsyncClient, Client

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
PUBLIC = [n for n in sbc.__all__ if not n.startswith("_") and n != "NOT_GIVEN"]


@pytest.mark.parametrize("name", PUBLIC)
def test_each_public_name_has_a_docstring_and_a_place_in_the_readme(name: str) -> None:
    assert inspect.getdoc(getattr(sbc, name)), name
    assert f"`{name}" in README or f"{name}(" in README or f" {name}," in README, name


@pytest.mark.parametrize("cls", [Client, AsyncClient])
def test_every_resource_method_is_documented(cls: type) -> None:
    made = cls("http://bridge.test", "k" * 40)
    for resource in ("sessions", "links", "end_users", "events", "receipts"):
        target = getattr(made, resource)
        assert inspect.getdoc(type(target)), resource
        for name, method in inspect.getmembers(type(target), inspect.isfunction):
            if not name.startswith("_"):
                assert inspect.getdoc(method), f"{resource}.{name}"


@pytest.mark.parametrize(
    "name", ["stitch_emulator", "stitch_bridge", "webhook_receiver", "connected_source"]
)
def test_each_plugin_fixture_is_documented(name: str) -> None:
    assert f"`{name}`" in README
    assert name in (bridge.testing.__doc__ or "")
