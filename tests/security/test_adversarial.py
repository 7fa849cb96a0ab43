"""Hostile input: each attack gets its exact error code, and nothing changes anywhere."""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from itsdangerous import URLSafeSerializer

from bridge.tokens import SESSION_SALT, STEP_SALT
from tests.bridge.conftest import APP_ORIGIN, Stack


def snapshot(stack: Stack) -> dict[str, Any]:
    """Everything an attack could change: Stitch's sources and the bridge's rows."""
    with sqlite3.connect(stack.database) as db:
        counts = {
            table: db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("sources", "creation_intents", "used_tokens", "events")
        }
        sources = db.execute("SELECT id, end_user_id, display_name, status FROM sources").fetchall()
    return {"stitch": stack.emulator_sources(), "counts": counts, "sources": sources}


@pytest.fixture
def victim(stack: Stack) -> dict[str, Any]:
    widget = stack.widget(end_user="victim")
    created = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()
    return {"widget": widget, "source": created["source"], "step": created["next_step"]}


def _bearer(stack: Stack, token: str, origin: str = APP_ORIGIN) -> httpx.Client:
    return stack._client({"Authorization": f"Bearer {token}", "Origin": origin})


def test_a_session_forged_with_another_key_changes_nothing(
    stack: Stack, victim: dict[str, Any]
) -> None:
    before = snapshot(stack)
    forged = URLSafeSerializer("attacker key " * 4, salt=SESSION_SALT).dumps(
        {
            "sid": "cs_x",
            "ten": None,
            "uid": "victim",
            "typ": None,
            "src": None,
            "exp": 4_000_000_000,
        }
    )
    attacker = _bearer(stack, forged)
    for method, path, body in [
        ("GET", f"/v1/sources/{victim['source']['id']}", None),
        ("POST", "/v1/sources", {"type": "platform.recurly"}),
        ("PUT", f"/v1/sources/{victim['source']['id']}", {"display_name": "pwned"}),
    ]:
        response = attacker.request(method, path, json=body)
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    assert snapshot(stack) == before


def test_a_step_token_forged_with_another_key_is_token_invalid(
    stack: Stack, victim: dict[str, Any]
) -> None:
    before = snapshot(stack)
    forged = URLSafeSerializer("attacker key " * 4, salt=STEP_SALT).dumps(
        {
            "jti": "st_x",
            "sid": "cs",
            "ten": None,
            "uid": "victim",
            "src": victim["source"]["id"],
            "stp": "form",
            "exp": 4_000_000_000,
        }
    )
    response = victim["widget"].post("/v1/steps/complete", json={"token": forged})
    assert response.json()["error"]["code"] == "token_invalid"
    assert snapshot(stack) == before


def test_cross_purpose_tokens_are_refused(stack: Stack, victim: dict[str, Any]) -> None:
    session_token = victim["widget"].headers["authorization"].split()[1]
    step_token = victim["step"]["token"]
    before = snapshot(stack)
    assert (
        victim["widget"]
        .post("/v1/steps/start", json={"token": session_token})
        .json()["error"]["code"]
        == "token_invalid"
    )
    assert _bearer(stack, step_token).get("/v1/session").json()["error"]["code"] == "unauthorized"
    verify = stack.backend().post("/v1/receipts/verify", json={"receipt": step_token})
    assert verify.json()["error"]["code"] == "receipt_invalid"
    assert snapshot(stack) == before


@pytest.mark.parametrize("phase", ["start", "complete"])
def test_concurrent_replays_of_one_step_token_succeed_exactly_once(
    stack: Stack, victim: dict[str, Any], phase: str
) -> None:
    token = victim["step"]["token"]
    barrier = threading.Barrier(8)

    def use(_: int) -> int:
        with stack.http(dict(victim["widget"].headers)) as c:
            barrier.wait()
            return c.post(f"/v1/steps/{phase}", json={"token": token}).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(use, range(8)))
    assert sorted(statuses) == [200] + [409] * 7


def test_a_token_one_second_past_expiry_is_expired_and_one_second_before_is_not(
    stack: Stack,
) -> None:
    widget = stack.widget(ttl=3600)
    created = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()
    step = created["next_step"]
    lifetime = stack.settings.step_ttl
    stack.clock.advance(lifetime - 2)
    assert widget.post("/v1/steps/start", json={"token": step["token"]}).status_code == 200
    stack.clock.advance(3)
    response = widget.post("/v1/steps/complete", json={"token": step["token"]})
    assert response.json()["error"]["code"] == "token_expired"


def test_another_tenants_session_cannot_reach_a_source(stack: Stack) -> None:
    owner = stack.widget(end_user="same-id", tenant="tenant-a")
    source_id = owner.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"]["id"]
    before = snapshot(stack)
    other = stack.widget(end_user="same-id", tenant="tenant-b")
    response = other.get(f"/v1/sources/{source_id}")
    assert response.json()["error"]["code"] == "source_not_found"
    listed = stack.backend().get("/v1/end-users/same-id/sources", params={"tenant": "tenant-b"})
    assert listed.json()["data"] == []
    assert snapshot(stack) == before


@pytest.mark.parametrize(
    "origin", ["https://evil.example", "http://app.test.evil.example", "http://app.test:81", "null"]
)
def test_spoofed_origins_are_refused(stack: Stack, origin: str) -> None:
    before = snapshot(stack)
    response = _bearer(stack, stack.mint(), origin=origin).post(
        "/v1/sources", json={"type": "platform.recurly"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "origin_not_allowed"
    assert snapshot(stack) == before


@pytest.mark.parametrize(
    "key", ["x" * 256, "tab\tkey", "café".encode()], ids=["too-long", "control", "non-ascii"]
)
def test_hostile_idempotency_keys_are_invalid_request(stack: Stack, key: str | bytes) -> None:
    before = snapshot(stack)
    response = stack.widget().post(
        "/v1/sources", json={"type": "platform.recurly"}, headers={"Idempotency-Key": key}
    )
    assert response.status_code == 422
    assert "Idempotency-Key" in response.json()["error"]["details"]["fields"]
    assert snapshot(stack) == before


def test_header_injection_attempts_never_reach_a_response_header(stack: Stack) -> None:
    # httpx refuses raw CR/LF, so send them percent- and unicode-disguised as clients might.
    for value in [b"a%0d%0aSet-Cookie:%20x=1", "a\u2028Set-Cookie: x=1".encode()]:
        response = stack.http().get("/healthz", headers={"X-Request-ID": value})
        assert "set-cookie" not in response.headers
        assert response.headers["x-request-id"].startswith("req_")


def test_a_session_that_floods_is_slowed_down(stack: Stack) -> None:
    widget = stack.widget()
    statuses = [widget.get("/v1/session").status_code for _ in range(70)]
    assert statuses[:60] == [200] * 60  # a burst a real widget never reaches
    refused = [s for s in statuses if s != 200]
    assert refused and set(refused) == {503}
    response = widget.get("/v1/session")
    assert response.json()["error"]["code"] == "upstream_rate_limited"
    assert int(response.headers["retry-after"]) >= 1
    # Another end user's session is not affected, and the flooder recovers after a pause.
    assert stack.widget(end_user="someone-else").get("/v1/session").status_code == 200
    stack.clock.advance(2)
    assert widget.get("/v1/session").status_code == 200


def test_a_locked_database_is_a_clear_retryable_error_and_nothing_is_lost(
    live_stack: Stack, tmp_path: Any
) -> None:
    stack = live_stack  # a second bridge process on the same database, beside the stack's
    from bridge import create_app
    from tests.bridge.conftest import make_settings
    from tests.live import free_port, serve

    port = free_port()
    settings = make_settings(
        stack.emulator_url,
        port,
        stack.database,
        database_url=f"sqlite+aiosqlite:///{stack.database}?timeout=0.5",
    )
    with serve(create_app(settings), port=port) as bridge:
        token = stack.mint(end_user="locked-out")
        headers = {
            "Authorization": f"Bearer {token}",
            "Origin": APP_ORIGIN,
            "Idempotency-Key": "k1",
        }
        blocker = sqlite3.connect(stack.database, timeout=5)
        blocker.execute("BEGIN EXCLUSIVE")
        try:
            response = httpx.post(
                f"{bridge.url}/v1/sources",
                json={"type": "platform.recurly"},
                headers=headers,
                timeout=30,
            )
        finally:
            blocker.rollback()
            blocker.close()
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "upstream_unavailable"
        assert response.headers["retry-after"]
        assert [s for s in stack.emulator_sources()] == []
        retried = httpx.post(
            f"{bridge.url}/v1/sources",
            json={"type": "platform.recurly"},
            headers=headers,
            timeout=30,
        )
        assert retried.status_code == 201, retried.text
        again = httpx.post(
            f"{bridge.url}/v1/sources",
            json={"type": "platform.recurly"},
            headers=headers,
            timeout=30,
        )
        assert again.status_code == 200
        assert again.json()["source"]["id"] == retried.json()["source"]["id"]
        assert len(stack.emulator_sources()) == 1
