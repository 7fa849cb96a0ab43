"""After connecting, in the demo: sync now, a failed sync's message, pause and resume, schedule.

The rows act through the widget (`bridge.sync`, `pause`, `unpause`, `setSchedule`) with the
page's connect session; the bridge learns how a job ended from its sync poller, which these tests
hurry along by moving the emulator's clock (the job runs) and the bridge's (the poller's round is
due), on a stack of their own.
"""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from bridge.demo import Stack
from tests.browser.flows import SPECS, event_types, events

pytestmark = pytest.mark.browser

RECURLY = SPECS["platform.recurly"]


def connected_source(stack: Stack, user: str) -> int:
    """A connected Recurly source of `user`, made the way the widget makes one (no browser)."""
    page = httpx.get(f"{stack.demo_url}/?user={user}", timeout=10).text
    match = re.search(r'name="acme-user" content="([^"]+)"', page)
    assert match
    minted = httpx.post(
        f"{stack.demo_url}/api/stitch-session",
        json={},
        headers={"X-Acme-User": match.group(1)},
        timeout=10,
    ).json()
    widget = httpx.Client(
        base_url=stack.bridge_url,
        headers={"Authorization": f"Bearer {minted['token']}", "Origin": stack.demo_url},
        timeout=10,
    )
    with widget:
        made = widget.post(
            "/v1/sources", json={"type": RECURLY.type, "properties": RECURLY.properties}
        )
        assert made.status_code == 201, made.text
        source_id = int(made.json()["source"]["id"])
        advance_emulator(stack, 3)  # the connection check passes
        streams = [{"tap_stream_id": s, "selected": True} for s in RECURLY.streams]
        widget.put(f"/v1/sources/{source_id}/streams", json={"streams": streams}).raise_for_status()
        answer = widget.get(f"/v1/sources/{source_id}").json()["source"]
    assert answer["status"] == "connected"
    return source_id


def advance_emulator(stack: Stack, seconds: float) -> None:
    moved = httpx.post(f"{stack.emulator_url}/_emulator/clock", json={"advance": seconds})
    moved.raise_for_status()


def until_sync_state(stack: Stack, page: Any, source_id: int, state: str) -> None:
    """Let the job run and the bridge's poller read it, round after round, until the row shows
    `state` (the page's widget polls the bridge while the sync runs)."""
    last = page.get_by_test_id(f"last-sync-{source_id}")
    deadline = time.monotonic() + 60
    while last.get_attribute("data-state") != state:
        assert time.monotonic() < deadline, f"the row never showed {state}"
        advance_emulator(stack, 6)  # longer than the demo's 5 s jobs
        stack.bridge_clock.advance(45)  # past the poller's period (40 s at the jobs budget)
        try:
            expect(last).to_have_attribute("data-state", state, timeout=4_000)
        except AssertionError:
            continue


def script_job(stack: Stack, source_id: int, **outcome: Any) -> None:
    scripted = httpx.post(
        f"{stack.emulator_url}/_emulator/jobs", json={"source_id": source_id, **outcome}
    )
    scripted.raise_for_status()


def test_sync_now_runs_then_succeeds_and_the_row_says_when(
    stacks: Any, demo_for: Any, user: str, shots: Any
) -> None:
    stack = stacks("native", movable_clock=True)
    source_id = connected_source(stack, user)
    page = demo_for(stack).open(user)
    row = page.get_by_test_id(f"connection-{source_id}")
    expect(row).to_have_attribute("data-status", "connected")
    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_have_attribute("data-state", "never")
    expect(page.get_by_test_id(f"next-sync-{source_id}")).to_contain_text(re.compile(r"\d:\d\d"))

    page.get_by_test_id(f"sync-{source_id}").click()
    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_have_attribute("data-state", "running")
    expect(page.locator('[data-testid="events"] > [data-type="sync_started"]')).to_have_count(1)
    until_sync_state(stack, page, source_id, "succeeded")

    expect(page.locator('[data-testid="events"] > [data-type="sync_succeeded"]')).to_have_count(1)
    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_contain_text("succeeded")
    expect(page.get_by_test_id(f"sync-{source_id}")).to_be_enabled()
    assert event_types(page).count("sync_started") == 1
    shots.take(page, "synced")


def test_a_failed_sync_shows_stitchs_message(stacks: Any, demo_for: Any, user: str) -> None:
    stack = stacks("native", movable_clock=True)
    source_id = connected_source(stack, user)
    message = "Recurly answered 401: the API key was revoked"
    script_job(stack, source_id, outcome="failed", phase="tap", message=message)
    page = demo_for(stack).open(user)

    page.get_by_test_id(f"sync-{source_id}").click()
    until_sync_state(stack, page, source_id, "failed")

    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_contain_text(message)
    [failed] = events(page, "sync_failed")
    assert message in failed


def test_pause_resume_and_a_new_schedule_reach_stitch(
    stacks: Any, demo_for: Any, user: str
) -> None:
    stack = stacks("native", movable_clock=True)
    source_id = connected_source(stack, user)
    page = demo_for(stack).open(user)
    next_sync = page.get_by_test_id(f"next-sync-{source_id}")

    page.get_by_test_id(f"pause-{source_id}").click()
    expect(page.get_by_test_id(f"unpause-{source_id}")).to_be_visible()
    expect(next_sync).to_contain_text("Paused")
    assert upstream(stack, source_id)["paused_at"] is not None

    page.get_by_test_id(f"unpause-{source_id}").click()
    expect(page.get_by_test_id(f"pause-{source_id}")).to_be_visible()
    expect(next_sync).not_to_contain_text("Paused")
    assert upstream(stack, source_id)["paused_at"] is None

    before = next_sync.text_content()
    page.get_by_test_id(f"schedule-{source_id}").select_option("360")
    expect(page.locator('[data-testid="events"] > [data-type="schedule_changed"]')).to_have_count(1)
    expect(page.get_by_test_id(f"schedule-{source_id}")).to_have_value("360")
    assert upstream(stack, source_id)["properties"]["frequency_in_minutes"] == "360"
    expect(next_sync).not_to_have_text(before or "")
    types = event_types(page)
    assert types.count("paused") == 1 and types.count("unpaused") == 1
    assert "error" not in types


def test_a_second_sync_while_one_runs_rejects_with_the_bridges_code(
    stacks: Any, demo_for: Any, user: str
) -> None:
    stack = stacks("native", movable_clock=True)
    source_id = connected_source(stack, user)
    page = demo_for(stack).open(user)
    page.get_by_test_id(f"sync-{source_id}").click()
    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_have_attribute("data-state", "running")
    # A second sync while the first runs: the bridge's code, on the widget's SourceError.
    caught = page.evaluate(
        """async (id) => {
          try { await window.acmeDemo.bridge.sync({ sourceId: id }); return null; }
          catch (err) {
            return { code: err.code, typed: err instanceof window.StitchBridge.SourceError };
          }
        }""",
        source_id,
    )
    assert caught == {"code": "sync_already_running", "typed": True}


def upstream(stack: Stack, source_id: int) -> dict[str, Any]:
    state = httpx.get(f"{stack.emulator_url}/_emulator/state", timeout=10).json()
    return next(s for s in state["sources"] if s["id"] == source_id)


def test_a_watched_source_reports_the_end_of_a_sync_the_page_did_not_start(
    stacks: Any, demo_for: Any, user: str
) -> None:
    stack = stacks("native", movable_clock=True)
    source_id = connected_source(stack, user)
    started = httpx.post(
        f"{stack.bridge_url}/v1/end-users/{user}/sources/{source_id}/sync",
        headers={"Authorization": f"Bearer {stack.api_key}"},
        timeout=10,
    )
    assert started.status_code == 202, started.text
    page = demo_for(stack).open(user)  # the row's widget watches the source, which is running
    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_have_attribute("data-state", "running")

    until_sync_state(stack, page, source_id, "succeeded")
    # Its start was before the page looked (the baseline, not news); its end is news.
    expect(page.locator('[data-testid="events"] > [data-type="sync_succeeded"]')).to_have_count(1)
    assert "sync_started" not in event_types(page)


def test_the_widget_reads_a_source_again_only_while_its_sync_runs(
    stacks: Any, demo_for: Any, user: str
) -> None:
    stack = stacks("native", movable_clock=True)
    source_id = connected_source(stack, user)
    demo = demo_for(stack)
    page = demo.new_page()
    page.clock.install()  # the page's timers run when the test says so
    seen: list[str] = []  # the page's calls about this source, in the order it made them
    path = f"/v1/sources/{source_id}"
    page.on(
        "request",
        lambda r: (
            seen.append(f"{r.method} {r.url.split(stack.bridge_url)[-1]}")
            if path in r.url
            else None
        ),
    )
    page.goto(f"{stack.demo_url}/?user={user}")
    demo.wait_ready(page)
    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_have_attribute("data-state", "never")
    wait_until(lambda: f"GET {path}" in seen, "the watch's first read")
    # One read of our own: once it has answered, the widget knows the source (sync `never`).
    page.evaluate("(id) => window.acmeDemo.bridge.getSource({ sourceId: id })", source_id)

    page.clock.run_for(120_000)  # two idle minutes: nothing runs, nothing is read
    page.get_by_test_id(f"sync-{source_id}").click()
    wait_until(lambda: f"POST {path}/sync" in seen, "the sync request")
    assert seen == [f"GET {path}", f"GET {path}", f"POST {path}/sync"]

    expect(page.get_by_test_id(f"last-sync-{source_id}")).to_have_attribute("data-state", "running")
    page.clock.run_for(2_500)  # the demo's watchInterval: the running sync is read again
    wait_until(lambda: seen[3:] == [f"GET {path}"], "a read while the sync runs")


def wait_until(condition: Any, what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
