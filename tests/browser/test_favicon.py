"""The demo site has an icon: no page of it makes the browser log a 404 for /favicon.ico."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin

import httpx
import pytest

from tests.browser.conftest import Demo


@pytest.mark.parametrize("path", ["/?user=alice", "/events?user=alice"])
def test_every_page_names_an_icon_that_is_served(stacks: Any, path: str) -> None:
    stack = stacks("native")
    page = httpx.get(f"{stack.demo_url}{path}", timeout=10)
    assert page.status_code == 200, page.text
    link = re.search(r'<link rel="icon" href="([^"]+)"', page.text)
    assert link is not None, "the page names no icon, so the browser asks for /favicon.ico"
    icon = httpx.get(urljoin(page.url.__str__(), link.group(1)), timeout=10)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/")


def test_favicon_ico_is_served_for_pages_that_name_no_icon(stacks: Any) -> None:
    icon = httpx.get(f"{stacks('native').demo_url}/favicon.ico", timeout=10)
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/")


@pytest.mark.browser
def test_the_demo_page_loads_without_a_failed_request_or_console_error(
    stacks: Any, demo_for: Any, user: str
) -> None:
    demo: Demo = demo_for(stacks("native"))
    failures: list[str] = []
    page = demo.new_page()
    page.on("console", lambda m: failures.append(m.text) if m.type == "error" else None)
    page.on(
        "response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None
    )
    page.goto(f"{demo.stack.demo_url}/?user={user}")
    demo.wait_ready(page)
    icon = page.evaluate(
        "() => fetch(document.querySelector('link[rel=icon]').href).then(r => r.status)"
    )
    assert icon == 200
    assert failures == []
