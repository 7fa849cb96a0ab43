"""Every documented error of the vendor's `response-codes/*.yml`, triggered over HTTP.

Each YAML entry is one test: the emulator must answer with the documented status and the
documented body (same keys, same text modulo `<PLACEHOLDERS>`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from stitch_emulator import EmulatorBackend

from .conftest import PARTNER_ID, PARTNER_SECRET
from .docs_data import assert_same_body, error_entries
from .factories import (
    HUBSPOT,
    PG_DESTINATION,
    RECURLY,
    create,
    fully_configured,
    select,
)

Trigger = Callable[[httpx.AsyncClient, EmulatorBackend], Awaitable[list[httpx.Response]]]
TRIGGERS: dict[tuple[str, str], Trigger] = {}
# The v3 destinations API is not emulated (README); its entry is listed here on purpose.
NOT_EMULATED = {("destinations", "Missing or prohibited arguments", "3")}


def trigger(resource: str, condition: str) -> Callable[[Trigger], Trigger]:
    def register(function: Trigger) -> Trigger:
        TRIGGERS[(resource, condition)] = function
        return function

    return register


async def _recurly_at_field_selection(api: httpx.AsyncClient, backend: EmulatorBackend) -> int:
    source = await create(api, RECURLY)
    backend.clock.advance(2)
    return int(source["id"])


# -- sources --------------------------------------------------------------------------------


@trigger("sources", "Invalid source `type`")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.post("/v4/sources", json={"type": "platform.nope", "display_name": "N"})]


@trigger("sources", "Source's `display_name` is already in use")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    await create(api, RECURLY)
    return [await api.post("/v4/sources", json=RECURLY)]


@trigger("sources", "Prohibited arguments")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        await api.post("/v4/sources", json={**RECURLY, "schedule": "daily"}),
        await api.post("/v4/sources", json={"type": "", "display_name": "X"}),
        await api.post("/v4/sources", json={"type": "platform.recurly", "display_name": ""}),
        await api.post("/v4/sources", content=b"{not json"),
    ]


@trigger("sources", "Invalid `name` property")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        await api.post("/v4/sources", json={"type": "import_api", "display_name": "3M Sales"}),
        await api.post("/v4/sources", json={"type": "import_api", "display_name": "x" * 50}),
    ]


@trigger("sources", "Non-unique name property")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    await create(api, RECURLY)
    return [await api.post("/v4/sources", json={**RECURLY, "display_name": "RECURLY!!!"})]


@trigger("sources", "Invalid name property")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.post("/v4/sources", json={"type": "import_api", "display_name": "####"})]


@trigger("sources", "Insufficient access to source type")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.post("/v4/sources", json={"type": "platform.postgres", "display_name": "P"})]


@trigger("sources", "Invalid `properties` data")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    bad = {"start_date": "2017-01-01 00:00:00", "frequency_in_minutes": ""}
    created = await api.post("/v4/sources", json={**HUBSPOT, "properties": bad})
    assert created.json()["data"]["bad_properties"] == ["start_date", "frequency_in_minutes"]
    source = await create(api, HUBSPOT)
    updated = await api.put(f"/v4/sources/{source['id']}", json={"properties": {"start_date": ""}})
    assert updated.json()["data"]["report_card"]["current_step_type"] == "oauth"
    return [created, updated]


@trigger("sources", "Insufficient account access to cron scheduling feature")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    backend.configure(cron_scheduling=False)
    cron = {"cron_expression": "0 0 12 ? * MON-FRI *"}
    source = await create(api, RECURLY)
    return [
        await api.post(
            "/v4/sources",
            json={**HUBSPOT, "properties": {**HUBSPOT["properties"], **cron}},
        ),
        await api.put(f"/v4/sources/{source['id']}", json={"properties": cron}),
    ]


@trigger("sources", "Cron expressions can't specify both a day-of-week and day-of-month")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    cron = {"cron_expression": "* * * * * *"}
    source = await create(api, RECURLY)
    return [
        await api.post(
            "/v4/sources",
            json={**HUBSPOT, "properties": {**HUBSPOT["properties"], **cron}},
        ),
        await api.put(f"/v4/sources/{source['id']}", json={"properties": cron}),
    ]


@trigger("sources", "Prohibited arguments (PUT)")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = await create(api, RECURLY)
    return [await api.put(f"/v4/sources/{source['id']}", json={"type": "platform.hubspot"})]


@trigger("sources", "Invalid display name")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = await create(api, RECURLY)
    return [
        await api.put(f"/v4/sources/{source['id']}", json={"display_name": ""}),
        await api.put(f"/v4/sources/{source['id']}", json={"display_name": "!!!"}),
    ]


@trigger("sources", "Invalid source ID")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        await api.put("/v4/sources/999999", json={"display_name": "X"}),
        await api.delete("/v4/sources/999999"),
    ]


# -- streams --------------------------------------------------------------------------------


@trigger("streams", "Invalid stream ID")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = await _recurly_at_field_selection(api, backend)
    return [
        await api.get(f"/v4/sources/{sid}/streams/1"),
        await api.get(f"/v4/sources/{sid}/streams/abc"),
    ]


@trigger("streams", "Invalid source ID")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = await _recurly_at_field_selection(api, backend)
    stream_id = (await api.get(f"/v4/sources/{sid}/streams")).json()[0]["stream_id"]
    return [await api.get(f"/v4/sources/999999/streams/{stream_id}")]


@trigger("streams", "Missing `tap_stream_id`")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = await _recurly_at_field_selection(api, backend)
    body = {"streams": [{"metadata": [{"breadcrumb": [], "metadata": {"selected": True}}]}]}
    return [await api.put(f"/v4/sources/{sid}/streams/metadata", json=body)]


@trigger("streams", "Invalid `tap_stream_id`")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = await _recurly_at_field_selection(api, backend)
    before_discovery = await create(api, {**RECURLY, "display_name": "Recurly 2"})
    return [
        await api.put(f"/v4/sources/{sid}/streams/metadata", json=select("nope")),
        await api.put(
            f"/v4/sources/{before_discovery['id']}/streams/metadata", json=select("accounts")
        ),
    ]


@trigger("streams", "Request body includes read-only properties")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = await _recurly_at_field_selection(api, backend)
    body = select("accounts", **{"forced-replication-method": "FULL_TABLE"})
    return [await api.put(f"/v4/sources/{sid}/streams/metadata", json=body)]


@trigger("streams", "Request body includes unsupported fields")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = await _recurly_at_field_selection(api, backend)
    body = select("accounts")
    body["streams"][0]["metadata"].append(
        {"breadcrumb": ["properties", "hosted_login_token"], "metadata": {"selected": True}}
    )
    return [await api.put(f"/v4/sources/{sid}/streams/metadata", json=body)]


@trigger("streams", "Request body is missing `streams`, `breadcrumb`, and/or `metadata` properties")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    sid = await _recurly_at_field_selection(api, backend)
    url = f"/v4/sources/{sid}/streams/metadata"
    return [
        await api.put(url, json={}),
        await api.put(url, json={"streams": [{"tap_stream_id": "accounts"}]}),
        await api.put(url, json={"streams": [{"tap_stream_id": "accounts", "metadata": [{}]}]}),
    ]


# -- accounts -------------------------------------------------------------------------------

OWNER = {
    "partner_id": PARTNER_ID,
    "partner_secret": PARTNER_SECRET,
    "first_name": "Stitch",
    "last_name": "Product Team",
    "company": "Stitch Product Team",
    "region": "us-east-1",
    "email": "stitch-api-test@stitchdata.com",
}


@trigger("accounts", "A Stitch account is already associated with the provided email address.")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    assert (await api.post("/v3/accounts", json=OWNER)).status_code == 200
    return [await api.post("/v3/accounts", json={**OWNER, "email": OWNER["email"].upper()})]


@trigger("accounts", "Request body contains malformed data.")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        await api.post("/v3/accounts", content=b"partner_id=x"),
        await api.post("/v3/accounts", json=["not", "an", "object"]),
    ]


@trigger("accounts", "Missing or invalid `partner_id`.")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    missing = {k: v for k, v in OWNER.items() if k != "partner_id"}
    return [
        await api.post("/v3/accounts", json=missing),
        await api.post("/v3/accounts", json={**OWNER, "partner_id": "oc_wrong"}),
    ]


@trigger("accounts", "Missing or invalid `partner_secret`.")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.post("/v3/accounts", json={**OWNER, "partner_secret": "oc_wrong"})]


# -- replication jobs -----------------------------------------------------------------------


@trigger("replication-jobs", "Replication job is already in progress")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = fully_configured(backend, backend.default_account.id)
    first = await api.post(f"/v4/sources/{source['id']}/sync")
    assert first.status_code == 200 and "job_name" in first.json()
    return [await api.post(f"/v4/sources/{source['id']}/sync")]


@trigger("replication-jobs", "Invalid source ID")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.post("/v4/sources/999999/sync")]


@trigger("replication-jobs", "Source has been deleted")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = fully_configured(backend, backend.default_account.id)
    await api.delete(f"/v4/sources/{source['id']}")
    return [await api.post(f"/v4/sources/{source['id']}/sync")]


# -- destinations ---------------------------------------------------------------------------


async def _destination(api: httpx.AsyncClient) -> dict[str, Any]:
    created = await api.post("/v4/destinations", json=PG_DESTINATION)
    assert created.status_code == 200, created.text
    return created.json()  # type: ignore[no-any-return]


@trigger("destinations", "Accounts can have one destination")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    await _destination(api)
    return [await api.post("/v4/destinations", json=PG_DESTINATION)]


@trigger("destinations", "Missing or prohibited arguments")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        await api.post("/v4/destinations", json={**PG_DESTINATION, "connection": {}}),
        await api.post("/v4/destinations", json={"type": "postgres"}),
    ]


@trigger("destinations", "Modifications to `type` are unsupported")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    found = await _destination(api)
    body = {"type": "redshift", "properties": {}}
    return [await api.put(f"/v4/destinations/{found['id']}", json=body)]


@trigger("destinations", "Invalid destination ID")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.put("/v4/destinations/424242", json={"properties": {}})]


@trigger("destinations", "Invalid destination ID (DELETE)")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    found = await _destination(api)
    assert (await api.delete(f"/v4/destinations/{found['id']}")).json() == {}
    return [
        await api.delete("/v4/destinations/424242"),
        await api.delete(f"/v4/destinations/{found['id']}"),
    ]


@trigger("destinations", "Query parameters that are not `source_id` and/or `destination_id`")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.get("/v4/destinations", params={"type": "postgres"})]


@trigger("destinations", "Destination ID not provided")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.delete("/v4/destinations/"), await api.delete("/v4/destinations")]


@trigger("destinations", "Destination ID contains illegal characters")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.delete("/v4/destinations/abc")]


# -- extractions and loads ------------------------------------------------------------------


@trigger(
    "extractions",
    "The provided access token has been disabled, deleted, or doesn't have access to the provided Stitch client ID.",
)
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    other = backend.default_account.id + 1000
    return [
        await api.get(f"/v4/{other}/extractions"),
        await api.get(f"/v4/{other}/extractions/x.y.sync.z"),
        await api.get(
            f"/v4/{backend.default_account.id}/extractions",
            headers={"Authorization": "Bearer nope"},
        ),
    ]


@trigger("extractions", "The requested extraction job doesn't exist.")
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.get(f"/v4/{backend.default_account.id}/extractions/1.2.sync.none")]


@trigger(
    "loads",
    "The provided access token has been disabled, deleted, or doesn't have access to the provided Stitch client ID.",
)
async def _(api: httpx.AsyncClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [await api.get(f"/v4/{backend.default_account.id + 1000}/loads")]


def _cases() -> list[Any]:
    cases = []
    for resource in (
        "sources",
        "streams",
        "accounts",
        "replication-jobs",
        "destinations",
        "extractions",
        "loads",
    ):
        seen: set[str] = set()
        for entry in error_entries(f"response-codes/{resource}.yml"):
            condition = entry["condition"]
            if (resource, condition, entry["version"]) in NOT_EMULATED:
                continue
            key = condition
            if key in seen or (resource, condition) not in TRIGGERS:
                key = f"{condition} ({entry['method'].upper()})"
            seen.add(key)
            cases.append(pytest.param(resource, key, entry, id=f"{resource}: {key}"[:90]))
    return cases


@pytest.mark.parametrize(("resource", "key", "entry"), _cases())
async def test_documented_error(
    api: httpx.AsyncClient, backend: EmulatorBackend, resource: str, key: str, entry: dict[str, Any]
) -> None:
    assert (resource, key) in TRIGGERS, f"no trigger for {resource}: {key}"
    for answer in await TRIGGERS[(resource, key)](api, backend):
        assert answer.status_code == entry["status"], (answer.request.url, answer.text)
        documented = entry["body"]
        if entry["status"] == 404 or documented is None:
            continue  # the docs give prose, or nothing, for these bodies
        assert_same_body(answer.json(), documented)


def test_every_trigger_answers_a_documented_error() -> None:
    used = {(p.values[0], p.values[1]) for p in _cases()}
    assert set(TRIGGERS) == used


async def test_missing_or_invalid_token_is_401_with_the_inferred_body(
    http: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"Authorization": "Bearer ac_wrong"}, {"Authorization": "Basic x"}):
        answer = await http.get("/v4/sources", headers=headers)
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
async def test_unknown_routes_and_methods_are_404_not_found(
    api: httpx.AsyncClient, method: str, path: str
) -> None:
    answer = await api.request(method, path)
    assert answer.status_code == 404
    assert answer.json()["error"] == "NotFound" and "message" in answer.json()["data"]


async def test_get_of_an_unknown_source_is_404(api: httpx.AsyncClient) -> None:
    answer = await api.get("/v4/sources/999999")
    assert answer.status_code == 404
    assert answer.json() == {"error": "NotFound", "data": {"message": "source not found (999999)"}}


async def test_not_fully_configured_sources_cannot_sync(
    api: httpx.AsyncClient, account_id: int
) -> None:
    source = await create(api, RECURLY)
    answer = await api.post(f"/v4/sources/{source['id']}/sync")
    assert answer.status_code == 400
    assert answer.json() == {
        "error": {
            "type": "generic",
            "message": f"Could not create job for client-id: {account_id}; connection-id: {source['id']}",
        }
    }
