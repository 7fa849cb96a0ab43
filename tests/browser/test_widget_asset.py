"""A real browser loads the widget by its immutable URL: the integrity check passes (CORS and
the SRI value are right) and the minified, compressed widget runs."""

from __future__ import annotations

import re
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_the_demo_page_loads_the_widget_by_its_versioned_url_with_integrity(
    stacks: Any, demo_for: Any, user: str
) -> None:
    stack = stacks("native")
    page = demo_for(stack).open(user)  # ready: the page's widget was created

    tag = page.locator("script[integrity]")
    src, integrity = tag.get_attribute("src"), tag.get_attribute("integrity")
    assert re.fullmatch(rf"{re.escape(stack.bridge_url)}/widget\.[0-9a-f]{{12}}\.js", src)
    assert tag.get_attribute("crossorigin") == "anonymous"
    printed = subprocess.run(
        [sys.executable, "-m", "bridge", "widget-integrity", "--bridge-url", stack.bridge_url],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert f'<script src="{src}" integrity="{integrity}" crossorigin="anonymous">' in printed
    assert page.evaluate("typeof window.StitchBridge.create") == "function"

    # The check is real: the same file under another integrity value is refused by the browser.
    outcome = page.evaluate(
        """([src]) => new Promise((resolve) => {
            const tag = document.createElement("script");
            tag.src = src;
            tag.crossOrigin = "anonymous";
            tag.integrity = "sha384-" + "A".repeat(64);
            tag.onload = () => resolve("loaded");
            tag.onerror = () => resolve("refused");
            document.head.append(tag);
        })""",
        [src],
    )
    assert outcome == "refused"
