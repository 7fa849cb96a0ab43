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
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)

Outcome = tuple[Any, int, int | None, list[Any]]


def _one(connection: sqlite3.Connection, sql: str, parameters: Any) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


def _many(connection: sqlite3.Connection, sql: str, parameters: Iterable[Any]) -> Outcome:
    cursor = connection.cursor()
    try:
        cursor.executemany(sql, parameters)
        return cursor.description, cursor.rowcount, cursor.lastrowid, []
    finally:
        cursor.close()


class OneTripCursor:
    """What SQLAlchemy's adapter asks of an aiosqlite cursor, a statement per trip."""

    arraysize = 1

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> OneTripCursor:
        return self

    async def _run(self, how: Any, sql: str, parameters: Any) -> None:
        raw = self._connection._conn  # noqa: SLF001 (aiosqlite's own sqlite3 connection)
        run = self._connection._execute  # noqa: SLF001 (queues a call to aiosqlite's thread)
        outcome: Outcome = await run(how, raw, sql, parameters)  # type: ignore[no-untyped-call]
        self.description, self.rowcount, self.lastrowid, self._rows = outcome

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
        return OneTripCursor(connection)

    def _aenter_cursor(self, cursor: Any) -> Any:
        return cursor  # nothing to enter: no trip


class _Connection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = _Cursor


class _Driver(AsyncAdapt_aiosqlite_dbapi):
    def connect(self, *arg: Any, **kw: Any) -> _Connection:
        adapted = super().connect(*arg, **kw)
        return _Connection(self, adapted._connection)


def engine_options() -> dict[str, Any]:
    """`create_async_engine` options that put this driver under a `sqlite+aiosqlite` URL."""
    return {"module": _Driver(aiosqlite, sqlite3)}
