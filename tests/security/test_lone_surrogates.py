"""Lone UTF-16 surrogates (`"\\ud800"` in JSON text) are refused at the JSON boundary: a 400
`invalid_request` naming the field, and nothing written, on every route that takes a JSON body."""

from __future__ import annotations

import copy
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.bridge.conftest import APP_ORIGIN, RECURLY_PROPERTIES
from tests.bridge.partner_stack import OWNER, PartnerStack, partner_stack

TENANT = "acme"
SESSION = {
    "end_user": {"id": "user-1", "name": "Ada", "email": "ada@example.com"},
    "tenant": TENANT,
    "source_types": ["platform.recurly", "platform.hubspot"],
}
# Every route with a JSON body: who calls it, and a body whose every string is a place to hide
# a surrogate (the route would otherwise accept it or fail later for an unrelated reason).
ROUTES: dict[str, tuple[str, str, str, dict[str, Any]]] = {
    "mint": ("backend", "POST", "/v1/connect-sessions", SESSION),
    "link": (
        "backend",
        "POST",
        "/v1/connect-links",
        {**SESSION, "return_url": f"{APP_ORIGIN}/done"},
    ),
    "create": (
        "widget",
        "POST",
        "/v1/sources",
        {"type": "platform.recurly", "display_name": "Recurly", "properties": RECURLY_PROPERTIES},
    ),
    "update": (
        "widget",
        "PUT",
        "/v1/sources/1",
        {"display_name": "Recurly", "properties": RECURLY_PROPERTIES},
    ),
    "streams": (
        "widget",
        "PUT",
        "/v1/sources/1/streams",
        {"streams": [{"tap_stream_id": "accounts", "selected": True, "fields": ["id"]}]},
    ),
    "start": ("widget", "POST", "/v1/steps/start", {"token": "t", "return_url": APP_ORIGIN}),
    "complete": ("widget", "POST", "/v1/steps/complete", {"token": "t", "outcome": "completed"}),
    "resume": ("widget", "POST", "/v1/resume", {"resume_id": "r"}),
    "verify": ("backend", "POST", "/v1/receipts/verify", {"receipt": "r"}),
    "tenant": (
        "backend",
        "POST",
        "/v1/tenants",
        {"id": "other", "email": "o@example.com", "region": "us-east-1", **OWNER},
    ),
    "authorize": (
        "backend",
        "POST",
        f"/v1/tenants/{TENANT}/authorize-url",
        {"email": "o@example.com", **OWNER},
    ),
}


def string_places(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The path of every string value in a JSON body (dict keys and list indexes)."""
    if isinstance(value, str):
        yield path
    elif isinstance(value, dict):
        for key, child in value.items():
            yield from string_places(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from string_places(child, (*path, index))


def json_path(path: tuple[Any, ...]) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


PLACES = [(name, place) for name, route in ROUTES.items() for place in string_places(route[3])]


@pytest.fixture(scope="module")
def partner(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[PartnerStack, str]]:
    with partner_stack(tmp_path_factory.mktemp("surrogates")) as stack:
        stack.create_tenant(TENANT)
        # The tenant's Stitch account is linked on creation in the emulator; mint a session and
        # use it once, so recording the session is not mistaken for a write of the tested call.
        minted = stack.backend().post("/v1/connect-sessions", json=SESSION)
        assert minted.status_code == 201, minted.text
        token = minted.json()["token"]
        widget = stack.widget(token)
        assert widget.get("/v1/session").status_code == 200
        yield stack, token


def written(stack: PartnerStack) -> tuple[list[str], Any, Any]:
    """Everything the bridge and Stitch hold: the database's rows, Stitch's sources and accounts."""
    with sqlite3.connect(Path(stack.database)) as db:
        rows = list(db.iterdump())
    state = stack.state()
    return rows, state["sources"], state["accounts"]


def put_surrogate(body: Any, path: tuple[Any, ...], char: str, in_key: bool, at: int) -> str:
    """Insert `char` into the string at `path` (or into its key) and return the expected field."""
    *parents, last = path
    holder = body
    for part in parents:
        holder = holder[part]
    if in_key and isinstance(last, str):
        key = last[:at] + char + last[at:]
        holder[key] = holder.pop(last)
        escaped = key.encode("utf-8", "backslashreplace").decode()
        return json_path((*parents, escaped))
    holder[last] = holder[last][:at] + char + holder[last][at:]
    return json_path(path)


@pytest.mark.parametrize(("route", "place"), PLACES, ids=[f"{r}:{json_path(p)}" for r, p in PLACES])
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    code_point=st.integers(0xD800, 0xDFFF),
    in_key=st.booleans(),
    at=st.integers(0, 3),
)
def test_a_lone_surrogate_anywhere_is_refused_and_writes_nothing(
    partner: tuple[PartnerStack, str],
    route: str,
    place: tuple[Any, ...],
    code_point: int,
    in_key: bool,
    at: int,
) -> None:
    stack, token = partner
    caller, method, url, base = ROUTES[route]
    body = copy.deepcopy(base)
    field = put_surrogate(body, place, chr(code_point), in_key, at)
    # ensure_ascii writes the surrogate as the `\\udXXX` escape a JSON client would send.
    content = json.dumps(body, ensure_ascii=True).encode()
    client = stack.backend() if caller == "backend" else stack.widget(token)
    stack.clock.advance(0.2)  # the session's request budget refills on the bridge's clock
    before = written(stack)
    response = client.request(
        method, url, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert list(error["details"]["fields"]) == [field]
    assert written(stack) == before


def test_a_surrogate_pair_is_ordinary_text(partner: tuple[PartnerStack, str]) -> None:
    """An emoji escaped as its surrogate pair is valid Unicode and is accepted."""
    stack, token = partner
    body = json.dumps({"resume_id": "\U0001f600"}, ensure_ascii=True)
    assert "\\ud83d\\ude00" in body
    answer = stack.widget(token).post(
        "/v1/resume", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code != 400 or "surrogate" not in answer.text
    assert answer.status_code < 500


def test_raw_utf8_bytes_of_a_surrogate_are_refused_too(partner: tuple[PartnerStack, str]) -> None:
    stack, token = partner
    body = b'{"display_name": "R\xed\xa0\x80", "type": "platform.recurly"}'
    before = written(stack)
    answer = stack.widget(token).post(
        "/v1/sources", content=body, headers={"Content-Type": "application/json"}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["details"]["fields"] == {
        "display_name": "must be valid Unicode text"
    }
    assert written(stack) == before
