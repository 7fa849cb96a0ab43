"""With the native driver the widget renders each step itself; only OAuth falls back to Stitch.js."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bridge.conftest import RECURLY_PROPERTIES, Stack


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    # The OAuth fallback hands out a Stitch login: the shared account's operator accepted it.
    return {"step_driver": "native", "shared_account_stitchjs": True}


def test_each_step_maps_to_a_native_action(stack: Stack) -> None:
    widget = stack.widget()
    created = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()
    form = widget.post("/v1/steps/start", json={"token": created["next_step"]["token"]}).json()
    assert form == {"driver": "native", "step": "form", "action": "form"}

    updated = widget.put(
        f"/v1/sources/{created['source']['id']}", json={"properties": RECURLY_PROPERTIES}
    ).json()
    wait = widget.post("/v1/steps/start", json={"token": updated["next_step"]["token"]}).json()
    assert wait["action"] == "wait"
    stack.advance(3)
    polled = widget.get(f"/v1/sources/{created['source']['id']}").json()
    pick = widget.post("/v1/steps/start", json={"token": polled["next_step"]["token"]}).json()
    assert pick["action"] == "select_streams"


def test_oauth_falls_back_to_stitchjs(stack: Stack) -> None:
    widget = stack.widget()
    created = widget.post(
        "/v1/sources",
        json={"type": "platform.hubspot", "properties": {"start_date": "2017-01-01T00:00:00Z"}},
    ).json()
    started = widget.post("/v1/steps/start", json={"token": created["next_step"]["token"]}).json()
    assert started["driver"] == "stitchjs"
    assert started["js"]["function"] == "authorizeSource"
