"""SQLAlchemy's aiosqlite driver, with each statement one trip to the connection's thread.

aiosqlite runs a connection's calls on a thread of its own, and SQLAlchemy's adapter drives
its cursor call by call: make the cursor, execute, fetch, close, each queued to that thread
and answered through the event loop. Four trips a statement, each two thread wake-ups under
the GIL: about as much CPU as the statement itself, and more latency. A source creation makes
some fourteen statements, so on a burst this was the largest part of the bridge's work.

Here the cursor SQLAlchemy drives does all four in one call on aiosqlite's thread and keeps
what it got (description, row count, last row id, rows). Everything else — the connection,
transactions, `create_function`, server-side cursors — is SQLAlchemy's own adapter unchanged.
`engine_options()` hands the driver to `create_async_engine`; the URL stays `sqlite+aiosqlite`.

Writers queue in the event loop. SQLite has one writer at a time, and a connection that finds
the write lock taken waits in SQLite's busy handler, which sleeps in steps of up to 100 ms and
so can leave the lock idle for that long after it is freed. So a connection about to write (its first INSERT, UPDATE or DELETE of a
transaction) first takes the engine's writer lock, an asyncio lock that wakes the next writer
the moment a transaction commits or rolls back. Waiting longer than the busy timeout fails as
SQLite would ("database is locked"). Other processes on the same file still meet SQLite's own
lock. A short transaction others wait on (the upstream budget's slot, which every Stitch call
takes) runs under `urgent_writes()` and goes ahead of the queue: in a burst, each creation's
slot is then taken as soon as its claim commits, not after every other end user's claim.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import sqlite3
import weakref
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

# description, row count, last row id, rows, and whether a transaction is still open
Outcome = tuple[Any, int, int | None, list[Any], bool]
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


_URGENT: contextvars.ContextVar[bool] = contextvars.ContextVar("sqlite_urgent", default=False)


@contextlib.contextmanager
def urgent_writes() -> Iterator[None]:
    """Transactions begun inside go ahead of other waiting writers (no effect off SQLite)."""
    token = _URGENT.set(True)
    try:
        yield
    finally:
        _URGENT.reset(token)


class WriterQueue:
    """A lock for one writer at a time: urgent waiters first, then in order of arrival."""

    def __init__(self) -> None:
        self._held = False
        self._urgent: deque[asyncio.Future[None]] = deque()
        self._waiting: deque[asyncio.Future[None]] = deque()

    async def acquire(self, urgent: bool = False) -> None:
        if not self._held and not self._urgent and not self._waiting:
            self._held = True
            return
        turn = asyncio.get_running_loop().create_future()
        line = self._urgent if urgent else self._waiting
        line.append(turn)
        try:
            await turn
        except BaseException:
            if turn.done() and not turn.cancelled():
                self.release()  # handed the lock while giving up: pass it on
            else:
                line.remove(turn)
            raise

    def release(self) -> None:
        for line in (self._urgent, self._waiting):
            while line:
                turn = line.popleft()
                if not turn.done():
                    turn.set_result(None)  # the lock passes on, still held
                    return
        self._held = False


def writes(sql: str) -> bool:
    """Whether a statement takes SQLite's write lock (the DML SQLAlchemy emits)."""
    return sql.lstrip()[:7].upper().startswith(_WRITES)


def _one(connection: sqlite3.Connection, sql: str, parameters: Any) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return (
            cursor.description,
            cursor.rowcount,
            cursor.lastrowid,
            rows,
            connection.in_transaction,
        )
    finally:
        cursor.close()


def _many(connection: sqlite3.Connection, sql: str, parameters: Iterable[Any]) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, cursor.rowcount, cursor.lastrowid, [], connection.in_transaction
    finally:
        cursor.close()


class OneTripCursor:
    """What SQLAlchemy's adapter asks of an aiosqlite cursor, a statement per trip."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection, adapted: _Connection) -> None:
        self._connection = connection
        self._adapted = adapted
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def _run(self, how: Any, sql: str, parameters: Any) -> None:
        if writes(sql):
            await self._adapted.take_writer()
        raw = self._connection._conn  # noqa: SLF001 (aiosqlite's own sqlite3 connection)
        run = self._connection._execute  # noqa: SLF001 (queues a call to aiosqlite's thread)
        try:
            outcome: Outcome = await run(how, raw, sql, parameters)  # type: ignore[no-untyped-call]
        except BaseException:
            if not raw.in_transaction:
                self._adapted.free_writer()
            raise
        self.description, self.rowcount, self.lastrowid, self._rows, open_ = outcome
        if not open_:  # autocommit, or a statement that ended the transaction
            self._adapted.free_writer()

    async def execute(self, sql: str, parameters: Any = ()) -> OneTripCursor:
        await self._run(_one, sql, parameters)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Any]) -> OneTripCursor:
        await self._run(_many, sql, list(parameters))
        return self

    async def fetchall(self) -> Sequence[Any]:
        rows, self._rows = self._rows, []
        return rows

    async def close(self) -> None:
        self._rows = []


class _Cursor(AsyncAdapt_aiosqlite_cursor):
    __slots__ = ()

    def _make_new_cursor(self, connection: Any) -> Any:
        return OneTripCursor(connection, self._adapt_connection)  # type: ignore[arg-type]

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor  # nothing to enter: no trip


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("_writing", "_busy_timeout")
    _cursor_cls = _Cursor
    dbapi: _Driver

    def __init__(self, dbapi: _Driver, connection: Any, busy_timeout: float) -> None:
        super().__init__(dbapi, connection)
        self._writing: WriterQueue | None = None  # the writer lock, while this one holds it
        self._busy_timeout = busy_timeout

    async def take_writer(self) -> None:
        """The engine's writer lock for this connection's transaction (held: nothing to do)."""
        if self._writing is not None:
            return
        lock = self.dbapi.writer()
        try:
            async with asyncio.timeout(self._busy_timeout):
                await lock.acquire(urgent=_URGENT.get())
        except TimeoutError:
            raise sqlite3.OperationalError("database is locked") from None
        self._writing = lock

    def free_writer(self) -> None:
        lock, self._writing = self._writing, None
        if lock is not None:
            lock.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.free_writer()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.free_writer()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.free_writer()

    def terminate(self) -> None:
        try:
            super().terminate()
        finally:
            self.free_writer()


class _Driver(AsyncAdapt_aiosqlite_dbapi):
    """One per engine: its connections share a writer lock (one per event loop)."""

    def __init__(self, aiosqlite: Any, sqlite: Any) -> None:
        super().__init__(aiosqlite, sqlite)
        self._writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, WriterQueue] = (
            weakref.WeakKeyDictionary()
        )

    def writer(self) -> WriterQueue:
        loop = asyncio.get_running_loop()
        lock = self._writers.get(loop)
        if lock is None:
            lock = self._writers[loop] = WriterQueue()
        return lock

    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        busy_timeout = float(kw.get("timeout", 5.0))  # sqlite3's default
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection, busy_timeout)


def engine_options() -> dict[str, Any]:
    """`create_async_engine` options that put this driver under a `sqlite+aiosqlite` URL."""
    return {"module": _Driver(aiosqlite, sqlite3)}
