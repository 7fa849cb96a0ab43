"""Answers that carry a credential (session or step token, receipt, link URL) say
`Cache-Control: no-store`, so no browser or proxy cache keeps a copy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.bridge.conftest import APP_ORIGIN, RECURLY_PROPERTIES, Stack
from tests.bridge.partner_stack import partner_stack
from tests.bridge.test_redirect_mode import _back_at_the_saas, _oauth_url


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    return {"step_driver": "stitchjs", "shared_account_stitchjs": True}


def private(response: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers.get("cache-control") == "no-store", response.request.url
    body: dict[str, Any] = response.json()
    return body


def test_every_answer_of_a_connection_carries_no_store(stack: Stack) -> None:
    backend = stack.backend()
    minted = private(backend.post("/v1/connect-sessions", json={"end_user": {"id": "alice"}}), 201)
    widget = stack.widget(minted["token"])
    private(widget.get("/v1/session"))
    created = private(
        widget.post(
            "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
        ),
        201,
    )
    source_id = created["source"]["id"]
    private(widget.put(f"/v1/sources/{source_id}", json={"display_name": "Billing"}))
    stack.advance(3)
    polled = private(widget.get(f"/v1/sources/{source_id}"))
    assert polled["next_step"]["type"] == "field_selection"
    streams = {"streams": [{"tap_stream_id": "accounts", "selected": True}]}
    private(widget.put(f"/v1/sources/{source_id}/streams", json=streams))
    token = polled["next_step"]["token"]
    private(widget.post("/v1/steps/start", json={"token": token}))
    done = private(widget.post("/v1/steps/complete", json={"token": token}))
    assert done["receipt"]
    private(backend.post("/v1/receipts/verify", json={"receipt": done["receipt"]}))
    private(
        backend.post(
            "/v1/connect-links",
            json={"end_user": {"id": "bob"}, "return_url": f"{APP_ORIGIN}/done"},
        ),
        201,
    )


def test_a_resumed_flow_answers_with_no_store(tmp_path: Path) -> None:
    with partner_stack(tmp_path) as partner:
        partner.create_tenant("acme")
        widget = partner.widget(tenant="acme", end_user="alice")
        _, oauth_url = _oauth_url(partner, widget)
        resume_id = _back_at_the_saas(partner, oauth_url)
        private(widget.post("/v1/resume", json={"resume_id": resume_id}))
