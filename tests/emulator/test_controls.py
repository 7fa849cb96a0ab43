"""The `/_emulator/` controls: faults, clock, request log, state, scripted checks, config, reset."""

from __future__ import annotations

import time

from stitch_emulator import EmulatorBackend

from .conftest import TOKEN, AppClient
from .factories import HUBSPOT, RECURLY, create, fully_configured


def test_fault_answers_with_status_body_and_retry_after_count_times(
    stitch: AppClient,
) -> None:
    fault = {"method": "POST", "path": "/v4/sources", "status": 503, "count": 2, "retry_after": 7}
    assert stitch.post("/_emulator/faults", json=fault).status_code == 200
    for _ in range(2):
        answer = stitch.post("/v4/sources", json=RECURLY)
        assert answer.status_code == 503
        assert answer.headers["retry-after"] == "7"
        assert answer.json() == {
            "error": "ServiceUnavailable",
            "data": {"message": "fault injected by the Stitch emulator"},
        }
    assert stitch.post("/v4/sources", json=RECURLY).status_code == 200
    assert len(stitch.get("/v4/sources").json()) == 1
    log = stitch.get("/_emulator/requests").json()["requests"]
    assert [(r["status"], r["body"]) for r in log[:3]] == [
        (503, RECURLY),
        (503, RECURLY),
        (200, RECURLY),
    ]


def test_fault_matches_method_and_one_segment_wildcards(stitch: AppClient) -> None:
    stitch.post(
        "/_emulator/faults",
        json={"method": "GET", "path": "/v4/sources/*", "status": 502, "count": None},
    )
    source = create(stitch, RECURLY)
    assert stitch.get(f"/v4/sources/{source['id']}").status_code == 502
    assert stitch.get(f"/v4/sources/{source['id']}").status_code == 502
    assert stitch.get("/v4/sources").status_code == 200
    assert stitch.get(f"/v4/sources/{source['id']}/streams").status_code == 200
    assert stitch.put(f"/v4/sources/{source['id']}", json={}).status_code == 200
    assert stitch.delete("/_emulator/faults").json() == {"faults": []}
    assert stitch.get(f"/v4/sources/{source['id']}").status_code == 200


def test_fault_body_is_sent_verbatim(stitch: AppClient) -> None:
    page = "<html><body>Bad gateway</body></html>"
    stitch.post("/_emulator/faults", json={"path": "/v4/sources", "status": 502, "body": page})
    answer = stitch.get("/v4/sources")
    assert answer.status_code == 502 and answer.text == page
    assert answer.headers["content-type"].startswith("text/html")


def test_after_fault_performs_the_operation_then_fails(stitch: AppClient) -> None:
    stitch.post(
        "/_emulator/faults",
        json={"method": "POST", "path": "/v4/sources", "status": 504, "after": True},
    )
    lost = stitch.post("/v4/sources", json=RECURLY)
    assert lost.status_code == 504
    created = stitch.get("/v4/sources").json()
    assert [s["name"] for s in created] == ["recurly"]


def test_null_status_only_delays(stitch: AppClient) -> None:
    stitch.post("/_emulator/faults", json={"path": "/v4/sources", "status": None, "delay": 0.2})
    started = time.monotonic()
    answer = stitch.get("/v4/sources")
    assert answer.status_code == 200
    assert time.monotonic() - started >= 0.2
    started = time.monotonic()
    stitch.get("/v4/sources")
    assert time.monotonic() - started < 0.2


def test_faults_apply_to_every_route_but_never_to_the_controls(
    stitch: AppClient,
) -> None:
    stitch.post("/_emulator/faults", json={"path": "/oauth/token", "status": 500})
    stitch.post("/_emulator/faults", json={"path": "/_emulator/state", "status": 500})
    assert stitch.post("/oauth/token", data={"grant_type": "authorization_code"}).status_code == 500
    assert stitch.get("/_emulator/state").status_code == 200


def test_bad_fault_specs_are_refused(stitch: AppClient) -> None:
    for spec in (
        {},
        {"path": "v4"},
        {"path": "/v4", "status": 99},
        {"path": "/v4", "count": 0},
        {"path": "/x", "colour": 1},
    ):
        answer = stitch.post("/_emulator/faults", json=spec)
        assert answer.status_code == 400, spec
    assert stitch.get("/_emulator/faults").json() == {"faults": []}


def test_request_log_records_requests_without_full_tokens(stitch: AppClient) -> None:
    stitch.post("/v4/sources", json=RECURLY, headers={"Idempotency-Key": "k1"})
    stitch.get("/v4/sources/999")
    stitch.get("/_emulator/state")
    log = stitch.get("/_emulator/requests").json()["requests"]
    assert [(r["method"], r["path"], r["status"]) for r in log] == [
        ("POST", "/v4/sources", 200),
        ("GET", "/v4/sources/999", 404),
    ]
    assert log[0]["body"] == RECURLY and log[0]["idempotency_key"] == "k1"
    assert TOKEN not in str(log) and log[0]["authorization"].startswith("Bearer ac_tes")
    assert log[0]["time"].endswith("Z")
    stitch.delete("/_emulator/requests")
    assert stitch.get("/_emulator/requests").json() == {"requests": []}


def test_a_request_is_logged_at_the_time_it_arrived(stitch: AppClient) -> None:
    # Stitch counts requests (the jobs budget, §8.1) when they arrive; a clock moved while one
    # is being answered must not date it later.
    before = stitch.get("/_emulator/clock").json()  # frozen: only told to move
    stitch.post(
        "/_emulator/faults",
        json={"path": "/v4/sources/999", "status": None, "delay": 0.5},
    )
    slow = stitch.start("GET", "/v4/sources/999")
    time.sleep(0.1)  # it is being answered
    stitch.post("/_emulator/clock", json={"advance": 3600})
    assert slow.result(timeout=10).status_code == 404
    logged = stitch.get("/_emulator/requests").json()["requests"][-1]
    assert logged["path"] == "/v4/sources/999"
    assert logged["time"] == before["now"]


def test_state_lists_accounts_and_sources_as_the_api_renders_them(
    stitch: AppClient, account_id: int
) -> None:
    source = create(stitch, RECURLY)
    state = stitch.get("/_emulator/state").json()
    assert state["accounts"][0]["id"] == account_id
    assert state["accounts"][0]["access_token"] == TOKEN
    assert state["sources"] == [source]
    assert state["sources"][0]["stitch_client_id"] == account_id
    assert state["connection_checks"][0]["source_id"] == source["id"]


def test_clock_control_finishes_checks(stitch: AppClient) -> None:
    source = create(stitch, RECURLY)
    before = stitch.get("/_emulator/clock").json()["now"]
    moved = stitch.post("/_emulator/clock", json={"advance": 2}).json()
    assert moved["now"] > before and moved["frozen"] is True
    found = stitch.get(f"/v4/sources/{source['id']}").json()
    assert found["report_card"]["current_step_type"] == "field_selection"
    assert stitch.post("/_emulator/clock", json={"advance": -1}).status_code == 400


def test_scripted_failure_for_one_source_only(stitch: AppClient) -> None:
    first = create(stitch, RECURLY)
    second = create(stitch, {**RECURLY, "display_name": "Recurly EU"})
    stitch.post(
        "/_emulator/checks",
        json={"outcome": "failure", "discovery_error_message": "nope", "source_id": second["id"]},
    )
    stitch.post("/_emulator/clock", json={"advance": 2})
    one = stitch.get(f"/v4/sources/{first['id']}/last-connection-check").json()
    two = stitch.get(f"/v4/sources/{second['id']}/last-connection-check").json()
    assert (one["status"], two["status"], two["discovery_error_message"]) == (
        "succeeded",
        "failed",
        "nope",
    )
    assert stitch.get("/_emulator/state").json()["check_scripts"] == []


def test_scripts_without_count_fail_every_check_until_cleared(stitch: AppClient) -> None:
    stitch.post("/_emulator/checks", json={"outcome": "failure", "count": None})
    source = create(stitch, RECURLY)
    stitch.post("/_emulator/clock", json={"advance": 2})
    stitch.put(f"/v4/sources/{source['id']}", json={"properties": {"quota_limit": "40"}})
    stitch.post("/_emulator/clock", json={"advance": 2})
    assert (
        stitch.get(f"/v4/sources/{source['id']}/last-connection-check").json()["status"] == "failed"
    )
    stitch.delete("/_emulator/checks")
    stitch.put(f"/v4/sources/{source['id']}", json={"properties": {"quota_limit": "50"}})
    stitch.post("/_emulator/clock", json={"advance": 2})
    assert (
        stitch.get(f"/v4/sources/{source['id']}/last-connection-check").json()["status"]
        == "succeeded"
    )


def test_authorize_control_finishes_stitch_managed_oauth(stitch: AppClient) -> None:
    source = create(stitch, HUBSPOT)
    done = stitch.post(f"/_emulator/sources/{source['id']}/authorize")
    assert done.status_code == 200
    assert done.json()["report_card"]["current_step_type"] == "discover_schema"
    assert stitch.post("/_emulator/sources/999999/authorize").status_code == 404
    recurly = create(stitch, RECURLY)
    assert stitch.post(f"/_emulator/sources/{recurly['id']}/authorize").status_code == 400


def test_config_switches_hints_and_redirect_uris_at_run_time(stitch: AppClient) -> None:
    shown = (
        stitch.post(
            "/_emulator/config",
            json={"current_step_hints": False, "partner_redirect_uris": ["https://x.example/cb"]},
        )
    ).json()
    assert shown["current_step_hints"] is False and shown["partner_redirect_uris"] == [
        "https://x.example/cb"
    ]
    source = create(stitch, HUBSPOT)
    assert "current_step_hints" not in source["report_card"]
    assert stitch.post("/_emulator/config", json={"token": "x"}).status_code == 400
    assert stitch.post("/_emulator/config", json={"rate_limit_jobs": "yes"}).status_code == 400


def test_jobs_rate_limit_when_switched_on(stitch: AppClient, account_id: int) -> None:
    for _ in range(31):
        assert stitch.get(f"/v4/{account_id}/loads").status_code == 200
    stitch.post("/_emulator/config", json={"rate_limit_jobs": True})
    for index in range(30):
        path = f"/v4/{account_id}/loads" if index % 2 else f"/v4/{account_id}/extractions"
        assert stitch.get(path).status_code == 200
    limited = stitch.get(f"/v4/{account_id}/extractions")
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) == 600
    assert limited.json() == {
        "error": "TooManyRequests",
        "data": {"message": "jobs rate limit exceeded"},
    }
    assert stitch.get(f"/v4/{account_id}/extractions/any-job").status_code == 429  # logs too
    assert stitch.get("/v4/sources").status_code == 200
    stitch.post("/_emulator/clock", json={"advance": 600})
    assert stitch.get(f"/v4/{account_id}/loads").status_code == 200


def test_reset_forgets_everything_but_keeps_the_token_and_ids_growing(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    first = create(stitch, RECURLY)
    stitch.post("/_emulator/faults", json={"path": "/nowhere"})
    stitch.post("/_emulator/config", json={"current_step_hints": False})
    assert stitch.post("/_emulator/reset").status_code == 200
    assert stitch.get("/_emulator/requests").json() == {"requests": []}
    assert stitch.get("/v4/sources").json() == []
    assert stitch.get("/_emulator/faults").json() == {"faults": []}
    again = create(stitch, RECURLY)
    assert again["id"] > first["id"] and again["stitch_client_id"] == account_id
    assert "current_step_hints" in again["report_card"]


def test_accounts_control_makes_a_second_account(
    stitch: AppClient, backend: EmulatorBackend
) -> None:
    made = stitch.post("/_emulator/accounts", json={"email": "second@example.com"}).json()
    fully_configured(backend, backend.default_account.id)
    theirs = stitch.get("/v4/sources", headers={"Authorization": f"Bearer {made['access_token']}"})
    assert theirs.json() == []
    assert made["id"] != backend.default_account.id
