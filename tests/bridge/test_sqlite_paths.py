"""The two fast ways to SQLite (`bridge/store/sqlite_driver.py`, `bridge/store/loop_reads.py`):
each statement is one trip to aiosqlite's thread, a source's row read in the event loop is the
row SQLAlchemy reads, and neither changes what a transaction sees."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from sqlalchemy import exc, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bridge.store import loop_reads, sqlite_driver
from bridge.store.budget import DatabaseBudget
from bridge.store.schema import create_engine, migrate, side_engine
from bridge.store.source_queries import read_source
from bridge.store.tables import SourceRow


class Trips:
    """Calls queued to aiosqlite's connection threads while counting."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = aiosqlite.Connection._execute

        async def counted(connection: aiosqlite.Connection, fn: Any, *a: Any, **k: Any) -> Any:
            self.count += 1
            return await original(connection, fn, *a, **k)

        monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    made = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}")
    await migrate(made)
    yield made
    await made.dispose()


def source(source_id: int = 7, **changes: Any) -> SourceRow:
    fields: dict[str, Any] = {
        "id": source_id,
        "tenant": "",
        "end_user_id": "user-1",
        "type": "platform.recurly",
        "display_name": "Recurly",
        "name": "recurly",
        "current_step": 2,
        "current_step_type": "field_selection",
        "status": "needs_input",
        "needs_reauth": True,
        "created_at": 1_700_000_000.5,
        "updated_at": 1_700_000_001.25,
        "connected_at": None,
        "deleted_at": None,
        "schedule": {"type": "interval", "frequency_in_minutes": 60},
        "paused_at": None,
        "sync_state": "failed",
        "sync_error": {"code": "x", "message": "ünïcode"},
    }
    fields.update(changes)
    return SourceRow(**fields)


async def add(engine: AsyncEngine, row: SourceRow) -> None:
    async with AsyncSession(engine) as session, session.begin():
        session.add(row)


def columns(row: SourceRow | None) -> dict[str, Any]:
    assert row is not None
    return {c.key: getattr(row, c.key) for c in SourceRow.__table__.columns}


async def test_a_statement_is_one_trip_to_the_connection_thread(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    trips = Trips(monkeypatch)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))  # the connection is open before counting
        trips.count = 0
        found = await connection.execute(text("SELECT id FROM sources"))
        assert found.all() == []
        assert trips.count == 1


async def test_rows_counts_ids_and_many_at_once_are_as_sqlite_reports_them(
    engine: AsyncEngine,
) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        added = await connection.execute(text("INSERT INTO notes (body) VALUES ('a')"))
        assert (added.lastrowid, added.rowcount) == (1, 1)
        await connection.execute(
            text("INSERT INTO notes (body) VALUES (:body)"), [{"body": "b"}, {"body": "c"}]
        )
        changed = await connection.execute(text("UPDATE notes SET body = 'z' WHERE id > 1"))
        assert changed.rowcount == 2
        listed = await connection.execute(text("SELECT id, body FROM notes ORDER BY id"))
        assert list(listed.keys()) == ["id", "body"]
        assert listed.all() == [(1, "a"), (2, "z"), (3, "z")]


async def test_errors_are_sqlalchemys_and_a_failed_transaction_leaves_nothing(
    engine: AsyncEngine,
) -> None:
    await add(engine, source())
    with pytest.raises(exc.IntegrityError):
        async with AsyncSession(engine) as session, session.begin():
            session.add(source(8))
            await session.flush()
            session.add(source())  # the same id again
    with pytest.raises(exc.OperationalError):
        async with engine.connect() as connection:
            await connection.execute(text("SELECT nothing FROM nowhere"))
    assert await read_source(engine, 8) is None


async def test_the_loop_read_is_the_row_sqlalchemy_reads_with_no_trip(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add(engine, source())
    async with AsyncSession(engine) as session:
        orm = await session.get(SourceRow, 7)
    trips = Trips(monkeypatch)

    read = await read_source(engine, 7)

    assert trips.count == 0
    assert columns(read) == columns(orm)
    assert read is not None and read.needs_reauth is True
    assert read.sync_error == {"code": "x", "message": "ünïcode"}
    assert await read_source(engine, 404) is None


async def test_the_loop_read_sees_commits_at_once_and_nothing_uncommitted(
    engine: AsyncEngine,
) -> None:
    await add(engine, source())
    async with AsyncSession(engine) as session:
        row = await session.get(SourceRow, 7)
        assert row is not None
        row.display_name = "Renamed"
        await session.flush()  # written in an open transaction
        assert (await read_source(engine, 7)).display_name == "Recurly"  # type: ignore[union-attr]
        await session.commit()
    assert (await read_source(engine, 7)).display_name == "Renamed"  # type: ignore[union-attr]


async def test_a_busy_database_is_read_the_usual_way(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    await add(engine, source())

    def busy(*_args: Any) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(loop_reads.LoopReader, "first", busy)
    trips = Trips(monkeypatch)
    assert columns(await read_source(engine, 7))["display_name"] == "Recurly"
    assert trips.count >= 1  # through the pool instead


async def test_the_loop_reader_is_read_only_and_closed_with_its_engine(
    engine: AsyncEngine,
) -> None:
    reader = loop_reads.loop_reader(engine)
    assert reader is not None
    with pytest.raises(sqlite3.OperationalError):
        reader._connection.execute("DELETE FROM sources")
    await engine.dispose()
    with pytest.raises(sqlite3.ProgrammingError):
        reader._connection.execute("SELECT 1")
    assert loop_reads.loop_reader(engine) is not reader  # a new one after a dispose


async def test_an_in_memory_database_is_read_through_the_pool() -> None:
    memory = create_engine("sqlite+aiosqlite:///:memory:")
    try:
        await migrate(memory)
        assert loop_reads.loop_reader(memory) is None
        await add(memory, source())
        assert columns(await read_source(memory, 7))["id"] == 7
    finally:
        await memory.dispose()


async def _insert(engine: AsyncEngine, note: str, hold: float = 0.0) -> None:
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": note})
        await asyncio.sleep(hold)  # the transaction stays open, holding the writer lock


async def _written(engine: AsyncEngine) -> list[str]:
    """The notes in the order their transactions took the write lock."""
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT body FROM notes ORDER BY id"))
        return [body for (body,) in rows]


@pytest.fixture
async def notes(engine: AsyncEngine) -> AsyncEngine:
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
    async with engine.connect(), engine.connect():
        pass  # two pooled connections, made before anything is counted
    return engine


async def test_a_writer_waits_in_the_event_loop_not_in_sqlite(
    notes: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    holder = asyncio.create_task(_insert(notes, "first", hold=0.3))
    await asyncio.sleep(0.05)
    trips = Trips(monkeypatch)
    second = asyncio.create_task(_insert(notes, "second"))
    await asyncio.sleep(0.1)
    # Queued in the loop, woken at the commit; not sleeping in SQLite's busy handler, which
    # leaves the lock idle for up to 100 ms after it is freed.
    assert trips.count == 0
    await asyncio.gather(holder, second)
    assert await _written(notes) == ["first", "second"]


async def test_an_urgent_writer_goes_ahead_of_the_queue(notes: AsyncEngine) -> None:
    async def urgent() -> None:
        with sqlite_driver.urgent_writes():
            await _insert(notes, "urgent")

    holder = asyncio.create_task(_insert(notes, "holder", hold=0.2))
    await asyncio.sleep(0.05)
    waiting = [asyncio.create_task(_insert(notes, f"queued-{n}")) for n in range(3)]
    await asyncio.sleep(0.05)
    late = asyncio.create_task(urgent())
    await asyncio.gather(holder, *waiting, late)
    written = await _written(notes)
    assert written[:2] == ["holder", "urgent"]
    assert sorted(written[2:]) == ["queued-0", "queued-1", "queued-2"]


async def test_a_writer_that_waits_past_the_busy_timeout_fails_as_sqlite_would(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'short.db'}?timeout=0.2")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)"))
        holder = asyncio.create_task(_insert(engine, "holder", hold=0.6))
        await asyncio.sleep(0.05)
        with pytest.raises(exc.OperationalError, match="database is locked"):
            await _insert(engine, "too late")
        await holder
        await _insert(engine, "after")  # the lock was handed on, not lost
        assert await _written(engine) == ["holder", "after"]
    finally:
        await engine.dispose()


async def test_the_writer_queue_survives_a_waiter_that_gives_up() -> None:
    queue = sqlite_driver.WriterQueue()
    await queue.acquire()
    quitter = asyncio.create_task(queue.acquire())
    patient = asyncio.create_task(queue.acquire())
    await asyncio.sleep(0)
    quitter.cancel()
    queue.release()
    await asyncio.wait_for(patient, 1)  # the lock skipped the one that left
    queue.release()
    await asyncio.wait_for(queue.acquire(), 1)  # and is free again after


async def test_the_budget_slot_is_not_queued_behind_a_full_pool(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    main = create_engine(url)
    side = side_engine(url, main)
    try:
        await migrate(main)
        budget = DatabaseBudget(side, rate=100.0, burst=1)
        held = [await main.connect() for _ in range(10)]  # every pooled connection in use
        try:
            assert await asyncio.wait_for(budget.reserve("account"), 2) == 0.0
        finally:
            for connection in held:
                await connection.close()
    finally:
        await side.dispose()
        await main.dispose()
