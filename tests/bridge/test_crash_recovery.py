"""Kill the bridge (a real process) while it creates sources; after a restart nothing is doubled,
nothing is orphaned, and every event still reaches the webhook receiver."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.bridge.conftest import API_KEY, APP_ORIGIN, STITCH_TOKEN
from tests.bridge.processes import Bridge, bridge_env
from tests.live import free_port, serve

USERS = [f"crash-user-{n}" for n in range(6)]
pytestmark = pytest.mark.slow


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[str]]]:
    received: list[str] = []

    async def hook(request: Request) -> Response:
        received.append((await request.json())["id"])
        return JSONResponse({"ok": True})

    with serve(Starlette(routes=[Route("/hooks", hook, methods=["POST"])])) as server:
        yield f"{server.url}/hooks", received


def test_a_killed_bridge_leaves_exactly_one_source_per_end_user_and_loses_no_event(
    tmp_path: Path, receiver: tuple[str, list[str]]
) -> None:
    hook_url, received = receiver
    emulator_app = create_emulator(EmulatorConfig(token=STITCH_TOKEN, check_delay=2.0))
    with serve(emulator_app) as emulator:
        port = free_port()
        database = tmp_path / "bridge.db"
        env = bridge_env(
            emulator.url,
            port,
            database,
            BRIDGE_WEBHOOK_URL=hook_url,
            BRIDGE_WEBHOOK_SECRET="whsec_" + "c" * 30,
        )
        bridge = Bridge(env, port, tmp_path)
        bridge.start()
        try:
            backend = httpx.Client(
                base_url=bridge.url, headers={"Authorization": f"Bearer {API_KEY}"}
            )
            tokens = {
                user: backend.post(
                    "/v1/connect-sessions", json={"end_user": {"id": user}, "ttl": 3600}
                ).json()["token"]
                for user in USERS
            }
            # Stitch creates each source at once but its answer is held back: the bridge dies
            # while waiting for it, with every intent written and no ownership recorded.
            httpx.post(
                f"{emulator.url}/_emulator/faults",
                json={
                    "method": "POST",
                    "path": "/v4/sources",
                    "status": None,
                    "delay": 30,
                    "count": len(USERS),
                    "after": True,
                },
            ).raise_for_status()

            def create(user: str) -> Any:
                try:
                    return httpx.post(
                        f"{bridge.url}/v1/sources",
                        json={"type": "platform.recurly"},
                        headers={
                            "Authorization": f"Bearer {tokens[user]}",
                            "Origin": APP_ORIGIN,
                            "Idempotency-Key": f"key-{user}",
                        },
                        timeout=60,
                    )
                except httpx.TransportError as error:
                    return error

            threads = [threading.Thread(target=create, args=(u,)) for u in USERS]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while len(httpx.get(f"{emulator.url}/_emulator/state").json()["sources"]) < len(USERS):
                assert time.monotonic() < deadline, "Stitch never got the create calls"
                time.sleep(0.05)
            bridge.kill()
            for thread in threads:
                thread.join(timeout=30)
            with sqlite3.connect(database) as db:
                assert db.execute("SELECT count(*) FROM sources").fetchone()[0] == 0
                assert db.execute(
                    "SELECT count(*) FROM creation_intents WHERE state = 'pending'"
                ).fetchone()[0] == len(USERS)

            bridge.start()  # the reconciler adopts what Stitch made
            for user in USERS:  # and the widgets' retries find their sources
                response = httpx.post(
                    f"{bridge.url}/v1/sources",
                    json={"type": "platform.recurly"},
                    headers={
                        "Authorization": f"Bearer {tokens[user]}",
                        "Origin": APP_ORIGIN,
                        "Idempotency-Key": f"key-{user}",
                    },
                    timeout=60,
                )
                assert response.status_code == 200, response.text
                assert response.json()["source"]["end_user_id"] == user

            stitch_sources = httpx.get(f"{emulator.url}/_emulator/state").json()["sources"]
            assert len(stitch_sources) == len(USERS), "a retry or the restart made a duplicate"
            owned = {}
            for user in USERS:
                data = backend.get(f"/v1/end-users/{user}/sources").json()["data"]
                assert len(data) == 1, f"{user} has {len(data)} sources"
                owned[user] = data[0]["id"]
            assert sorted(owned.values()) == sorted(s["id"] for s in stitch_sources)

            with sqlite3.connect(database) as db:
                event_ids = {row[0] for row in db.execute("SELECT id FROM events")}
            assert len(event_ids) >= len(USERS)
            deadline = time.monotonic() + 30
            while not event_ids <= set(received):
                assert time.monotonic() < deadline, "some events were never delivered"
                time.sleep(0.1)
            with sqlite3.connect(database) as db:
                assert (
                    db.execute("SELECT count(*) FROM events WHERE delivered_at IS NULL").fetchone()[
                        0
                    ]
                    == 0
                )
            backend.close()
        finally:
            bridge.stop()
