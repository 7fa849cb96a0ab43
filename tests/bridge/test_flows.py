"""The reference's worked timelines (§9.5), driven only through the bridge's API."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bridge.conftest import RECURLY_PROPERTIES, Stack


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    # Stitch.js on the shared account, as an operator may accept with the opt-in.
    return {"step_driver": "stitchjs", "shared_account_stitchjs": True}


def test_recurly_form_to_fully_configured_yields_a_verifiable_receipt(stack: Stack) -> None:
    widget = stack.widget(end_user="alice")
    created = widget.post(
        "/v1/sources",
        json={
            "type": "platform.recurly",
            "display_name": "Billing",
            "properties": RECURLY_PROPERTIES,
        },
        headers={"Idempotency-Key": "attempt-1"},
    )
    assert created.status_code == 201, created.text
    source = created.json()["source"]
    assert source["display_name"] == "Billing"
    assert source["end_user_id"] == "alice"
    assert source["current_step_type"] == "discover_schema"
    assert source["status"] == "connecting"
    step = created.json()["next_step"]
    assert step["type"] == "discover_schema"
    assert step["js"]["function"] == "displayDiscoveryOutputForSource"
    assert step["js"]["options"]["id"] == source["id"]
    assert ".check." in step["js"]["options"]["discovery_job_name"]
    assert "api_key" not in created.text and "recurly-api-key-secret" not in created.text

    # The check runs in Stitch; the widget polls until it is done.
    polled = widget.get(f"/v1/sources/{source['id']}").json()
    assert polled["source"]["status"] == "connecting"
    stack.advance(3)
    polled = widget.get(f"/v1/sources/{source['id']}").json()
    assert polled["source"]["current_step_type"] == "field_selection"
    assert polled["next_step"]["type"] == "field_selection"
    assert polled["next_step"]["js"] == {
        "function": "selectStreamsForSource",
        "options": {"id": source["id"]},
    }

    streams = widget.get(f"/v1/sources/{source['id']}/streams").json()["data"]
    assert {"accounts", "invoices"} <= {s["tap_stream_id"] for s in streams}
    selected = widget.put(
        f"/v1/sources/{source['id']}/streams",
        json={"streams": [{"tap_stream_id": "accounts", "selected": True}]},
    )
    assert selected.status_code == 200, selected.text

    done = widget.post(
        "/v1/steps/complete", json={"token": polled["next_step"]["token"], "outcome": "completed"}
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["next_step"] is None
    assert body["source"]["status"] == "connected"
    assert body["source"]["current_step_type"] == "fully_configured"

    verified = stack.backend().post("/v1/receipts/verify", json={"receipt": body["receipt"]})
    assert verified.status_code == 200, verified.text
    assert verified.json()["valid"] is True
    assert verified.json()["end_user_id"] == "alice"
    assert verified.json()["source"]["id"] == source["id"]

    types = [e["type"] for e in stack.events()]
    assert types[0] == "source.created"
    assert "source.step_completed" in types
    assert types.count("source.connected") == 1

    listed = stack.backend().get("/v1/end-users/alice/sources").json()["data"]
    assert [(s["id"], s["status"]) for s in listed] == [(source["id"], "connected")]


def test_hubspot_oauth_timeline_uses_stitchjs_with_a_fresh_ephemeral_token(stack: Stack) -> None:
    widget = stack.widget(end_user="bob")
    created = widget.post(
        "/v1/sources",
        json={
            "type": "platform.hubspot",
            "properties": {"start_date": "2017-01-01T00:00:00Z", "frequency_in_minutes": "30"},
        },
    )
    assert created.status_code == 201, created.text
    source, step = created.json()["source"], created.json()["next_step"]
    assert source["display_name"] == "HubSpot"
    assert (source["current_step"], source["current_step_type"]) == (2, "oauth")
    assert step["type"] == "oauth"
    assert step["js"] == {"function": "authorizeSource", "options": {"id": source["id"]}}

    started = widget.post("/v1/steps/start", json={"token": step["token"]})
    assert started.status_code == 200, started.text
    instructions = started.json()
    assert instructions["driver"] == "stitchjs"
    assert instructions["stitch_js_url"] == f"{stack.emulator_url}/stitch.js"
    assert instructions["js"]["function"] == "authorizeSource"
    assert instructions["js"]["options"]["id"] == source["id"]
    assert instructions["js"]["options"]["ephemeral_token"]

    # Reporting before the end user finished: Stitch says it is not done, so it is not.
    early = widget.post("/v1/steps/complete", json={"token": step["token"]}).json()
    assert early["step_completed"] is False
    assert early["next_step"]["type"] == "oauth"
    assert early["next_step"]["token"] != step["token"]

    stack.authorize(source["id"])  # the end user approves in Stitch's popup
    after = widget.post("/v1/steps/complete", json={"token": early["next_step"]["token"]}).json()
    assert after["step_completed"] is True
    assert after["source"]["current_step_type"] == "discover_schema"

    stack.advance(3)
    polled = widget.get(f"/v1/sources/{source['id']}").json()
    assert polled["next_step"]["type"] == "field_selection"
    widget.put(
        f"/v1/sources/{source['id']}/streams",
        json={"streams": [{"tap_stream_id": "contacts", "selected": True}]},
    ).raise_for_status()
    final = widget.post("/v1/steps/complete", json={"token": polled["next_step"]["token"]}).json()
    assert final["source"]["status"] == "connected"
    assert final["receipt"]
    assert [e["type"] for e in stack.events()].count("source.connected") == 1


def test_a_form_step_without_required_values_stays_at_the_form(stack: Stack) -> None:
    widget = stack.widget()
    created = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()
    assert created["source"]["current_step_type"] == "form"
    assert created["next_step"]["type"] == "form"
    assert created["next_step"]["js"]["function"] == "editSource"
    updated = widget.put(
        f"/v1/sources/{created['source']['id']}", json={"properties": RECURLY_PROPERTIES}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["source"]["current_step_type"] == "discover_schema"


def test_the_stitchjs_driver_runs_the_form_in_stitchs_popup(stack: Stack) -> None:
    widget = stack.widget()
    created = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()
    started = widget.post("/v1/steps/start", json={"token": created["next_step"]["token"]})
    assert started.json()["driver"] == "stitchjs"
    assert started.json()["js"]["function"] == "editSource"
    assert started.json()["js"]["options"]["id"] == created["source"]["id"]


def test_many_tabs_creating_one_type_at_once_make_one_source(stack: Stack) -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    token = stack.mint(end_user="tabby")
    stack.fault(method="POST", path="/v4/sources", status=None, delay=0.3, count=1)
    barrier = threading.Barrier(8)

    def create(n: int) -> tuple[int, int]:
        with stack.http() as client:
            barrier.wait()
            response = client.post(
                "/v1/sources",
                json={"type": "platform.recurly"},
                headers={
                    "Authorization": f"Bearer {token}",
                    "Origin": "http://app.test",
                    "Idempotency-Key": f"tab-{n}",
                },
            )
            return response.status_code, response.json()["source"]["id"]

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(create, range(8)))
    assert len({source_id for _, source_id in results}) == 1
    assert sorted(status for status, _ in results) == [200] * 7 + [201]
    assert len(stack.emulator_sources()) == 1
