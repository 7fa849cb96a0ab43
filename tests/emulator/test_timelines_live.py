"""The worked timelines of §9.5 over real HTTP (uvicorn on loopback), shaped like the docs' curls."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from stitch_emulator import Clock, EmulatorConfig, create_app
from tests.live import serve

from .factories import HUBSPOT, RECURLY

TOKEN = "ac_live_timeline_token"


@pytest.fixture
def stitch() -> Iterator[tuple[httpx.Client, Any]]:
    app = create_app(EmulatorConfig(token=TOKEN), clock=Clock.frozen_at())
    # Every documented call carries these two headers (request-headers.yml).
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    with serve(app) as live, httpx.Client(base_url=live.url, headers=headers, timeout=10) as client:
        yield client, app.state.backend


def step(body: dict[str, Any]) -> tuple[int, str]:
    card = body.get("report_card", body)  # a source, or a source type's card itself
    return card["current_step"], card["current_step_type"]


def advance(client: httpx.Client, seconds: float) -> None:
    assert client.post("/_emulator/clock", json={"advance": seconds}).status_code == 200


def test_hubspot_timeline(stitch: tuple[httpx.Client, Any]) -> None:
    client, backend = stitch
    card = client.get("/v4/source-types/platform.hubspot").json()
    assert step(card) == (1, "form")
    assert card["current_step_hints"]["js"] == {
        "function": "addSource",
        "options": {"type": "platform.hubspot"},
    }

    source = client.post("/v4/sources", json=HUBSPOT).json()
    sid = source["id"]
    assert step(source) == (2, "oauth") and source["check_job_name"] is None
    assert source["report_card"]["current_step_hints"]["js"] == {
        "function": "authorizeSource",
        "options": {"id": sid},
    }

    ephemeral = client.post("/v3/sessions/ephemeral")
    assert ephemeral.status_code == 200
    # The popup exchanges the ephemeral token, then the user approves HubSpot.
    backend.exchange_ephemeral_token(ephemeral.json()["ephemeral_token"])
    assert client.post(f"/_emulator/sources/{sid}/authorize").status_code == 200

    source = client.get(f"/v4/sources/{sid}").json()
    assert step(source) == (3, "discover_schema") and source["check_job_name"]
    assert client.get(f"/v4/sources/{sid}/last-connection-check").json()["status"] == "running"

    advance(client, 2)
    assert step(client.get(f"/v4/sources/{sid}").json()) == (4, "field_selection")
    assert client.get(f"/v4/sources/{sid}/last-connection-check").json()["status"] == "succeeded"
    streams = {s["tap_stream_id"] for s in client.get(f"/v4/sources/{sid}/streams").json()}
    assert {"campaigns", "companies", "contacts"} <= streams

    body = {
        "streams": [
            {
                "tap_stream_id": name,
                "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
            }
            for name in ("campaigns", "companies")
        ]
    }
    assert client.put(f"/v4/sources/{sid}/streams/metadata", json=body).json() == {"status": 200}
    source = client.get(f"/v4/sources/{sid}").json()
    assert step(source) == (5, "fully_configured")
    assert source["schedule"]["type"] == "interval" and source["schedule"]["interval"] == 30.0

    log = client.get("/_emulator/requests").json()["requests"]
    assert [(r["method"], r["path"].replace(str(sid), "{id}")) for r in log][:4] == [
        ("GET", "/v4/source-types/platform.hubspot"),
        ("POST", "/v4/sources"),
        ("POST", "/v3/sessions/ephemeral"),
        ("GET", "/v4/sources/{id}"),
    ]


def test_recurly_timeline(stitch: tuple[httpx.Client, Any]) -> None:
    client, _ = stitch
    assert step(client.get("/v4/source-types/platform.recurly").json()) == (1, "form")

    created = client.post("/v4/sources", json=RECURLY).json()
    sid = created["id"]
    assert created["check_job_name"] and created["schedule"] is None
    advance(client, 2)
    assert step(client.get(f"/v4/sources/{sid}").json()) == (3, "field_selection")

    body = {
        "streams": [
            {
                "tap_stream_id": "accounts",
                "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
            }
        ]
    }
    assert client.put(f"/v4/sources/{sid}/streams/metadata", json=body).json() == {"status": 200}
    source = client.get(f"/v4/sources/{sid}").json()
    assert step(source) == (4, "fully_configured")
    assert source["schedule"] is not None and source["schedule"]["interval"] == 60.0

    started = client.post(f"/v4/sources/{sid}/sync")
    assert started.status_code == 200 and "job_name" in started.json()
    again = client.post(f"/v4/sources/{sid}/sync")
    assert again.status_code == 200 and again.json()["error"]["type"] == "already_running"
    advance(client, 30)
    assert "job_name" in client.post(f"/v4/sources/{sid}/sync").json()
