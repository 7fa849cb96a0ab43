"""The bridge as operators run it: JSON logs with request ids, and a graceful shutdown."""

from __future__ import annotations

import json
import signal
import threading
from pathlib import Path

import httpx

from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.bridge.conftest import APP_ORIGIN, STITCH_TOKEN
from tests.bridge.processes import Bridge, bridge_env
from tests.live import free_port, serve
from tests.waiting import eventually


def test_json_logs_carry_the_request_id_and_shutdown_finishes_in_flight_requests(
    tmp_path: Path,
) -> None:
    with serve(create_emulator(EmulatorConfig(token=STITCH_TOKEN, check_delay=2.0))) as emulator:
        port = free_port()
        bridge = Bridge(bridge_env(emulator.url, port, tmp_path / "bridge.db"), port, tmp_path)
        bridge.start()
        backend = httpx.Client(
            base_url=bridge.url,
            headers={"Authorization": "Bearer " + bridge.env["BRIDGE_API_KEYS"]},
        )
        token = backend.post("/v1/connect-sessions", json={"end_user": {"id": "op"}}).json()[
            "token"
        ]
        widget = httpx.Client(
            base_url=bridge.url,
            headers={"Authorization": f"Bearer {token}", "Origin": APP_ORIGIN},
            timeout=30,
        )
        source_id = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"][
            "id"
        ]

        # One upstream blip (logged as a retry) and then a slow answer: SIGTERM lands mid-request.
        httpx.post(
            f"{emulator.url}/_emulator/faults",
            json={"method": "GET", "path": "/v4/sources/*", "status": 503, "count": 1},
        ).raise_for_status()
        httpx.post(
            f"{emulator.url}/_emulator/faults",
            json={"method": "GET", "path": "/v4/sources/*", "status": None, "delay": 2, "count": 1},
        ).raise_for_status()
        answers: list[httpx.Response] = []
        request = threading.Thread(
            target=lambda: answers.append(
                widget.get(f"/v1/sources/{source_id}", headers={"X-Request-ID": "slow-one"})
            )
        )
        request.start()
        # The delayed fault is taken when the request reaches the emulator: it is in flight.
        eventually(
            lambda: httpx.get(f"{emulator.url}/_emulator/faults").json()["faults"] == [],
            "the slow request to reach Stitch",
        )
        assert bridge.process is not None
        bridge.process.send_signal(signal.SIGTERM)
        request.join(timeout=30)
        # uvicorn re-raises the signal once it has shut down cleanly, so the exit says SIGTERM.
        assert bridge.process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert answers and answers[0].status_code == 200, "the in-flight request was dropped"
        assert answers[0].headers["x-request-id"] == "slow-one"
        # New connections are refused once it has stopped.
        try:
            refused = httpx.get(f"{bridge.url}/healthz", timeout=2).status_code
        except httpx.TransportError:
            refused = None
        assert refused is None
        widget.close()
        backend.close()

    lines = [line for line in bridge.log.read_text().splitlines() if line.startswith("{")]
    records = [json.loads(line) for line in lines]
    assert records, "no JSON log lines"
    assert all({"event", "level", "timestamp"} <= set(r) for r in records)
    retried = [r for r in records if r.get("request_id") == "slow-one"]
    assert retried, "the upstream retry was not logged with its request id"
    assert any("503" in r["event"] for r in retried)
    text = bridge.log.read_text()
    for secret in (
        STITCH_TOKEN,
        bridge.env["BRIDGE_SECRET_KEYS"],
        bridge.env["BRIDGE_API_KEYS"],
        token,
    ):
        assert secret not in text
