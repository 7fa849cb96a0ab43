"""No import cycle among the modules of bridge/ and stitch_emulator/.

A cycle hidden behind a function-local or `TYPE_CHECKING` import is still a cycle in the design
(two modules that cannot be understood, tested or moved apart), so every import statement counts,
wherever it sits. `from pkg import submodule` counts as importing the submodule only.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bridge", "stitch_emulator")

Graph = dict[str, set[str]]


def modules_of(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Dotted module name -> file, for every .py under the packages."""
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def _known(name: str, modules: dict[str, Path]) -> str | None:
    """The module an imported name lives in: the longest known prefix (`pkg.mod.func` -> pkg.mod)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _base(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """The absolute module a `from ... import` names, relative levels resolved."""
    if not node.level:
        return node.module or ""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    parts = parts[: len(parts) - node.level + 1]
    return ".".join(parts + ([node.module] if node.module else []))


def _imported(node: ast.AST, module: str, is_package: bool, modules: dict[str, Path]) -> set[str]:
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = _base(module, is_package, node)
        subs = [f"{base}.{alias.name}" for alias in node.names]
        names = [sub if sub in modules else base for sub in subs]
    else:
        return set()
    return {known for name in names if (known := _known(name, modules)) is not None}


def import_graph(modules: dict[str, Path]) -> Graph:
    """Who imports whom among `modules`, counting every import statement anywhere in a file."""
    graph: Graph = {}
    for module, path in modules.items():
        is_package = path.name == "__init__.py"
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            targets |= _imported(node, module, is_package, modules)
        graph[module] = targets - {module}
    return graph


def _path_back(graph: Graph, start: str, within: set[str]) -> list[str]:
    """A shortest cycle from `start` back to itself inside one strongly connected component."""
    previous: dict[str, str] = {}
    queue = [start]
    for node in queue:
        for nxt in sorted(graph[node] & within):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(previous[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"{start} is on no cycle")


def cycles(graph: Graph) -> list[list[str]]:
    """One cycle (`a -> b -> a`) per strongly connected component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:  # Tarjan's algorithm
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = {stack.pop()}
            while node not in component:
                component.add(stack.pop())
            if len(component) > 1:
                found.append(_path_back(graph, min(component), component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def test_a_cycle_hidden_in_a_function_or_behind_type_checking_is_found(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/a.py": "from pkg import b\n",
            "pkg/b.py": "def f():\n    from .c import g\n",
            "pkg/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n",
            "pkg/d.py": "from . import a\n",
        },
    )
    found = cycles(import_graph(modules_of(tmp_path, ["pkg"])))
    assert found == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]


def test_importing_a_submodule_does_not_import_its_package(tmp_path: Path) -> None:
    # pkg/__init__ re-exports from pkg.a, and pkg.a imports its sibling through the package:
    # not a cycle, since `from pkg import b` imports pkg.b only.
    _write(
        tmp_path,
        {
            "pkg/__init__.py": "from .a import A\n",
            "pkg/a.py": "from pkg import b\nA = 1\n",
            "pkg/b.py": "",
        },
    )
    assert cycles(import_graph(modules_of(tmp_path, ["pkg"]))) == []


@pytest.mark.parametrize("package", PACKAGES)
def test_no_import_cycle(package: str) -> None:
    graph = import_graph(modules_of(ROOT, PACKAGES))
    involved = [c for c in cycles(graph) if any(m.split(".")[0] == package for m in c)]
    assert not involved, "import cycles: " + "; ".join(" -> ".join(c) for c in involved)
