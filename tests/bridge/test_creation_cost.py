"""What a source creation costs the database: the look and the claim are one transaction, so a
new source is that and its adoption; a session's first use is one statement."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine

from tests.bridge.conftest import RECURLY_PROPERTIES, Stack


@dataclass
class Database:
    """Every statement and transaction end of this process's engines (the bridge runs here)."""

    statements: list[str] = field(default_factory=list)
    ends: list[str] = field(default_factory=list)  # "commit" | "rollback"

    def clear(self) -> None:
        self.statements.clear()
        self.ends.clear()

    def on_statement(self, *args: Any) -> None:
        self.statements.append(" ".join(args[2].split()))


@pytest.fixture
def database() -> Iterator[Database]:
    seen = Database()
    listeners = [
        ("before_cursor_execute", seen.on_statement),
        ("commit", lambda *_: seen.ends.append("commit")),
        ("rollback", lambda *_: seen.ends.append("rollback")),
    ]
    for name, listener in listeners:
        event.listen(Engine, name, listener)
    try:
        yield seen
    finally:
        for name, listener in listeners:
            event.remove(Engine, name, listener)


def _writes(database: Database, table: str) -> list[str]:
    return [s for s in database.statements if s.startswith(f"INSERT INTO {table} ")]


def test_a_new_source_costs_two_transactions(stack: Stack, database: Database) -> None:
    widget = stack.widget(end_user="creator")
    assert widget.get("/v1/source-types").status_code == 200  # the session's first use
    database.clear()

    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )

    assert created.status_code == 201, created.text
    # Background workers only read here; the creation commits its claim, then its adoption.
    assert database.ends.count("commit") == 2
    lookups = [s for s in database.statements if "creation_intents.idempotency_key = ?" in s]
    assert len(lookups) == 1  # the key is looked up once, under the lock that claims it
    assert not [s for s in database.statements if s.startswith("SAVEPOINT")]
    assert len(_writes(database, "creation_intents")) == 1
    assert len(_writes(database, "sources")) == 1
    # A repeat of the request answers from the claim's own look: still one source.
    again = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    assert (
        again.status_code == 200 and again.json()["source"]["id"] == created.json()["source"]["id"]
    )


def test_a_sessions_first_use_is_one_statement_and_later_uses_none(
    stack: Stack, database: Database
) -> None:
    widget = stack.widget(end_user="first-use")
    database.clear()

    assert widget.get("/v1/source-types").status_code == 200
    recorded = [s for s in database.statements if "connect_sessions" in s]
    assert len(recorded) == 1 and recorded[0].startswith("INSERT INTO connect_sessions ")
    assert database.ends.count("commit") == 1

    database.clear()
    assert widget.get("/v1/source-types").status_code == 200
    assert [s for s in database.statements if "connect_sessions" in s] == []
