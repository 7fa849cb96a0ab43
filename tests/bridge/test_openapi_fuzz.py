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


def test_no_generated_request_gets_a_500_or_an_undocumented_answer(fuzz_stack: Stack) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_stack.bridge_url}/openapi.json")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 16
    # One connection for every case (its cookies dropped before each, so no case sees another's).
    session = requests.Session()
    for operation in operations:

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
    session.close()
