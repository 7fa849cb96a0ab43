"""With BRIDGE_UPSTREAM_RATE, a burst of end users waits in a bounded queue instead of failing."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import pytest

from tests.bridge.conftest import APP_ORIGIN, Stack


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    return {"upstream_rate": 4.0, "upstream_burst": 1}


def test_a_burst_queues_for_the_budget_and_everyone_is_answered(stack: Stack) -> None:
    sources = []
    tokens = []
    for n in range(6):
        token = stack.mint(end_user=f"burst-{n}")
        created = stack.widget(token=token).post("/v1/sources", json={"type": "platform.recurly"})
        sources.append(created.json()["source"]["id"])
        tokens.append(token)
    results: list[int] = []

    def poll(n: int) -> None:
        response = stack.http().get(
            f"/v1/sources/{sources[n]}",
            headers={"Authorization": f"Bearer {tokens[n]}", "Origin": APP_ORIGIN},
            timeout=30,
        )
        results.append(response.status_code)

    threads = [threading.Thread(target=poll, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    depth = 0.0
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and depth == 0.0:
        text = stack.http().get("/metrics").text
        match = re.search(r"^bridge_upstream_queue_depth (\S+)$", text, re.M)
        depth = float(match.group(1)) if match else 0.0
        time.sleep(0.05)
    for thread in threads:
        thread.join(timeout=30)
    assert depth >= 1, "nobody was seen waiting for the budget"
    assert results == [200] * 6
