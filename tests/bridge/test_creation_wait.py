"""A creation that finds another one of the same end user and type in flight joins it, and gives
up at one deadline taken when the request began: however many waits it went through, never one
deadline per wait, and never a second Stitch source."""

from __future__ import annotations

import sqlite3
import time

import pytest

from bridge import creation
from tests.bridge.conftest import Stack

JOIN_WAIT = 2.0


def _hung_creation(stack: Stack, key: str) -> None:
    """A creator that holds its lease and never finishes (a slow Stitch, a stuck replica)."""
    with sqlite3.connect(stack.database) as db:
        db.execute(
            "INSERT INTO creation_intents (id, tenant, end_user_id, idempotency_key, type,"
            " display_name, stitch_display_name, stitch_name, state, source_id, session_id,"
            " created_at, lease_until) VALUES ('ci_hung', '', 'user-1', ?, 'platform.recurly',"
            " 'Billing', 'Billing sbhunghung', 'billing_sbhunghung', 'pending', NULL, 'cs_x',"
            " ?, ?)",
            (key, stack.clock.time(), stack.clock.time() + 10_000),
        )


@pytest.mark.parametrize("key", ["second-tab", "first-tab"], ids=["other key", "same key"])
def test_a_creation_waits_for_the_one_in_flight_until_one_deadline(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, key: str
) -> None:
    monkeypatch.setattr(creation, "JOIN_WAIT_SECONDS", JOIN_WAIT)
    _hung_creation(stack, "first-tab")
    widget = stack.widget()
    started = time.monotonic()
    response = widget.post(
        "/v1/sources", json={"type": "platform.recurly"}, headers={"Idempotency-Key": key}
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 504, response.text
    assert response.json()["error"]["code"] == "upstream_unavailable"
    # It did wait for the other creation, and only once: a second wait would take 2 × JOIN_WAIT.
    assert JOIN_WAIT <= elapsed < 1.9 * JOIN_WAIT
    assert stack.emulator_sources() == []
