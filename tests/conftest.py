"""Fixtures shared by every test package: output directory and headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
# The vendor's documented examples, kept in the repository (tests/data/README.md).
TEST_DATA = ROOT / "tests" / "data"
STITCH_DOCS_DATA = TEST_DATA / "stitch-docs-data"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """Where tests leave artefacts a person may want to look at (screenshots)."""
    path = ROOT / "test-output"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    """A headless Chromium driven by Playwright; skipped locally without Chromium, never in CI."""
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        if os.environ.get("CI") == "true":
            pytest.fail(f"Chromium is required in CI but {CHROMIUM} is missing")
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # Assertions wait as long as actions do (15 s, the contexts' default): the suite runs its
    # tests side by side on two cores, where a page may take seconds to reach a state.
    expect.set_options(timeout=15_000)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_context(chromium: Any) -> Iterator[Any]:
    """A fresh browser profile per test (own cookies, storage and popups)."""
    context = chromium.new_context()
    try:
        yield context
    finally:
        context.close()


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Files with browser tests last, whole (`make test` hands a file to one worker at a time):
    Playwright's sync API leaves an event loop marked running in its process's main thread,
    which would break every asyncio test that came after it there."""
    browser_files = {item.path for item in items if item.get_closest_marker("browser")}
    # Among them, files with more tests first: a browser test takes seconds, so the longest
    # files start early and the short ones fill the workers' last minutes.
    per_file = Counter(item.path for item in items)
    items.sort(
        key=lambda item: (
            item.path in browser_files,
            -per_file[item.path] * (item.path in browser_files),
        )
    )
