"""Schema versions: each migration runs once, in order, and keeps the data already there."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, event, inspect, select, text
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bridge.store import sqlite_driver
from bridge.store.budget import UpstreamBudgetRow
from bridge.store.link_tables import ConnectLink, ResumePoint
from bridge.store.sync_tables import JobsRequest, SyncJobEvent, SyncLease
from bridge.store.tables import (
    Base,
    ConnectSessionRow,
    CreationIntent,
    EventRow,
    SchemaVersion,
    SourceRow,
    UsedToken,
)
from bridge.store.tenant_tables import OAuthAttempt, TenantRow


def _v1(connection: Connection) -> None:
    tables = [
        Base.metadata.tables[t.__tablename__]
        for t in (ConnectSessionRow, SourceRow, CreationIntent, UsedToken, EventRow)
    ]
    Base.metadata.create_all(connection, tables=tables)


def _v2(connection: Connection) -> None:
    table = Base.metadata.tables[UpstreamBudgetRow.__tablename__]
    Base.metadata.create_all(connection, tables=[table])


def _v3(connection: Connection) -> None:
    tables = [Base.metadata.tables[t.__tablename__] for t in (TenantRow, OAuthAttempt)]
    Base.metadata.create_all(connection, tables=tables)


def _v4(connection: Connection) -> None:
    tables = [Base.metadata.tables[t.__tablename__] for t in (ConnectLink, ResumePoint)]
    Base.metadata.create_all(connection, tables=tables)


def _v5(connection: Connection) -> None:
    # Earlier migrations create tables from today's models, so a new database has it already.
    columns = {c["name"] for c in inspect(connection).get_columns("oauth_attempts")}
    if "return_url" not in columns:
        connection.execute(text("ALTER TABLE oauth_attempts ADD COLUMN return_url VARCHAR(2048)"))


def _v6(connection: Connection) -> None:
    columns = {c["name"] for c in inspect(connection).get_columns("connect_links")}
    if "active_at" not in columns:
        connection.execute(text("ALTER TABLE connect_links ADD COLUMN active_at FLOAT"))
    # Links claimed before: their last known activity is the claim itself, so a claim a link
    # preview made long ago lapses at once instead of holding the link for weeks.
    connection.execute(
        text("UPDATE connect_links SET active_at = claimed_at WHERE active_at IS NULL")
    )


def _v7(connection: Connection) -> None:
    columns = {c["name"] for c in inspect(connection).get_columns("oauth_attempts")}
    if "consent_url" not in columns:
        connection.execute(text("ALTER TABLE oauth_attempts ADD COLUMN consent_url TEXT"))
    if "browser_hash" not in columns:
        connection.execute(text("ALTER TABLE oauth_attempts ADD COLUMN browser_hash VARCHAR(64)"))


_SOURCE_SYNC_COLUMNS = {
    "schedule": "JSON",
    "paused_at": "VARCHAR(40)",
    "sync_state": "VARCHAR(20) NOT NULL DEFAULT 'never'",
    "sync_job_name": "VARCHAR(200)",
    "sync_trigger": "VARCHAR(20)",
    "sync_started_at": "FLOAT",
    "sync_completed_at": "FLOAT",
    "sync_last_succeeded_at": "FLOAT",
    "sync_error": "JSON",
}


def _v8(connection: Connection) -> None:
    columns = {c["name"] for c in inspect(connection).get_columns("sources")}
    for name, kind in _SOURCE_SYNC_COLUMNS.items():
        if name not in columns:
            connection.execute(text(f"ALTER TABLE sources ADD COLUMN {name} {kind}"))
    tables = [Base.metadata.tables[t.__tablename__] for t in (SyncLease, JobsRequest, SyncJobEvent)]
    Base.metadata.create_all(connection, tables=tables)


MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "sessions, sources, creation intents, used tokens, events", _v1),
    (2, "upstream budget shared by replicas", _v2),
    (3, "tenants (encrypted Stitch tokens), OAuth attempts", _v3),
    (4, "hosted connect links, redirect-mode resume points", _v4),
    (5, "OAuth attempts remember a redirect-mode return URL", _v5),
    (6, "hosted links: last activity of the claiming browser (idle claims lapse)", _v6),
    (7, "OAuth attempts are bound to the browser that started them", _v7),
    (
        8,
        "sources' schedule, pause and sync state; the sync poller's leases, budget, job events",
        _v8,
    ),
]
LATEST = MIGRATIONS[-1][0]


def _in_memory(url: str) -> bool:
    return ":memory:" in url or "mode=memory" in url


def create_engine(
    url: str, *, pool_size: int = 10, overflow: int = 20, driver: Any = None
) -> AsyncEngine:
    """The engine for `url`: `pool_size` pooled connections (and on PostgreSQL up to `overflow`
    more under load); on SQLite, `driver` is another engine's (`sqlite_driver`), so that both
    engines' writers queue together."""
    if url.startswith("sqlite"):
        # How long a writer waits for a lock before "database is locked": 30 s unless the URL
        # says otherwise (`?timeout=2`).
        connect_args = {} if "timeout=" in url else {"timeout": 30}
        # A fixed pool, no overflow. The default (5, then up to 10 throwaway connections) made
        # a new aiosqlite connection — a thread, a file open, the pragmas below — for every
        # request beyond the fifth at once and closed it after: the widget poll's p99 under 50
        # waiting end users. More connections buy SQLite nothing (one writer at a time; WAL
        # readers are quick); waiting for a pooled connection wakes at once. An in-memory
        # database keeps SQLAlchemy's own single-connection pool.
        pooled = {} if _in_memory(url) else {"pool_size": pool_size, "max_overflow": 0}
        options = sqlite_driver.engine_options() if driver is None else {"module": driver}
        engine = create_async_engine(url, connect_args=connect_args, **pooled, **options)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            # WAL lets readers work while a writer commits; busy_timeout waits instead of failing.
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=pool_size, max_overflow=overflow, pool_pre_ping=True)


def side_engine(url: str, main: AsyncEngine) -> AsyncEngine:
    """A small pool of its own beside `main`, for the short transaction every Stitch call waits
    on (the upstream budget's slot): in a burst, a thousand requests queue for `main`'s pool,
    and a slot taken behind them leaves Stitch's rate unused. On SQLite its writers queue with
    `main`'s (ahead of them: `urgent_writes`); an in-memory database has only `main`."""
    if _in_memory(url):
        return main
    driver = main.dialect.dbapi if url.startswith("sqlite") else None
    return create_engine(url, pool_size=2, overflow=2, driver=driver)


def _current_version(connection: Connection) -> int:
    if not inspect(connection).has_table(SchemaVersion.__tablename__):
        return 0
    versions = connection.execute(select(SchemaVersion.version)).scalars().all()
    return max(versions, default=0)


def _upgrade(connection: Connection) -> list[int]:
    if connection.dialect.name == "postgresql":
        # Replicas starting together: one migrates, the others wait, then find nothing to do.
        connection.execute(text("SELECT pg_advisory_xact_lock(7235061)"))
    SchemaVersion.__table__.create(connection, checkfirst=True)  # type: ignore[attr-defined]
    current = _current_version(connection)
    applied = []
    for version, _what, step in MIGRATIONS:
        if version > current:
            step(connection)
            connection.execute(
                SchemaVersion.__table__.insert().values(  # type: ignore[attr-defined]
                    version=version, applied_at=time.time()
                )
            )
            applied.append(version)
    return applied


async def migrate(engine: AsyncEngine) -> list[int]:
    """Bring the schema to the latest version; returns the versions applied now."""
    async with engine.begin() as connection:
        return await connection.run_sync(_upgrade)


async def schema_version(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return await connection.run_sync(_current_version)


# What the database raises when it is down, locked or out of connections: an outage the API
# answers with 503 and Retry-After, not a bug.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, PoolTimeout)


async def ping(engine: AsyncEngine) -> None:
    """Reach the database once (readiness); raises whatever the driver raises when it cannot."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
