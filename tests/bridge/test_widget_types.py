"""The widget's TypeScript declarations: served beside /widget.js, and checked with
`tsc --noEmit --strict` against the typed example (TypeScript comes from the npm registry,
installed once into a cache directory; without Node the check is skipped, never in CI)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.bridge.conftest import Stack

ROOT = Path(__file__).resolve().parents[2]
DECLARATIONS = ROOT / "bridge" / "static" / "widget.d.ts"
EXAMPLE = ROOT / "examples" / "widget-usage.ts"
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "stitch-bridge-tests"
TSC_FLAGS = ["--noEmit", "--strict", "--target", "es2020", "--lib", "es2020,dom"]


def test_the_bridge_serves_the_declarations_beside_the_widget(stack: Stack) -> None:
    answer = stack.http().get("/widget.d.ts")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/typescript; charset=utf-8"
    assert answer.text == DECLARATIONS.read_text(encoding="utf-8")
    assert "interface Widget" in answer.text and "interface SourceError" in answer.text
    spec = stack.http().get("/openapi.json").json()
    assert "/widget.d.ts" in spec["paths"]


@pytest.fixture(scope="module")
def tsc() -> Path:
    """TypeScript 5's compiler, from the npm registry into a cache shared by test runs."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        if os.environ.get("CI") == "true":
            pytest.fail(
                "the widget types check needs Node and npm in CI (apt-get install nodejs npm)"
            )
        pytest.skip("the widget types check needs Node and npm (apt-get install nodejs npm)")
    prefix = CACHE / "typescript5"
    compiler = prefix / "node_modules" / "typescript" / "bin" / "tsc"
    if not compiler.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        installed = subprocess.run(
            [npm, "install", "--prefix", str(prefix), "--no-audit", "--no-fund", "typescript@5"],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert installed.returncode == 0, installed.stderr[-2000:]
    return compiler


def check(tsc: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["node", str(tsc), *TSC_FLAGS, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.mark.slow
def test_the_typed_example_compiles_under_strict(tsc: Path) -> None:
    result = check(tsc, EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_declarations_refuse_a_wrong_call(tsc: Path, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong.ts"
    wrong.write_text(
        f'/// <reference path="{DECLARATIONS}" />\n'
        'const b = StitchBridge.create({ bridgeUrl: "https://b.example", '
        'fetchSession: async () => ({ token: "t", expires_at: "x" }) });\n'
        "void b.connect({ sourceId: 1 });\n"
        'b.on("connected", (e) => e.source.no_such_field);\n',
        encoding="utf-8",
    )
    result = check(tsc, wrong)
    assert result.returncode != 0
    assert "'type' is missing" in result.stdout or "sourceId" in result.stdout
    assert "no_such_field" in result.stdout
