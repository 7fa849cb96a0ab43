"""Partner mode: each tenant gets its own Stitch client account, exactly once."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.bridge.conftest import API_KEY, Stack
from tests.bridge.partner_stack import OWNER, PARTNER_SECRET, PartnerStack, partner_stack


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        yield stack


def _accounts_with(stack: PartnerStack, email: str) -> list[dict[str, Any]]:
    return [a for a in stack.accounts() if a["email"] == email]


def test_a_new_tenant_gets_its_own_stitch_account(partner: PartnerStack) -> None:
    before = len(partner.accounts())
    created = partner.backend().post(
        "/v1/tenants", json={"id": "acme", "email": "ada@acme.example", **OWNER}
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert set(body) == {"id", "stitch_account_id", "status"}
    assert body["id"] == "acme" and body["status"] == "connected"
    [account] = _accounts_with(partner, "ada@acme.example")
    assert account["id"] == body["stitch_account_id"]
    assert (account["first_name"], account["company"]) == ("Ada", "Acme Corp")
    assert len(partner.accounts()) == before + 1
    assert account["access_token"] not in created.text
    shown = partner.backend().get("/v1/tenants/acme")
    assert shown.status_code == 200 and shown.json() == {**body, "destination": None}


def test_partner_credentials_go_in_the_body_of_post_v3_accounts(partner: PartnerStack) -> None:
    partner.create_tenant("acme")
    [call] = partner.emulator_requests("/v3/accounts")
    assert call["authorization"] is None
    assert call["body"]["partner_secret"] == PARTNER_SECRET
    assert call["body"]["region"] == "us-east-1"


def test_an_existing_id_is_tenant_exists_and_no_second_account(partner: PartnerStack) -> None:
    partner.create_tenant("acme", email="first@acme.example")
    count = len(partner.accounts())
    again = partner.backend().post(
        "/v1/tenants", json={"id": "acme", "email": "second@acme.example", **OWNER}
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "tenant_exists"
    assert len(partner.accounts()) == count
    assert len(partner.emulator_requests("/v3/accounts")) == 1


def test_concurrent_creations_of_one_tenant_make_one_account(partner: PartnerStack) -> None:
    partner.fault(method="POST", path="/v3/accounts", status=None, delay=0.5, count=1)
    results: list[int] = []

    def create(n: int) -> None:
        with partner.http() as client:
            answer = client.post(
                "/v1/tenants",
                headers={"Authorization": f"Bearer {API_KEY}"},
                json={"id": "race", "email": f"race{n}@example.com", **OWNER},
            )
        results.append(answer.status_code)

    threads = [threading.Thread(target=create, args=(n,)) for n in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [201, 409, 409, 409, 409]
    assert len(partner.emulator_requests("/v3/accounts")) == 1
    assert partner.backend().get("/v1/tenants/race").json()["status"] == "connected"


def test_a_lost_answer_is_reconciled_on_retry_without_a_second_account(
    partner: PartnerStack,
) -> None:
    # Stitch made the account, but its answer never reached the bridge.
    partner.fault(method="POST", path="/v3/accounts", status=504, count=1, after=True)
    body = {"id": "lost", "email": "lost@example.com", **OWNER}
    first = partner.backend().post("/v1/tenants", json=body)
    assert first.status_code in (502, 504), first.text
    assert len(_accounts_with(partner, "lost@example.com")) == 1

    retry = partner.backend().post("/v1/tenants", json=body)
    assert retry.status_code == 400, retry.text
    assert retry.json()["error"]["details"]["tenant_status"] == "unlinked"
    assert "authorize-url" in retry.json()["error"]["message"]
    assert len(_accounts_with(partner, "lost@example.com")) == 1
    assert partner.backend().get("/v1/tenants/lost").json() == {
        "id": "lost",
        "stitch_account_id": None,
        "status": "unlinked",
        "destination": None,
    }
    third = partner.backend().post("/v1/tenants", json=body)
    assert third.json()["error"]["code"] == "tenant_exists"


def test_a_call_that_never_reached_stitch_is_retried_to_success(partner: PartnerStack) -> None:
    partner.fault(method="POST", path="/v3/accounts", status=503, count=1)
    body = {"id": "flaky", "email": "flaky@example.com", **OWNER}
    first = partner.backend().post("/v1/tenants", json=body)
    assert first.json()["error"]["code"] == "upstream_unavailable"
    retry = partner.backend().post("/v1/tenants", json=body)
    assert retry.status_code == 201, retry.text
    assert len(_accounts_with(partner, "flaky@example.com")) == 1


def test_a_creation_in_flight_holds_its_id_until_its_lease_ends(partner: PartnerStack) -> None:
    # A creator that died mid-call leaves a pending row: refused while leased, then taken over.
    with sqlite3.connect(partner.database) as db:
        now = partner.clock.time()
        db.execute(
            "INSERT INTO tenants (id, status, lease_until, created_at, updated_at) "
            "VALUES ('crashed', 'pending', ?, ?, ?)",
            (now + 60, now, now),
        )
    body = {"id": "crashed", "email": "crashed@example.com", **OWNER}
    assert partner.backend().post("/v1/tenants", json=body).status_code == 409
    partner.clock.advance(61)
    assert partner.backend().post("/v1/tenants", json=body).status_code == 201


def test_an_email_with_a_stitch_account_leaves_the_tenant_to_link(partner: PartnerStack) -> None:
    partner.create_tenant("one", email="shared@example.com")
    taken = partner.backend().post(
        "/v1/tenants", json={"id": "two", "email": "shared@example.com", **OWNER}
    )
    assert taken.status_code == 400
    assert taken.json()["error"]["details"]["email"] == "already has a Stitch account"
    assert partner.backend().get("/v1/tenants/two").json()["status"] == "unlinked"


def test_refused_creations_leave_no_tenant_behind(partner: PartnerStack) -> None:
    partner.fault(
        method="POST",
        path="/v3/accounts",
        status=400,
        count=1,
        body={"code": "BadRequest", "message": "Invalid form data.", "errors": {"email": "bad"}},
    )
    body = {"id": "refused", "email": "refused@example.com", **OWNER}
    refused = partner.backend().post("/v1/tenants", json=body)
    assert refused.json()["error"]["code"] == "invalid_request"
    assert partner.backend().get("/v1/tenants/refused").status_code == 404
    assert partner.backend().post("/v1/tenants", json=body).status_code == 201


def test_a_tenant_to_link_needs_no_owner(partner: PartnerStack) -> None:
    created = partner.backend().post("/v1/tenants", json={"id": "later", "link": True})
    assert created.status_code == 201, created.text
    assert created.json() == {"id": "later", "stitch_account_id": None, "status": "unlinked"}
    assert partner.emulator_requests("/v3/accounts") == []


def test_every_invalid_field_is_named(partner: PartnerStack) -> None:
    answer = partner.backend().post(
        "/v1/tenants", json={"email": "nope", "first_name": 3, "region": "mars", "extra": 1}
    )
    assert answer.status_code == 422
    problems = answer.json()["error"]["details"]["fields"]
    assert set(problems) == {"id", "email", "first_name", "last_name", "company", "region", "extra"}


def test_unknown_tenants_are_tenant_not_found(partner: PartnerStack) -> None:
    for method, path in (
        ("GET", "/v1/tenants/nobody"),
        ("POST", "/v1/tenants/nobody/authorize-url"),
    ):
        answer = partner.backend().request(method, path)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error"]["code"] == "tenant_not_found"


def test_tenant_routes_need_the_api_key(partner: PartnerStack) -> None:
    widget = partner.browser()
    assert widget.post("/v1/tenants", json={"id": "x", "link": True}).status_code == 401
    assert widget.get("/v1/tenants/x").status_code == 401
    partner.create_tenant("acme")
    session = partner.widget(tenant="acme")  # a connect-session token is not an API key
    assert session.get("/v1/tenants/acme").status_code == 401


def test_tenants_do_not_exist_in_single_account_mode(stack: Stack) -> None:
    answer = stack.backend().post("/v1/tenants", json={"id": "acme", "link": True})
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
