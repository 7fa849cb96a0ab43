"""A tenant account the bridge created gets its destination through the bridge (CONTRACT §4.1):
created or updated in Stitch (`/v4/destinations`), shown without its credentials, refused as
`bad_properties` when Stitch refuses it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bridge.conftest import STITCH_TOKEN, Stack
from tests.bridge.partner_stack import PartnerStack, partner_stack

PASSWORD = "warehouse-password-" + "w" * 20
POSTGRES = {
    "type": "postgres",
    "name": "Acme warehouse",
    "properties": {
        "host": "db.acme.example",
        "port": "5432",
        "username": "stitch",
        "database": "acme",
        "password": PASSWORD,
        "encryption_type": "none",
        "ssl": False,
    },
}
SHOWN = {"id", "type", "name", "created_at", "updated_at"}


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        yield stack


def _stored(stack: PartnerStack, account_id: int) -> list[Any]:
    """The account's live destinations as the emulator holds them (credentials included)."""
    world = stack.backend_state.world
    return [d for d in world.destinations if d.account_id == account_id and d.deleted_at is None]


def _put(stack: PartnerStack, tenant: str, body: dict[str, Any]) -> httpx.Response:
    return stack.backend().put(f"/v1/tenants/{tenant}/destination", json=body)


def test_a_new_tenant_account_has_no_destination(partner: PartnerStack) -> None:
    created = partner.create_tenant("acme")
    shown = partner.backend().get("/v1/tenants/acme")
    assert shown.status_code == 200, shown.text
    assert shown.json() == {**created, "destination": None}


def test_put_creates_the_destination_of_the_tenants_own_account(partner: PartnerStack) -> None:
    tenant = partner.create_tenant("acme")
    answer = _put(partner, "acme", POSTGRES)
    assert answer.status_code == 200, answer.text
    destination = answer.json()["destination"]
    assert set(answer.json()) == {"destination"} and set(destination) == SHOWN
    assert (destination["type"], destination["name"]) == ("postgres", "Acme warehouse")
    [stored] = _stored(partner, tenant["stitch_account_id"])
    assert stored.id == destination["id"]
    assert stored.values == POSTGRES["properties"]  # passed through to Stitch as given
    shown = partner.backend().get("/v1/tenants/acme").json()
    assert shown["destination"] == destination


def test_a_second_put_updates_the_same_destination(partner: PartnerStack) -> None:
    tenant = partner.create_tenant("acme")
    first = _put(partner, "acme", POSTGRES).json()["destination"]
    partner.advance(60)
    changed = {**POSTGRES["properties"], "password": "rotated-" + PASSWORD}
    answer = _put(partner, "acme", {"type": "postgres", "properties": changed})
    assert answer.status_code == 200, answer.text
    second = answer.json()["destination"]
    assert second["id"] == first["id"] and second["name"] == "Acme warehouse"
    assert second["updated_at"] > first["updated_at"]
    [stored] = _stored(partner, tenant["stitch_account_id"])
    assert stored.values["password"] == "rotated-" + PASSWORD
    assert len(partner.emulator_requests("/v4/destinations")) == 3  # list, create, list
    assert len(partner.emulator_requests(f"/v4/destinations/{first['id']}")) == 1


def test_another_type_is_refused_and_the_destination_stays(partner: PartnerStack) -> None:
    tenant = partner.create_tenant("acme")
    first = _put(partner, "acme", POSTGRES).json()["destination"]
    answer = _put(partner, "acme", {"type": "snowflake", "properties": {"host": "x"}})
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_properties" and "'postgres'" in error["message"]
    assert "type" in error["details"]
    [stored] = _stored(partner, tenant["stitch_account_id"])
    assert (stored.id, stored.type, stored.values["password"]) == (
        first["id"],
        "postgres",
        PASSWORD,
    )
    assert partner.emulator_requests(f"/v4/destinations/{first['id']}") == []


def test_the_destination_limit_is_bad_properties_with_stitchs_message(
    partner: PartnerStack,
) -> None:
    tenant = partner.create_tenant("acme")
    limited = partner.emulator_http().post("/_emulator/config", json={"destination_limit": 0})
    assert limited.status_code == 200, limited.text
    answer = _put(partner, "acme", POSTGRES)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "bad_properties"
    assert error["message"] == "you are at your destination limit"
    assert _stored(partner, tenant["stitch_account_id"]) == []
    assert partner.backend().get("/v1/tenants/acme").json()["destination"] is None


def test_a_refusal_that_quotes_a_credential_never_returns_it(partner: PartnerStack) -> None:
    partner.create_tenant("acme")
    partner.fault(
        method="POST",
        path="/v4/destinations",
        status=400,
        count=1,
        body=json.dumps(f"could not connect as stitch with password {PASSWORD}"),
        content_type="application/json",  # a bare JSON string, as Stitch's refusals are
    )
    answer = _put(partner, "acme", POSTGRES)
    assert answer.status_code == 422, answer.text
    assert answer.json()["error"]["code"] == "bad_properties"
    assert answer.json()["error"]["message"].startswith("could not connect as")
    assert PASSWORD not in answer.text


def test_a_tenant_without_an_account_has_no_destination_to_set(partner: PartnerStack) -> None:
    assert partner.backend().post("/v1/tenants", json={"id": "later", "link": True}).is_success
    assert partner.backend().get("/v1/tenants/later").json()["destination"] is None
    answer = _put(partner, "later", POSTGRES)
    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "tenant_not_found"
    assert _put(partner, "nobody", POSTGRES).json()["error"]["code"] == "tenant_not_found"
    assert partner.emulator_requests("/v4/destinations") == []


def test_every_invalid_field_is_named_and_stitch_is_not_asked(partner: PartnerStack) -> None:
    partner.create_tenant("acme")
    answer = _put(
        partner,
        "acme",
        {"name": 5, "properties": {"password": ["not", "a", "value"]}, "description": "x"},
    )
    assert answer.status_code == 422, answer.text
    problems = answer.json()["error"]["details"]["fields"]
    assert set(problems) == {"type", "name", "properties.password", "description"}
    missing = _put(partner, "acme", {"type": "postgres"}).json()["error"]["details"]["fields"]
    assert set(missing) == {"properties"}
    assert partner.emulator_requests("/v4/destinations") == []


def test_the_destination_routes_need_the_api_key(partner: PartnerStack) -> None:
    partner.create_tenant("acme")
    browser = partner.browser()
    assert browser.put("/v1/tenants/acme/destination", json=POSTGRES).status_code == 401
    session = partner.widget(tenant="acme")
    assert session.put("/v1/tenants/acme/destination", json=POSTGRES).status_code == 401
    assert partner.emulator_requests("/v4/destinations") == []


def test_the_shared_destination_is_a_single_account_route(partner: PartnerStack) -> None:
    answer = partner.backend().get("/v1/destination")
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "not_found"


# -- single-account mode ---------------------------------------------------------------------


def test_single_account_mode_shows_the_shared_accounts_destination(stack: Stack) -> None:
    assert stack.backend().get("/v1/destination").json() == {"destination": None}
    created = stack.emulator_http().post(
        "/v4/destinations",
        headers={"Authorization": f"Bearer {STITCH_TOKEN}"},
        json=POSTGRES,
    )
    assert created.status_code == 200, created.text
    answer = stack.backend().get("/v1/destination")
    assert answer.status_code == 200, answer.text
    destination = answer.json()["destination"]
    assert set(destination) == SHOWN and destination["id"] == created.json()["id"]
    assert "db.acme.example" not in answer.text  # no property at all, credential or not
    assert stack.backend().put("/v1/tenants/acme/destination", json=POSTGRES).status_code == 404
