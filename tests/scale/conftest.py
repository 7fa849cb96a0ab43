"""A throwaway PostgreSQL per test session, a fresh database per test, and both backends."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bridge.store.schema import create_engine, migrate
from tests.postgres import BINARIES_GLOB, PostgresServer, find_binaries, postgres_server


def require_binaries() -> Path:
    """The binaries, or a skip (locally) / a failure (CI=true) that says how to get them."""
    found = find_binaries()
    if found is not None:
        return found
    message = (
        f"PostgreSQL tests need Debian's server binaries in {BINARIES_GLOB} "
        "(apt-get install postgresql; .ci/run installs it)"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """One server for the session (skipped locally, a failure in CI, without the binaries)."""
    with postgres_server(require_binaries()) as server:
        yield server


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """The URL of a new, empty database on the session's server."""
    return postgres.create_database(f"bridge_test_{uuid.uuid4().hex[:16]}")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each storage test runs on SQLite (a file) and on PostgreSQL (a new database)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bridge.db'}"
    url = request.getfixturevalue("pg_url")
    assert isinstance(url, str)
    return url


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """The bridge's schema, migrated, on this test's database."""
    engine = create_engine(database_url)
    await migrate(engine)
    try:
        yield engine
    finally:
        await engine.dispose()


@pytest.fixture
def db(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
