"""The documented account, replication-job, destination, extraction and load errors
(`response-codes/*.yml`), each triggered over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stitch_emulator import EmulatorBackend

from .conftest import PARTNER_ID, PARTNER_SECRET
from .documented_errors import cases, check, registry
from .factories import PG_DESTINATION, fully_configured

TRIGGERS, trigger = registry()
RESOURCES = ("accounts", "replication-jobs", "destinations", "extractions", "loads")


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


@pytest.mark.parametrize(("resource", "key", "entry"), cases(RESOURCES, TRIGGERS))
async def test_documented_error(
    api: httpx.AsyncClient, backend: EmulatorBackend, resource: str, key: str, entry: dict[str, Any]
) -> None:
    await check(TRIGGERS, api, backend, resource, key, entry)


def test_every_trigger_answers_a_documented_error() -> None:
    assert set(TRIGGERS) == {(p.values[0], p.values[1]) for p in cases(RESOURCES, TRIGGERS)}
