"""What the browser reports when it completes a step (`outcome`) is kept beside the bridge's own
verdict for the operator, and never decides it: Stitch's answer does (CONTRACT §4.2)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.bridge.conftest import Stack


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    # Stitch.js drives HubSpot's OAuth step: the widget's report is all the bridge hears of it.
    return {"step_driver": "stitchjs", "shared_account_stitchjs": True}


def _oauth_step(stack: Stack) -> tuple[Any, int, str]:
    widget = stack.widget(end_user="bob")
    created = widget.post(
        "/v1/sources",
        json={
            "type": "platform.hubspot",
            "properties": {"start_date": "2017-01-01T00:00:00Z", "frequency_in_minutes": "30"},
        },
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["next_step"]["type"] == "oauth"
    return widget, body["source"]["id"], body["next_step"]["token"]


def _reports(caplog: pytest.LogCaptureFixture) -> list[tuple[Any, Any]]:
    return [
        (getattr(r, "reported", None), getattr(r, "done", None))
        for r in caplog.records
        if r.name == "bridge.flow"
    ]


def test_a_completed_report_does_not_complete_a_step_stitch_still_waits_on(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.flow")
    widget, _, token = _oauth_step(stack)
    widget.post("/v1/steps/start", json={"token": token})
    answer = widget.post("/v1/steps/complete", json={"token": token, "outcome": "completed"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["step_completed"] is False
    assert answer.json()["next_step"]["type"] == "oauth"
    assert _reports(caplog) == [("completed", False)]


def test_a_cancelled_report_does_not_undo_a_step_stitch_has_done(
    stack: Stack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bridge.flow")
    widget, source_id, token = _oauth_step(stack)
    widget.post("/v1/steps/start", json={"token": token})
    stack.authorize(source_id)  # the end user approved in Stitch's popup, then closed it
    answer = widget.post("/v1/steps/complete", json={"token": token, "outcome": "cancelled"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["step_completed"] is True
    assert answer.json()["source"]["current_step_type"] == "discover_schema"
    assert _reports(caplog) == [("cancelled", True)]
