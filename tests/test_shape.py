"""The sizes the house keeps (issue: "measures of the shape"): no Python module of the product or
the emulator over 400 lines, no function of the bridge over 60. Past them a module or function
is doing more than one thing; split it rather than raise the numbers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULE_LINES = 400
FUNCTION_LINES = 60


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", ["bridge", "stitch_emulator"])
def test_no_module_is_over_400_lines(package: str) -> None:
    sizes = {path: len(path.read_text().splitlines()) for path in _modules(package)}
    assert len(sizes) > 20  # the packages were found
    too_long = {str(p.relative_to(ROOT)): n for p, n in sizes.items() if n > MODULE_LINES}
    assert too_long == {}


def test_no_bridge_function_is_over_60_lines() -> None:
    too_long = {}
    for path in _modules("bridge"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                assert node.end_lineno is not None
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    too_long[f"{path.relative_to(ROOT)}:{node.name}"] = lines
    assert too_long == {}
