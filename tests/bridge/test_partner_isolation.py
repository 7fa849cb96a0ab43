"""Every upstream call acts as the session's tenant; tenants never see each other's sources."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bridge.conftest import RECURLY_PROPERTIES
from tests.bridge.partner_stack import PartnerStack, partner_stack


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        yield stack


def _upstream_sources(stack: PartnerStack, token: str) -> list[int]:
    answer = stack.emulator_http().get("/v4/sources", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    return [s["id"] for s in answer.json()]


def _token_of(stack: PartnerStack, account_id: int) -> str:
    [account] = [a for a in stack.accounts() if a["id"] == account_id]
    return str(account["access_token"])


def test_each_tenants_sources_live_in_its_own_stitch_account(partner: PartnerStack) -> None:
    acme = partner.create_tenant("acme")
    rival = partner.create_tenant("rival")
    made = partner.widget(tenant="acme", end_user="sam").post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    assert made.status_code == 201, made.text
    source_id = made.json()["source"]["id"]
    assert made.json()["source"]["tenant"] == "acme"
    [upstream] = [s for s in partner.state()["sources"] if s["id"] == source_id]
    assert upstream["stitch_client_id"] == acme["stitch_account_id"]
    assert source_id in _upstream_sources(partner, _token_of(partner, acme["stitch_account_id"]))
    assert _upstream_sources(partner, _token_of(partner, rival["stitch_account_id"])) == []


def test_the_same_end_user_id_in_another_tenant_sees_nothing(partner: PartnerStack) -> None:
    partner.create_tenant("acme")
    partner.create_tenant("rival")
    made = partner.widget(tenant="acme", end_user="sam").post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    source_id = made.json()["source"]["id"]
    other = partner.widget(tenant="rival", end_user="sam")
    for method, path in (
        ("GET", f"/v1/sources/{source_id}"),
        ("PUT", f"/v1/sources/{source_id}"),
        ("GET", f"/v1/sources/{source_id}/streams"),
    ):
        answer = other.request(method, path, json={} if method == "PUT" else None)
        assert answer.status_code == 404, (path, answer.text)
        assert answer.json()["error"]["code"] == "source_not_found"
    backend = partner.backend()
    assert backend.get("/v1/end-users/sam/sources", params={"tenant": "rival"}).json() == {
        "data": []
    }
    listed = backend.get("/v1/end-users/sam/sources", params={"tenant": "acme"}).json()["data"]
    assert [s["id"] for s in listed] == [source_id]
    deleted = backend.delete(f"/v1/end-users/sam/sources/{source_id}", params={"tenant": "rival"})
    assert deleted.status_code == 404
    assert source_id in [s["id"] for s in partner.state()["sources"] if not s["deleted_at"]]


def test_a_session_scoped_to_another_tenants_source_cannot_be_minted(
    partner: PartnerStack,
) -> None:
    partner.create_tenant("acme")
    partner.create_tenant("rival")
    made = partner.widget(tenant="acme", end_user="sam").post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    answer = partner.backend().post(
        "/v1/connect-sessions",
        json={
            "end_user": {"id": "sam"},
            "tenant": "rival",
            "source_id": made.json()["source"]["id"],
        },
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "source_not_found"


def test_a_session_for_a_tenant_without_an_account_is_tenant_not_found(
    partner: PartnerStack,
) -> None:
    partner.backend().post("/v1/tenants", json={"id": "unlinked", "link": True})
    for tenant in ("nobody", "unlinked"):
        minted = partner.backend().post(
            "/v1/connect-sessions", json={"end_user": {"id": "sam"}, "tenant": tenant}
        )
        if minted.status_code == 201:
            # Minting may not check the tenant; the first use does, before anything upstream.
            widget = partner.widget(token=minted.json()["token"])
            answer = widget.get("/v1/source-types")
        else:
            answer = minted
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["code"] == "tenant_not_found"


def test_the_tenants_token_is_stored_encrypted(partner: PartnerStack) -> None:
    acme = partner.create_tenant("acme")
    token = _token_of(partner, acme["stitch_account_id"])
    with sqlite3.connect(partner.database) as db:
        [(stored, account_id)] = db.execute(
            "SELECT access_token, stitch_account_id FROM tenants WHERE id = 'acme'"
        ).fetchall()
    assert account_id == acme["stitch_account_id"]
    assert token not in stored and stored.startswith("gAAAA")  # a Fernet token
