"""The jobs budget (CONTRACT §4.8): over a simulated hour of busy syncing, the bridge never sends
Stitch more than BRIDGE_JOBS_BUDGET extractions/loads requests in any 10 minutes, and still
reports every job; widget polls never reach those endpoints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest

from tests.bridge.conftest import Stack
from tests.bridge.sync_helpers import POLL, advance_and_poll, connect, event_bodies, sync_of

pytestmark = [pytest.mark.timeout(300), pytest.mark.usefixtures("fast_sync_poller")]


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    return {"session_ttl": 86_400}  # the widget's session outlives the simulated hour


JOBS_PATH = re.compile(r"^/v4/\d+/(extractions|loads)$")


def jobs_requests(stack: Stack) -> list[tuple[float, str]]:
    log = stack.emulator_http().get("/_emulator/requests").json()["requests"]
    found = []
    for entry in log:
        match = JOBS_PATH.match(entry["path"])
        if match:
            at = datetime.fromisoformat(entry["time"].replace("Z", "+00:00")).timestamp()
            found.append((at, match.group(1)))
    return found


def busiest_window(times: list[float], window: float = 600.0) -> int:
    """The most requests inside any `window` seconds (Stitch counts per 10 minutes)."""
    times = sorted(times)
    return max((sum(1 for t in times if start <= t < start + window) for start in times), default=0)


def test_an_hour_of_syncs_stays_within_the_jobs_budget(stack: Stack) -> None:
    widgets = [connect(stack, end_user=f"busy-{n}") for n in range(2)]
    # A round the connections started may still be in flight, and the clocks move one after
    # the other: one more round, then count from a quiet start (the bridge's own accounting
    # keeps what came before, so it only spends less).
    advance_and_poll(stack, POLL)
    stack.emulator_http().delete("/_emulator/requests").raise_for_status()
    syncs = 0
    for minute in range(60):
        widget, source_id = widgets[minute % 2]
        widget.get(f"/v1/sources/{source_id}").raise_for_status()  # a widget polling its source
        if widget.post(f"/v1/sources/{source_id}/sync").status_code == 202:
            syncs += 1
        advance_and_poll(stack, POLL)

    requests = jobs_requests(stack)
    budget = stack.settings.jobs_budget
    assert budget == 20
    assert busiest_window([t for t, _ in requests]) <= budget
    # ...and the budget was used, not avoided: a poll every minute, loads for the successes.
    kinds = [kind for _, kind in requests]
    assert kinds.count("extractions") >= 55 and kinds.count("loads") >= 40
    # Every job that could finish was reported, once (a scheduled run may have taken a
    # minute's place: then the manual sync was refused as already running).
    succeeded = event_bodies(stack, "source.sync_succeeded")
    assert syncs >= 50
    assert len(succeeded) == len({e["data"]["job_name"] for e in succeeded}) >= syncs - 2
    for n, (_, source_id) in enumerate(widgets):
        assert sync_of(stack, source_id, f"busy-{n}")["state"] in ("succeeded", "running")
