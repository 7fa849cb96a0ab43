"""The SaaS's own tests, offline: the stitch-bridge pytest plugin gives a bridge on an emulated
Stitch (`stitch_bridge`), real signed webhooks (`webhook_receiver`) and a connected source for an
end user without a browser (`connected_source`). Needs pytest-asyncio for the async tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from saas_app import create_app

from stitch_bridge_client import AsyncClient, Webhook

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def saas(stitch_bridge, webhook_receiver) -> AsyncIterator[httpx.AsyncClient]:
    """The SaaS backend, in-process, talking to the test bridge with its API key."""
    async with AsyncClient(stitch_bridge.url, stitch_bridge.api_key) as bridge:
        app = create_app(bridge, webhook_secret=webhook_receiver.secret)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://saas") as client:
            yield client


async def forward(saas: httpx.AsyncClient, delivery) -> httpx.Response:
    """Hand a delivery the bridge really made to the SaaS's webhook route, signature and all."""
    headers = {"Bridge-Signature": delivery.headers["bridge-signature"]}
    return await saas.post("/webhooks/stitch-bridge", content=delivery.body, headers=headers)


async def test_a_connected_source_shows_up_for_its_user_only(
    saas, connected_source, webhook_receiver
) -> None:
    source = connected_source("alice", "platform.recurly")
    for delivery in webhook_receiver.deliveries:
        assert (await forward(saas, delivery)).status_code == 204

    alice = await saas.get("/api/connections", headers={"X-User": "alice"})
    assert alice.json() == {"connected": [source.id]}
    bob = await saas.get("/api/connections", headers={"X-User": "bob"})
    assert bob.json() == {"connected": []}


async def test_a_redelivered_event_is_counted_once(saas, connected_source, webhook_receiver):
    source = connected_source("alice", "platform.hubspot")
    connected = next(
        d for d in webhook_receiver.deliveries if d.event["type"] == "source.connected"
    )
    await forward(saas, connected)
    await forward(saas, connected)
    answer = await saas.get("/api/connections", headers={"X-User": "alice"})
    assert answer.json() == {"connected": [source.id]}


async def test_a_forged_webhook_is_refused(saas) -> None:
    body = b'{"id": "evt_forged", "type": "source.connected", "data": {}}'
    header = Webhook.sign(body, "not-the-bridge-secret-0123456789")
    answer = await saas.post(
        "/webhooks/stitch-bridge", content=body, headers={"Bridge-Signature": header}
    )
    assert answer.status_code == 400


async def test_the_session_the_saas_mints_works_in_the_widget_api(saas, stitch_bridge) -> None:
    minted = (await saas.post("/api/stitch-session", headers={"X-User": "carol"})).json()
    widget = httpx.get(
        f"{stitch_bridge.url}/v1/session",
        headers={
            "Authorization": f"Bearer {minted['token']}",
            "Origin": stitch_bridge.allowed_origin,
        },
    )
    assert widget.json()["end_user_id"] == "carol"
