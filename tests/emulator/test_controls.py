"""The `/_emulator/` controls: faults, clock, request log, state, scripted checks, config, reset."""

from __future__ import annotations

import time

import httpx

from stitch_emulator import EmulatorBackend

from .conftest import TOKEN
from .factories import HUBSPOT, RECURLY, create, fully_configured


async def test_fault_answers_with_status_body_and_retry_after_count_times(
    api: httpx.AsyncClient,
) -> None:
    fault = {"method": "POST", "path": "/v4/sources", "status": 503, "count": 2, "retry_after": 7}
    assert (await api.post("/_emulator/faults", json=fault)).status_code == 200
    for _ in range(2):
        answer = await api.post("/v4/sources", json=RECURLY)
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "7"
        assert answer.json() == {
            "error": "ServiceUnavailable",
            "data": {"message": "fault injected by the Stitch emulator"},
        }
    assert (await api.post("/v4/sources", json=RECURLY)).status_code == 200
    assert len((await api.get("/v4/sources")).json()) == 1
    log = (await api.get("/_emulator/requests")).json()["requests"]
    assert [(r["status"], r["body"]) for r in log[:3]] == [
        (503, RECURLY),
        (503, RECURLY),
        (200, RECURLY),
    ]


async def test_fault_matches_method_and_one_segment_wildcards(api: httpx.AsyncClient) -> None:
    await api.post(
        "/_emulator/faults",
        json={"method": "GET", "path": "/v4/sources/*", "status": 502, "count": None},
    )
    source = await create(api, RECURLY)
    assert (await api.get(f"/v4/sources/{source['id']}")).status_code == 502
    assert (await api.get(f"/v4/sources/{source['id']}")).status_code == 502
    assert (await api.get("/v4/sources")).status_code == 200
    assert (await api.get(f"/v4/sources/{source['id']}/streams")).status_code == 200
    assert (await api.put(f"/v4/sources/{source['id']}", json={})).status_code == 200
    assert (await api.delete("/_emulator/faults")).json() == {"faults": []}
    assert (await api.get(f"/v4/sources/{source['id']}")).status_code == 200


async def test_fault_body_is_sent_verbatim(api: httpx.AsyncClient) -> None:
    page = "<html><body>Bad gateway</body></html>"
    await api.post("/_emulator/faults", json={"path": "/v4/sources", "status": 502, "body": page})
    answer = await api.get("/v4/sources")
    assert answer.status_code == 502 and answer.text == page
    assert answer.headers["content-type"].startswith("text/html")


async def test_after_fault_performs_the_operation_then_fails(api: httpx.AsyncClient) -> None:
    await api.post(
        "/_emulator/faults",
        json={"method": "POST", "path": "/v4/sources", "status": 504, "after": True},
    )
    lost = await api.post("/v4/sources", json=RECURLY)
    assert lost.status_code == 504
    created = (await api.get("/v4/sources")).json()
    assert [s["name"] for s in created] == ["recurly"]


async def test_null_status_only_delays(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/faults", json={"path": "/v4/sources", "status": None, "delay": 0.2})
    started = time.monotonic()
    answer = await api.get("/v4/sources")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    await api.get("/v4/sources")
    assert time.monotonic() - started < 0.2


async def test_faults_apply_to_every_route_but_never_to_the_controls(
    api: httpx.AsyncClient,
) -> None:
    await api.post("/_emulator/faults", json={"path": "/oauth/token", "status": 500})
    await api.post("/_emulator/faults", json={"path": "/_emulator/state", "status": 500})
    assert (
        await api.post("/oauth/token", data={"grant_type": "authorization_code"})
    ).status_code == 500
    assert (await api.get("/_emulator/state")).status_code == 200


async def test_bad_fault_specs_are_refused(api: httpx.AsyncClient) -> None:
    for spec in (
        {},
        {"path": "v4"},
        {"path": "/v4", "status": 99},
        {"path": "/v4", "count": 0},
        {"path": "/x", "colour": 1},
    ):
        answer = await api.post("/_emulator/faults", json=spec)
        assert answer.status_code == 400, spec
    assert (await api.get("/_emulator/faults")).json() == {"faults": []}


async def test_request_log_records_requests_without_full_tokens(api: httpx.AsyncClient) -> None:
    await api.post("/v4/sources", json=RECURLY, headers={"Idempotency-Key": "k1"})
    await api.get("/v4/sources/999")
    await api.get("/_emulator/state")
    log = (await api.get("/_emulator/requests")).json()["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v4/sources", 200),
        ("GET", "/v4/sources/999", 404),
    ]
    assert log[0]["body"] == RECURLY and log[0]["idempotency_key"] == "k1"
    assert TOKEN not in str(log) and log[0]["authorization"].startswith("Bearer ac_tes")
    assert log[0]["time"].endswith("Z")
    await api.delete("/_emulator/requests")
    assert (await api.get("/_emulator/requests")).json() == {"requests": []}


async def test_state_lists_accounts_and_sources_as_the_api_renders_them(
    api: httpx.AsyncClient, account_id: int
) -> None:
    source = await create(api, RECURLY)
    state = (await api.get("/_emulator/state")).json()
    assert state["accounts"][0]["id"] == account_id
    assert state["accounts"][0]["access_token"] == TOKEN
    assert state["sources"] == [source]
    assert state["sources"][0]["stitch_client_id"] == account_id
    assert state["connection_checks"][0]["source_id"] == source["id"]


async def test_clock_control_finishes_checks(api: httpx.AsyncClient) -> None:
    source = await create(api, RECURLY)
    before = (await api.get("/_emulator/clock")).json()["now"]
    moved = (await api.post("/_emulator/clock", json={"advance": 2})).json()
    assert moved["now"] > before and moved["frozen"] is True
    found = (await api.get(f"/v4/sources/{source['id']}")).json()
    assert found["report_card"]["current_step_type"] == "field_selection"
    assert (await api.post("/_emulator/clock", json={"advance": -1})).status_code == 400


async def test_scripted_failure_for_one_source_only(api: httpx.AsyncClient) -> None:
    first = await create(api, RECURLY)
    second = await create(api, {**RECURLY, "display_name": "Recurly EU"})
    await api.post(
        "/_emulator/checks",
        json={"outcome": "failure", "discovery_error_message": "nope", "source_id": second["id"]},
    )
    await api.post("/_emulator/clock", json={"advance": 2})
    one = (await api.get(f"/v4/sources/{first['id']}/last-connection-check")).json()
    two = (await api.get(f"/v4/sources/{second['id']}/last-connection-check")).json()
    assert (one["status"], two["status"], two["discovery_error_message"]) == (
        "succeeded",
        "failed",
        "nope",
    )
    assert (await api.get("/_emulator/state")).json()["check_scripts"] == []


async def test_scripts_without_count_fail_every_check_until_cleared(api: httpx.AsyncClient) -> None:
    await api.post("/_emulator/checks", json={"outcome": "failure", "count": None})
    source = await create(api, RECURLY)
    await api.post("/_emulator/clock", json={"advance": 2})
    await api.put(f"/v4/sources/{source['id']}", json={"properties": {"quota_limit": "40"}})
    await api.post("/_emulator/clock", json={"advance": 2})
    assert (await api.get(f"/v4/sources/{source['id']}/last-connection-check")).json()[
        "status"
    ] == "failed"
    await api.delete("/_emulator/checks")
    await api.put(f"/v4/sources/{source['id']}", json={"properties": {"quota_limit": "50"}})
    await api.post("/_emulator/clock", json={"advance": 2})
    assert (await api.get(f"/v4/sources/{source['id']}/last-connection-check")).json()[
        "status"
    ] == "succeeded"


async def test_authorize_control_finishes_stitch_managed_oauth(api: httpx.AsyncClient) -> None:
    source = await create(api, HUBSPOT)
    done = await api.post(f"/_emulator/sources/{source['id']}/authorize")
    assert done.status_code == 200
    assert done.json()["report_card"]["current_step_type"] == "discover_schema"
    assert (await api.post("/_emulator/sources/999999/authorize")).status_code == 404
    recurly = await create(api, RECURLY)
    assert (await api.post(f"/_emulator/sources/{recurly['id']}/authorize")).status_code == 400


async def test_config_switches_hints_and_redirect_uris_at_run_time(api: httpx.AsyncClient) -> None:
    shown = (
        await api.post(
            "/_emulator/config",
            json={"current_step_hints": False, "partner_redirect_uris": ["https://x.example/cb"]},
        )
    ).json()
    assert shown["current_step_hints"] is False and shown["partner_redirect_uris"] == [
        "https://x.example/cb"
    ]
    source = await create(api, HUBSPOT)
    assert "current_step_hints" not in source["report_card"]
    assert (await api.post("/_emulator/config", json={"token": "x"})).status_code == 400
    assert (await api.post("/_emulator/config", json={"rate_limit_jobs": "yes"})).status_code == 400


async def test_jobs_rate_limit_when_switched_on(api: httpx.AsyncClient, account_id: int) -> None:
    for _ in range(31):
        assert (await api.get(f"/v4/{account_id}/loads")).status_code == 200
    await api.post("/_emulator/config", json={"rate_limit_jobs": True})
    for index in range(30):
        path = f"/v4/{account_id}/loads" if index % 2 else f"/v4/{account_id}/extractions"
        assert (await api.get(path)).status_code == 200
    limited = await api.get(f"/v4/{account_id}/extractions")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) == 600
    assert (await api.get("/v4/sources")).status_code == 200
    await api.post("/_emulator/clock", json={"advance": 600})
    assert (await api.get(f"/v4/{account_id}/loads")).status_code == 200


async def test_reset_forgets_everything_but_keeps_the_token_and_ids_growing(
    api: httpx.AsyncClient, backend: EmulatorBackend, account_id: int
) -> None:
    first = await create(api, RECURLY)
    await api.post("/_emulator/faults", json={"path": "/nowhere"})
    await api.post("/_emulator/config", json={"current_step_hints": False})
    assert (await api.post("/_emulator/reset")).status_code == 200
    assert (await api.get("/_emulator/requests")).json() == {"requests": []}
    assert (await api.get("/v4/sources")).json() == []
    assert (await api.get("/_emulator/faults")).json() == {"faults": []}
    again = await create(api, RECURLY)
    assert again["id"] > first["id"] and again["stitch_client_id"] == account_id
    assert "current_step_hints" in again["report_card"]


async def test_accounts_control_makes_a_second_account(
    api: httpx.AsyncClient, backend: EmulatorBackend
) -> None:
    made = (await api.post("/_emulator/accounts", json={"email": "second@example.com"})).json()
    fully_configured(backend, backend.default_account.id)
    theirs = await api.get(
        "/v4/sources", headers={"Authorization": f"Bearer {made['access_token']}"}
    )
    assert theirs.json() == []
    assert made["id"] != backend.default_account.id
