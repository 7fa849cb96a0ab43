"""Schemathesis against /openapi.json: generated requests never get a 500, and every response
matches the schema the bridge publishes for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from bridge.api.openapi import build_openapi
from stitch_emulator import EmulatorConfig
from tests.bridge.conftest import API_KEY, APP_ORIGIN, STITCH_TOKEN, Stack, running_stack

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    with running_stack(directory, {}, EmulatorConfig(token=STITCH_TOKEN, check_delay=0)) as stack:
        yield stack


def _headers(case: schemathesis.Case, stack: Stack) -> dict[str, str]:
    security = case.operation.definition.raw.get("security") or []
    headers = {"Origin": APP_ORIGIN}
    if security and "apiKey" in security[0]:
        headers["Authorization"] = f"Bearer {API_KEY}"
    elif security:
        # A fresh session per case keeps the per-session rate limit out of the way.
        headers["Authorization"] = f"Bearer {stack.mint(end_user='fuzzer')}"
    return headers


def _operations() -> list[tuple[str, str]]:
    """Every documented operation, as (path, method): one test each, so that a failure names
    its operation."""
    spec = schemathesis.openapi.from_dict(build_openapi("http://bridge.invalid"))
    return [(op.path, op.method) for op in (result.ok() for result in spec.get_all_operations())]


OPERATIONS = _operations()


def test_the_fuzzed_operations_are_the_served_ones(fuzz_stack: Stack) -> None:
    served = schemathesis.openapi.from_url(f"{fuzz_stack.bridge_url}/openapi.json")
    labels = {result.ok().label for result in served.get_all_operations()}
    assert labels == {f"{method.upper()} {path}" for path, method in OPERATIONS}
    assert len(labels) >= 16


@pytest.mark.parametrize(
    ("path", "method"), OPERATIONS, ids=[f"{m.upper()} {p}" for p, m in OPERATIONS]
)
def test_no_generated_request_gets_a_500_or_an_undocumented_answer(
    fuzz_stack: Stack, path: str, method: str
) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_stack.bridge_url}/openapi.json")
    operation = schema[path][method]
    # One connection for every case (its cookies dropped before each, so no case sees another's).
    with requests.Session() as session:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(case: schemathesis.Case) -> None:
            session.cookies.clear()
            case.call_and_validate(
                base_url=fuzz_stack.bridge_url,
                session=session,
                headers=_headers(case, fuzz_stack),
                checks=CHECKS,
            )

        fuzz()
