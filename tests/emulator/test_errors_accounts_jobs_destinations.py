"""The documented account, replication-job, destination, extraction and load errors
(`response-codes/*.yml`), each triggered over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from stitch_emulator import EmulatorBackend

from .conftest import PARTNER_ID, PARTNER_SECRET, AppClient
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
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    assert stitch.post("/v3/accounts", json=OWNER).status_code == 200
    return [stitch.post("/v3/accounts", json={**OWNER, "email": OWNER["email"].upper()})]


@trigger("accounts", "Request body contains malformed data.")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        stitch.post("/v3/accounts", content=b"partner_id=x"),
        stitch.post("/v3/accounts", json=["not", "an", "object"]),
    ]


@trigger("accounts", "Missing or invalid `partner_id`.")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    missing = {k: v for k, v in OWNER.items() if k != "partner_id"}
    return [
        stitch.post("/v3/accounts", json=missing),
        stitch.post("/v3/accounts", json={**OWNER, "partner_id": "oc_wrong"}),
    ]


@trigger("accounts", "Missing or invalid `partner_secret`.")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.post("/v3/accounts", json={**OWNER, "partner_secret": "oc_wrong"})]


# -- replication jobs -----------------------------------------------------------------------


@trigger("replication-jobs", "Replication job is already in progress")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = fully_configured(backend, backend.default_account.id)
    first = stitch.post(f"/v4/sources/{source['id']}/sync")
    assert first.status_code == 200 and "job_name" in first.json()
    return [stitch.post(f"/v4/sources/{source['id']}/sync")]


@trigger("replication-jobs", "Invalid source ID")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.post("/v4/sources/999999/sync")]


@trigger("replication-jobs", "Source has been deleted")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    source = fully_configured(backend, backend.default_account.id)
    stitch.delete(f"/v4/sources/{source['id']}")
    return [stitch.post(f"/v4/sources/{source['id']}/sync")]


# -- destinations ---------------------------------------------------------------------------


def _destination(stitch: AppClient) -> dict[str, Any]:
    created = stitch.post("/v4/destinations", json=PG_DESTINATION)
    assert created.status_code == 200, created.text
    return created.json()  # type: ignore[no-any-return]


@trigger("destinations", "Accounts can have one destination")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    _destination(stitch)
    return [stitch.post("/v4/destinations", json=PG_DESTINATION)]


@trigger("destinations", "Missing or prohibited arguments")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [
        stitch.post("/v4/destinations", json={**PG_DESTINATION, "connection": {}}),
        stitch.post("/v4/destinations", json={"type": "postgres"}),
    ]


@trigger("destinations", "Modifications to `type` are unsupported")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    found = _destination(stitch)
    body = {"type": "redshift", "properties": {}}
    return [stitch.put(f"/v4/destinations/{found['id']}", json=body)]


@trigger("destinations", "Invalid destination ID")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.put("/v4/destinations/424242", json={"properties": {}})]


@trigger("destinations", "Invalid destination ID (DELETE)")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    found = _destination(stitch)
    assert stitch.delete(f"/v4/destinations/{found['id']}").json() == {}
    return [
        stitch.delete("/v4/destinations/424242"),
        stitch.delete(f"/v4/destinations/{found['id']}"),
    ]


@trigger("destinations", "Query parameters that are not `source_id` and/or `destination_id`")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.get("/v4/destinations", params={"type": "postgres"})]


@trigger("destinations", "Destination ID not provided")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.delete("/v4/destinations/"), stitch.delete("/v4/destinations")]


@trigger("destinations", "Destination ID contains illegal characters")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.delete("/v4/destinations/abc")]


# -- extractions and loads ------------------------------------------------------------------


@trigger(
    "extractions",
    "The provided access token has been disabled, deleted, or doesn't have access to the provided Stitch client ID.",
)
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    other = backend.default_account.id + 1000
    return [
        stitch.get(f"/v4/{other}/extractions"),
        stitch.get(f"/v4/{other}/extractions/x.y.sync.z"),
        stitch.get(
            f"/v4/{backend.default_account.id}/extractions",
            headers={"Authorization": "Bearer nope"},
        ),
    ]


@trigger("extractions", "The requested extraction job doesn't exist.")
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.get(f"/v4/{backend.default_account.id}/extractions/1.2.sync.none")]


@trigger(
    "loads",
    "The provided access token has been disabled, deleted, or doesn't have access to the provided Stitch client ID.",
)
def _(stitch: AppClient, backend: EmulatorBackend) -> list[httpx.Response]:
    return [stitch.get(f"/v4/{backend.default_account.id + 1000}/loads")]


@pytest.mark.parametrize(("resource", "key", "entry"), cases(RESOURCES, TRIGGERS))
def test_documented_error(
    stitch: AppClient, backend: EmulatorBackend, resource: str, key: str, entry: dict[str, Any]
) -> None:
    check(TRIGGERS, stitch, backend, resource, key, entry)


def test_every_trigger_answers_a_documented_error() -> None:
    assert set(TRIGGERS) == {(p.values[0], p.values[1]) for p in cases(RESOURCES, TRIGGERS)}
