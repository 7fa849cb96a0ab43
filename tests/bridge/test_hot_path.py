"""The widget poll's fast path (`GET /v1/sources/{id}`): what the per-process caches may skip,
and what they must not change (another end user is still refused, a deleted source is still 404,
a failed connection check still shows)."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bridge.store import loop_reads
from stitch_emulator import EmulatorConfig
from tests.bridge.conftest import RECURLY_PROPERTIES, STITCH_TOKEN, Stack

CHECK_PATH = "/last-connection-check"


@pytest.fixture
def emulator_config() -> EmulatorConfig:
    # The emulator's clock only moves when a test advances it: every check stays running.
    return EmulatorConfig(token=STITCH_TOKEN, check_delay=60.0)


def _create(widget: httpx.Client) -> int:
    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    assert created.status_code == 201, created.text
    return int(created.json()["source"]["id"])


def _stitch_calls(stack: Stack, suffix: str) -> list[str]:
    log = stack.emulator_http().get("/_emulator/requests").json()["requests"]
    return [r["path"] for r in log if r["method"] == "GET" and r["path"].endswith(suffix)]


class RowReads:
    """When the bridge's engines began reading a source's row by id (every engine of this
    process: the bridge under test runs in it), through the pool or in the event loop."""

    SQL = "FROM sources WHERE sources.id = "

    def __init__(self) -> None:
        self.began: list[float] = []

    def __call__(self, *args: Any) -> None:
        statement = " ".join(args[2].split())
        if self.SQL in statement:
            self.began.append(time.monotonic())


@pytest.fixture
def row_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[RowReads]:
    reads = RowReads()
    in_loop = loop_reads.LoopReader.first

    def first(reader: loop_reads.LoopReader, statement: Any, *rest: Any) -> Any:
        reads(None, None, str(statement))
        return in_loop(reader, statement, *rest)

    monkeypatch.setattr(loop_reads.LoopReader, "first", first)
    event.listen(Engine, "before_cursor_execute", reads)
    try:
        yield reads
    finally:
        event.remove(Engine, "before_cursor_execute", reads)


def test_a_stranger_is_refused_from_the_owner_cache_without_the_database_or_stitch(
    stack: Stack, row_reads: RowReads
) -> None:
    owner = stack.widget(end_user="owner")
    source_id = _create(owner)
    assert owner.get(f"/v1/sources/{source_id}").status_code == 200  # the owner is now known
    stranger = stack.widget(end_user="stranger")
    stranger.get("/v1/source-types")  # the stranger's session is recorded before counting
    stack.emulator_http().delete("/_emulator/requests").raise_for_status()
    row_reads.began.clear()

    refused = stranger.get(f"/v1/sources/{source_id}")

    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "source_not_found"
    assert row_reads.began == []
    assert _stitch_calls(stack, f"/v4/sources/{source_id}") == []
    assert owner.get(f"/v1/sources/{source_id}").status_code == 200
    assert len(row_reads.began) == 1  # the owner's poll is read, and counted


def test_a_deleted_source_is_not_found_though_its_owner_is_cached(stack: Stack) -> None:
    owner = stack.widget(end_user="owner")
    source_id = _create(owner)
    assert owner.get(f"/v1/sources/{source_id}").status_code == 200
    stack.backend().delete(f"/v1/end-users/owner/sources/{source_id}").raise_for_status()

    gone = owner.get(f"/v1/sources/{source_id}")

    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "source_not_found"


def test_an_unchanged_poll_writes_nothing(stack: Stack) -> None:
    owner = stack.widget(end_user="owner")
    source_id = _create(owner)
    first = owner.get(f"/v1/sources/{source_id}").json()
    with sqlite3.connect(stack.database) as db:
        before = db.execute("PRAGMA data_version").fetchone()
        answers = [owner.get(f"/v1/sources/{source_id}").json() for _ in range(5)]
        after = db.execute("PRAGMA data_version").fetchone()
    assert before == after  # no other connection committed anything
    assert all(a["source"] == first["source"] for a in answers)


def test_concurrent_polls_of_an_unfinished_source_share_one_check_call(stack: Stack) -> None:
    owner = stack.widget(end_user="owner")
    source_id = _create(owner)
    stack.emulator_http().delete("/_emulator/requests").raise_for_status()
    widgets = [stack.widget(end_user="owner") for _ in range(8)]  # tabs of one end user

    with ThreadPoolExecutor(len(widgets)) as pool:
        answers = list(pool.map(lambda w: w.get(f"/v1/sources/{source_id}"), widgets))

    assert [a.status_code for a in answers] == [200] * len(widgets)
    assert {a.json()["connection_check"]["status"] for a in answers} == {"running"}
    assert len(_stitch_calls(stack, f"/v4/sources/{source_id}")) == len(widgets)
    assert len(_stitch_calls(stack, CHECK_PATH)) == 1
    # Read again on Stitch's terms: within a few seconds, not per poll.
    deadline = time.monotonic() + 10
    while len(_stitch_calls(stack, CHECK_PATH)) < 2:
        assert time.monotonic() < deadline, "the check was never read again"
        owner.get(f"/v1/sources/{source_id}").raise_for_status()
        time.sleep(0.2)  # a widget's pace, not a synchronisation
    assert len(_stitch_calls(stack, CHECK_PATH)) == 2


def test_a_failed_check_shows_within_seconds_of_the_cached_running_one(stack: Stack) -> None:
    script = {"outcome": "failure", "discovery_error_message": "FATAL: password rejected"}
    stack.emulator_http().post("/_emulator/checks", json=script).raise_for_status()
    owner = stack.widget(end_user="owner")
    source_id = _create(owner)
    running = owner.get(f"/v1/sources/{source_id}").json()
    assert running["connection_check"] == {"status": "running"}
    stack.advance(61)  # Stitch finishes the check: it failed

    deadline = time.monotonic() + 10
    while True:
        answer = owner.get(f"/v1/sources/{source_id}").json()
        if answer.get("connection_check") == {"status": "failed"}:
            break
        assert time.monotonic() < deadline, f"the failure never showed: {answer}"
        time.sleep(0.2)  # a widget's pace, not a synchronisation
    assert answer["source"]["status"] == "needs_input"
