"""All SQL lives in `bridge/store/` as named queries: no other module of the bridge builds a
statement or drives a session itself, so a query can be read, tested and changed in one place."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BRIDGE = Path(__file__).resolve().parents[2] / "bridge"
# Every module of the bridge outside store/ (the routes included), and the pytest plugin aside.
DOMAIN = tuple(
    sorted(
        str(path.relative_to(BRIDGE))
        for path in BRIDGE.rglob("*.py")
        if path.relative_to(BRIDGE).parts[0] not in ("store", "testing")
    )
)
SESSION_CALLS = {"execute", "scalar", "scalars", "get", "add", "delete", "flush", "merge"}


def sql_uses(path: Path) -> list[str]:
    """Each place `path` imports SQLAlchemy beyond its session types, or calls a session."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
            if node.module != "sqlalchemy.ext.asyncio":
                found.append(f"{path.name}:{node.lineno} imports {node.module}")
        elif isinstance(node, ast.Import):
            found += [
                f"{path.name}:{node.lineno} imports {alias.name}"
                for alias in node.names
                if alias.name.startswith("sqlalchemy")
            ]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "session"
            and node.func.attr in SESSION_CALLS
        ):
            found.append(f"{path.name}:{node.lineno} calls session.{node.func.attr}")
    return found


@pytest.mark.parametrize("module", DOMAIN)
def test_a_domain_module_asks_the_store_and_writes_no_sql(module: str) -> None:
    assert sql_uses(BRIDGE / module) == []


def test_the_check_sees_a_statement_and_a_session_call(tmp_path: Path) -> None:
    # The guard itself: what the domain modules did before their queries moved to the store.
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from sqlalchemy import update\n"
        "async def f(session):\n"
        "    await session.execute(update(T))\n"
        "    session.add(T())\n"
    )
    assert sorted(sql_uses(sample)) == [
        "sample.py:1 imports sqlalchemy",
        "sample.py:3 calls session.execute",
        "sample.py:4 calls session.add",
    ]
