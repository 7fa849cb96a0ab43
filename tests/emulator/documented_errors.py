"""Running the vendor's documented errors (`response-codes/*.yml`) against the emulator.

Test modules register one trigger per documented condition; `cases` turns the YAML entries of
their resources into test cases and `check` asserts the documented status and body.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from stitch_emulator import EmulatorBackend

from .conftest import AppClient
from .docs_data import assert_same_body, error_entries

Trigger = Callable[[AppClient, EmulatorBackend], list[httpx.Response]]
Triggers = dict[tuple[str, str], Trigger]
# The v3 destinations API is not emulated (README); its entry is left out on purpose.
NOT_EMULATED = {("destinations", "Missing or prohibited arguments", "3")}


def registry() -> tuple[Triggers, Callable[[str, str], Callable[[Trigger], Trigger]]]:
    triggers: Triggers = {}

    def trigger(resource: str, condition: str) -> Callable[[Trigger], Trigger]:
        def register(function: Trigger) -> Trigger:
            triggers[(resource, condition)] = function
            return function

        return register

    return triggers, trigger


def cases(resources: tuple[str, ...], triggers: Triggers) -> list[Any]:
    """One case per documented entry; a condition listed twice is keyed by its method too."""
    found = []
    for resource in resources:
        seen: set[str] = set()
        for entry in error_entries(f"response-codes/{resource}.yml"):
            condition = entry["condition"]
            if (resource, condition, entry["version"]) in NOT_EMULATED:
                continue
            key = condition
            if key in seen or (resource, condition) not in triggers:
                key = f"{condition} ({entry['method'].upper()})"
            seen.add(key)
            found.append(pytest.param(resource, key, entry, id=f"{resource}: {key}"[:90]))
    return found


def check(
    triggers: Triggers,
    stitch: AppClient,
    backend: EmulatorBackend,
    resource: str,
    key: str,
    entry: dict[str, Any],
) -> None:
    assert (resource, key) in triggers, f"no trigger for {resource}: {key}"
    for answer in triggers[(resource, key)](stitch, backend):
        assert answer.status_code == entry["status"], (answer.request.url, answer.text)
        if entry["status"] == 404 or entry["body"] is None:
            continue  # the docs give prose, or nothing, for these bodies
        assert_same_body(answer.json(), entry["body"])
