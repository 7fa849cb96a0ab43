"""Point reads on SQLite made in the event loop itself, for the widget poll's row.

Through SQLAlchemy and aiosqlite a one-row read is five trips to the connection's thread (a
cursor, the statement, the fetch, closing the cursor, the rollback on return), each a wake-up
of that thread and then of the event loop: about 0.25 ms of CPU and more of latency, for a read
SQLite answers in some 20 µs. Here the same statement runs on a plain `sqlite3` connection in
the loop's thread, which is safe for reads only: with WAL, readers never wait for a writer. The
connection is made with no busy wait, so if SQLite ever says busy (a database not in WAL mode,
a recovery under way) the read goes the usual way instead of holding up the event loop.

Statements are compiled once by SQLAlchemy for SQLite, and columns are converted by the same
result processors SQLAlchemy uses, so a row read here is the row read there.
"""

from __future__ import annotations

import sqlite3
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Select, event
from sqlalchemy.ext.asyncio import AsyncEngine

Processor = Callable[[Any], Any] | None


class _Statement:
    """One SELECT compiled for SQLite: its text, parameter order and column converters."""

    def __init__(self, statement: Select[Any], engine: AsyncEngine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql = str(compiled)
        self.names = tuple(compiled.positiontup or ())
        self.columns = tuple(str(column.key) for column in statement.selected_columns)
        self.processors: tuple[Processor, ...] = tuple(
            column.type.result_processor(engine.dialect, None)
            for column in statement.selected_columns
        )

    def row(self, raw: tuple[Any, ...]) -> dict[str, Any]:
        return {
            name: value if convert is None or value is None else convert(value)
            for name, convert, value in zip(self.columns, self.processors, raw, strict=True)
        }


class LoopReader:
    """A read-only `sqlite3` connection to the engine's database file, used in the loop."""

    def __init__(self, path: str) -> None:
        self._connection = sqlite3.connect(path, timeout=0, check_same_thread=False)
        self._connection.execute("PRAGMA query_only = 1")
        # Keyed by the statement itself (held, so never mistaken for a later one).
        self._statements: dict[Select[Any], _Statement] = {}

    def first(
        self, statement: Select[Any], engine: AsyncEngine, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        """The first row of `statement`, or None; raises sqlite3.OperationalError when busy."""
        compiled = self._statements.get(statement)
        if compiled is None:
            compiled = self._statements[statement] = _Statement(statement, engine)
        cursor = self._connection.execute(compiled.sql, [params[n] for n in compiled.names])
        try:
            raw = cursor.fetchone()
        finally:
            cursor.close()
        return None if raw is None else compiled.row(raw)

    def close(self) -> None:
        self._connection.close()


_READERS: weakref.WeakKeyDictionary[AsyncEngine, LoopReader | None] = weakref.WeakKeyDictionary()


def loop_reader(engine: AsyncEngine) -> LoopReader | None:
    """The engine's loop reader; None for a database that is not a SQLite file."""
    if engine in _READERS:
        return _READERS[engine]
    url = engine.url
    file = url.database if url.get_backend_name() == "sqlite" else None
    # A named in-memory database, or a URI filename, is left to the pooled connections.
    plain_file = file and file != ":memory:" and "uri" not in url.query
    reader = LoopReader(file) if plain_file and file is not None else None
    _READERS[engine] = reader
    if reader is not None:
        event.listen(engine.sync_engine, "engine_disposed", lambda _engine: _forget(engine))
    return reader


def _forget(engine: AsyncEngine) -> None:
    reader = _READERS.pop(engine, None)
    if reader is not None:
        reader.close()


async def first_row(
    engine: AsyncEngine, statement: Select[Any], params: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The first row of a read-only `statement`: in the loop on SQLite, else on a pooled
    connection (and on SQLite too whenever the loop read finds the database busy)."""
    reader = loop_reader(engine)
    if reader is not None:
        try:
            return reader.first(statement, engine, params)
        except sqlite3.OperationalError:
            pass
    async with engine.connect() as connection:
        result = await connection.execute(statement, dict(params))
        found: Mapping[str, Any] | None = result.mappings().first()
        return found
