"""The test kit's fixtures as a SaaS's tests use them (the plugin is loaded by its pytest11
entry point, as it would be in any project that installs stitch-bridge)."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from bridge.testing import Bridge, Emulator, WebhookReceiver
from stitch_bridge_client import Source, Webhook

pytestmark = pytest.mark.timeout(120)


def test_the_plugin_is_registered_by_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("stitch_bridge")
    assert plugin is not None and plugin.__name__ == "bridge.testing"


def test_the_emulator_answers_in_process_and_on_loopback(stitch_emulator: Emulator) -> None:
    auth = {"Authorization": f"Bearer {stitch_emulator.token}"}
    live = httpx.get(f"{stitch_emulator.url}/v4/source-types", headers=auth)
    assert live.status_code == 200
    assert httpx.get(f"{stitch_emulator.url}/v4/source-types").status_code == 401


async def test_the_emulator_app_serves_in_process(stitch_emulator: Emulator) -> None:
    transport = httpx.ASGITransport(app=stitch_emulator.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as client:
        answer = await client.get("/_emulator/state")
    assert answer.status_code == 200 and "sources" in answer.json()


def test_the_bridge_runs_on_the_emulator_with_its_own_api_key(stitch_bridge: Bridge) -> None:
    client = stitch_bridge.client()
    assert client.end_users.sources("nobody") == []
    session = client.sessions.create(end_user="u1")
    widget = httpx.get(
        f"{stitch_bridge.url}/v1/session",
        headers={
            "Authorization": f"Bearer {session.token}",
            "Origin": stitch_bridge.allowed_origin,
        },
    )
    assert widget.status_code == 200 and widget.json()["end_user_id"] == "u1"
    assert httpx.get(f"{stitch_bridge.url}/v1/events").status_code == 401


def test_the_receiver_keeps_signed_deliveries_and_refuses_forged_ones(
    webhook_receiver: WebhookReceiver,
) -> None:
    body = json.dumps({"id": "evt_x", "type": "source.created", "data": {}})
    good = Webhook.sign(body, webhook_receiver.secret)
    assert httpx.post(webhook_receiver.url, content=body, headers={"Bridge-Signature": good})
    forged = Webhook.sign(body, "not-the-secret-" + "x" * 20)
    refused = httpx.post(webhook_receiver.url, content=body, headers={"Bridge-Signature": forged})
    assert refused.status_code == 400
    assert webhook_receiver.events == [json.loads(body)] and webhook_receiver.rejected == 1


@pytest.mark.parametrize("source_type", ["platform.recurly", "platform.hubspot"])
def test_connected_source_connects_server_side_and_the_signed_webhook_arrives(
    connected_source: Callable[..., Source],
    stitch_bridge: Bridge,
    stitch_emulator: Emulator,
    webhook_receiver: WebhookReceiver,
    source_type: str,
) -> None:
    source = connected_source("alice", source_type)
    assert source.status == "connected" and source.type == source_type
    assert source.current_step_type == "fully_configured" and source.end_user_id == "alice"

    event = webhook_receiver.wait_for("source.connected", source_id=source.id)
    assert event["data"]["end_user_id"] == "alice"
    (listed,) = stitch_bridge.client().end_users.sources("alice")
    assert listed.id == source.id and listed.status == "connected"
    upstream = [s for s in stitch_emulator.state()["sources"] if s["id"] == source.id]
    assert upstream and upstream[0]["report_card"]["current_step_type"] == "fully_configured"


def test_a_delivery_replays_into_the_saas_handler_with_its_real_signature(
    connected_source: Callable[..., Source], webhook_receiver: WebhookReceiver
) -> None:
    source = connected_source("bob", "platform.recurly", streams=["accounts"])
    delivery = next(d for d in webhook_receiver.deliveries if d.event["type"] == "source.connected")
    event = Webhook.verify(
        delivery.body, delivery.headers["bridge-signature"], webhook_receiver.secret
    )
    assert event["data"]["source"]["id"] == source.id


def test_a_missing_form_value_is_named(connected_source: Callable[..., Source]) -> None:
    with pytest.raises(AssertionError, match="properties="):
        connected_source("carol", "platform.recurly", properties={})
