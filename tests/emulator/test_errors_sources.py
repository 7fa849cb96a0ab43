"""The documented source and stream errors (`response-codes/sources.yml`, `streams.yml`),
each triggered over HTTP, plus the inferred generic 401 and 404 answers (§7.1)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stitch_emulator import EmulatorBackend

from .conftest import AppClient
from .documented_errors import cases, check, registry
from .factories import HUBSPOT, RECURLY, create, select

TRIGGERS, trigger = registry()
RESOURCES = ("sources", "streams")


def _recurly_at_field_selection(stitch: AppClient, backend: EmulatorBackend) -> int:
    source = create(stitch, RECURLY)
    backend.clock.advance(2)
    return int(source["id"])


# -- sources --------------------------------------------------------------------------------


@trigger("sources", "Invalid source `type`")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.post("/v4/sources", json={"type": "platform.nope", "display_name": "N"})]


@trigger("sources", "Source's `display_name` is already in use")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    create(stitch, RECURLY)
    return [stitch.post("/v4/sources", json=RECURLY)]


@trigger("sources", "Prohibited arguments")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        stitch.post("/v4/sources", json={**RECURLY, "schedule": "daily"}),
        stitch.post("/v4/sources", json={"type": "", "display_name": "X"}),
        stitch.post("/v4/sources", json={"type": "platform.recurly", "display_name": ""}),
        stitch.post("/v4/sources", content=b"{not json"),
    ]


@trigger("sources", "Invalid `name` property")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        stitch.post("/v4/sources", json={"type": "import_api", "display_name": "3M Sales"}),
        stitch.post("/v4/sources", json={"type": "import_api", "display_name": "x" * 50}),
    ]


@trigger("sources", "Non-unique name property")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    create(stitch, RECURLY)
    return [stitch.post("/v4/sources", json={**RECURLY, "display_name": "RECURLY!!!"})]


@trigger("sources", "Invalid name property")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.post("/v4/sources", json={"type": "import_api", "display_name": "####"})]


@trigger("sources", "Insufficient access to source type")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.post("/v4/sources", json={"type": "platform.postgres", "display_name": "P"})]


@trigger("sources", "Invalid `properties` data")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    bad = {"start_date": "2017-01-01 00:00:00", "frequency_in_minutes": ""}
    created = stitch.post("/v4/sources", json={**HUBSPOT, "properties": bad})
    assert created.json()["data"]["bad_properties"] == ["start_date", "frequency_in_minutes"]
    source = create(stitch, HUBSPOT)
    updated = stitch.put(f"/v4/sources/{source['id']}", json={"properties": {"start_date": ""}})
    assert updated.json()["data"]["report_card"]["current_step_type"] == "oauth"
    return [created, updated]


@trigger("sources", "Insufficient account access to cron scheduling feature")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    backend.configure(cron_scheduling=False)
    cron = {"cron_expression": "0 0 12 ? * MON-FRI *"}
    source = create(stitch, RECURLY)
    return [
        stitch.post(
            "/v4/sources",
            json={**HUBSPOT, "properties": {**HUBSPOT["properties"], **cron}},
        ),
        stitch.put(f"/v4/sources/{source['id']}", json={"properties": cron}),
    ]


@trigger("sources", "Cron expressions can't specify both a day-of-week and day-of-month")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    cron = {"cron_expression": "* * * * * *"}
    source = create(stitch, RECURLY)
    return [
        stitch.post(
            "/v4/sources",
            json={**HUBSPOT, "properties": {**HUBSPOT["properties"], **cron}},
        ),
        stitch.put(f"/v4/sources/{source['id']}", json={"properties": cron}),
    ]


@trigger("sources", "Prohibited arguments (PUT)")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = create(stitch, RECURLY)
    return [stitch.put(f"/v4/sources/{source['id']}", json={"type": "platform.hubspot"})]


@trigger("sources", "Invalid display name")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = create(stitch, RECURLY)
    return [
        stitch.put(f"/v4/sources/{source['id']}", json={"display_name": ""}),
        stitch.put(f"/v4/sources/{source['id']}", json={"display_name": "!!!"}),
    ]


@trigger("sources", "Invalid source ID")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        stitch.put("/v4/sources/999999", json={"display_name": "X"}),
        stitch.delete("/v4/sources/999999"),
    ]


# -- streams --------------------------------------------------------------------------------


@trigger("streams", "Invalid stream ID")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = _recurly_at_field_selection(stitch, backend)
    return [
        stitch.get(f"/v4/sources/{sid}/streams/1"),
        stitch.get(f"/v4/sources/{sid}/streams/abc"),
    ]


@trigger("streams", "Invalid source ID")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = _recurly_at_field_selection(stitch, backend)
    stream_id = stitch.get(f"/v4/sources/{sid}/streams").json()[0]["stream_id"]
    return [stitch.get(f"/v4/sources/999999/streams/{stream_id}")]


@trigger("streams", "Missing `tap_stream_id`")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = _recurly_at_field_selection(stitch, backend)
    body = {"streams": [{"metadata": [{"breadcrumb": [], "metadata": {"selected": True}}]}]}
    return [stitch.put(f"/v4/sources/{sid}/streams/metadata", json=body)]


@trigger("streams", "Invalid `tap_stream_id`")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = _recurly_at_field_selection(stitch, backend)
    before_discovery = create(stitch, {**RECURLY, "display_name": "Recurly 2"})
    return [
        stitch.put(f"/v4/sources/{sid}/streams/metadata", json=select("nope")),
        stitch.put(
            f"/v4/sources/{before_discovery['id']}/streams/metadata", json=select("accounts")
        ),
    ]


@trigger("streams", "Request body includes read-only properties")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = _recurly_at_field_selection(stitch, backend)
    body = select("accounts", **{"forced-replication-method": "FULL_TABLE"})
    return [stitch.put(f"/v4/sources/{sid}/streams/metadata", json=body)]


@trigger("streams", "Request body includes unsupported fields")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = _recurly_at_field_selection(stitch, backend)
    body = select("accounts")
    body["streams"][0]["metadata"].append(
        {"breadcrumb": ["properties", "hosted_login_token"], "metadata": {"selected": True}}
    )
    return [stitch.put(f"/v4/sources/{sid}/streams/metadata", json=body)]


@trigger("streams", "Request body is missing `streams`, `breadcrumb`, and/or `metadata` properties")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = _recurly_at_field_selection(stitch, backend)
    url = f"/v4/sources/{sid}/streams/metadata"
    return [
        stitch.put(url, json={}),
        stitch.put(url, json={"streams": [{"tap_stream_id": "accounts"}]}),
        stitch.put(url, json={"streams": [{"tap_stream_id": "accounts", "metadata": [{}]}]}),
    ]


@pytest.mark.parametrize(("resource", "key", "entry"), cases(RESOURCES, TRIGGERS))
def test_documented_error(
    stitch: AppClient, backend: EmulatorBackend, resource: str, key: str, entry: dict[str, Any]
) -> None:
    check(TRIGGERS, stitch, backend, resource, key, entry)


def test_every_trigger_answers_a_documented_error() -> None:
    assert set(TRIGGERS) == {(p.values[0], p.values[1]) for p in cases(RESOURCES, TRIGGERS)}


def test_missing_or_invalid_token_is_401_with_the_inferred_body(
    anonymous: AppClient,
) -> None:
    for headers in ({}, {"Authorization": "Bearer ac_wrong"}, {"Authorization": "Basic x"}):
        answer = anonymous.get("/v4/sources", headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {
            "error": "Unauthorized",
            "data": {"message": "invalid or missing access token"},
        }


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v4/nothing-here"),
        ("PATCH", "/v4/sources"),
        ("POST", "/v4/source-types"),
        ("GET", "/v4/sources/abc"),
    ],
)
def test_unknown_routes_and_methods_are_404_not_found(
    stitch: AppClient, method: str, path: str
) -> None:
    answer = stitch.request(method, path)
    assert answer.status_code == 404
    assert answer.json()["error"] == "NotFound" and "message" in answer.json()["data"]


def test_get_of_an_unknown_source_is_404(stitch: AppClient) -> None:
    answer = stitch.get("/v4/sources/999999")
    assert answer.status_code == 404
    assert answer.json() == {"error": "NotFound", "data": {"message": "source not found (999999)"}}


def test_not_fully_configured_sources_cannot_sync(stitch: AppClient, account_id: int) -> None:
    source = create(stitch, RECURLY)
    answer = stitch.post(f"/v4/sources/{source['id']}/sync")
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {
            "type": "generic",
            "message": f"Could not create job for client-id: {account_id}; connection-id: {source['id']}",
        }
    }
