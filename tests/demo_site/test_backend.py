"""The demo backend's calls to the bridge go through the Python client, and its webhook
receiver checks signatures with `Webhook.verify` (strict parsing: a bad header is a 400)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from demo_site import DemoConfig, create_app
from stitch_bridge_client import Webhook
from tests.live import serve

SECRET = "demo-webhook-secret-" + "w" * 20
EVENT = json.dumps({"id": "evt_demo", "type": "source.created", "data": {}}).encode()


@pytest.fixture
def seen() -> list[httpx.Request]:
    return []


@pytest.fixture
def demo(seen: list[httpx.Request]) -> Iterator[httpx.Client]:
    def bridge(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/v1/connect-sessions":
            body = {"id": "cs_1", "token": "session-token", "expires_at": "2030-01-01T00:00:00Z"}
            return httpx.Response(201, json=body)
        return httpx.Response(
            503,
            json={"error": {"code": "upstream_unavailable", "message": "Stitch is down"}},
            headers={"Retry-After": "0"},
        )

    config = DemoConfig(
        bridge_url="http://bridge.test", bridge_api_key="k" * 40, webhook_secret=SECRET
    )
    app = create_app(config, transport=httpx.MockTransport(bridge))
    with serve(app) as live, httpx.Client(base_url=live.url) as client:
        client.app = app  # type: ignore[attr-defined]
        yield client


def signed_in(demo: httpx.Client, user: str = "alice") -> dict[str, str]:
    page = demo.get("/", params={"user": user}).text
    token = page.split('<meta name="acme-user" content="', 1)[1].split('"', 1)[0]
    return {"X-Acme-User": token}


def test_the_session_route_mints_through_the_client(
    demo: httpx.Client, seen: list[httpx.Request]
) -> None:
    answer = demo.post("/api/stitch-session", headers=signed_in(demo))
    assert answer.json() == {"token": "session-token", "expires_at": "2030-01-01T00:00:00Z"}
    (request,) = seen
    assert request.headers["user-agent"].startswith("stitch-bridge-client/")
    assert request.headers["idempotency-key"]
    assert json.loads(request.content)["end_user"]["id"] == "alice"


def test_a_bridge_refusal_reaches_the_page_with_its_code_after_the_client_s_retries(
    demo: httpx.Client, seen: list[httpx.Request]
) -> None:
    answer = demo.get("/api/connections", headers=signed_in(demo))
    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "upstream_unavailable"
    assert len(seen) > 1  # a listing is safe to ask again


def post_webhook(demo: httpx.Client, header: bytes, body: bytes = EVENT) -> httpx.Response:
    return demo.post("/webhooks/stitch-bridge", content=body, headers={"Bridge-Signature": header})


def test_a_signed_delivery_is_accepted_and_counted(demo: httpx.Client) -> None:
    answer = post_webhook(demo, Webhook.sign(EVENT, SECRET).encode())
    assert answer.status_code == 204
    assert demo.app.state.webhook_deliveries.count("evt_demo") == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "stamp", [b"\xb2", "\u0661".encode(), b"1e9", b""], ids=["superscript", "arabic", "exp", "none"]
)
def test_a_timestamp_that_is_not_ascii_digits_is_a_400_not_a_500(
    demo: httpx.Client, stamp: bytes
) -> None:
    mac = Webhook.sign(EVENT, SECRET).split("v1=")[1]
    answer = post_webhook(demo, b"t=" + stamp + b",v1=" + mac.encode())
    assert answer.status_code == 400
    assert demo.app.state.webhook_deliveries.rejected == 1  # type: ignore[attr-defined]


def test_a_replayed_delivery_outside_the_window_is_refused(demo: httpx.Client) -> None:
    old = Webhook.sign(EVENT, SECRET, timestamp=int(time.time()) - 301)
    assert post_webhook(demo, old.encode()).status_code == 400
