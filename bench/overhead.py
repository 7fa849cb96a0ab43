"""What the bridge adds to a widget call: GET /v1/sources/{id} through the bridge against
GET /v4/sources/{id} straight to the emulator, by 50 concurrent widgets polling as the widget
does (every POLL_MS), each for its own end user's source."""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

import httpx

from bench import procs
from bench.http import Connection, Latencies
from bench.report import Row

POLL_SECONDS = 0.5  # the widget's POLL_MS
RECURLY_PROPERTIES = {
    "start_date": "2018-01-10T00:00:00Z",
    "api_key": "recurly-bench-key",
    "frequency_in_minutes": "60",
    "quota_limit": "30",
    "subdomain": "stitchdata",
}
Call = tuple[str, dict[str, str]]


def prepare(bridge_url: str, widgets: int) -> list[tuple[dict[str, str], int]]:
    """One end user per widget, each with a source waiting at field selection."""
    prepared = []
    with httpx.Client(base_url=bridge_url, timeout=60) as client:
        for n in range(widgets):
            minted = client.post(
                "/v1/connect-sessions",
                json={"end_user": {"id": f"widget-{n}"}},
                headers={"Authorization": f"Bearer {procs.API_KEY}"},
            )
            minted.raise_for_status()
            headers = {
                "Authorization": f"Bearer {minted.json()['token']}",
                "Origin": procs.APP_ORIGIN,
            }
            created = client.post(
                "/v1/sources",
                json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES},
                headers=headers,
            )
            created.raise_for_status()
            source_id = int(created.json()["source"]["id"])
            for _ in range(100):
                polled = client.get(f"/v1/sources/{source_id}", headers=headers).json()
                if polled["source"]["current_step_type"] == "field_selection":
                    break
                time.sleep(0.02)
            else:
                raise RuntimeError(f"source {source_id} did not reach field selection")
            prepared.append((headers, source_id))
    return prepared


async def poll(port: int, calls: list[Call], duration: float) -> list[float]:
    """Each call is one widget: a request every POLL_SECONDS on its own connection."""
    seconds: list[float] = []
    failures: list[int] = []
    loop = asyncio.get_running_loop()
    stop_at = loop.time() + duration

    async def widget(path: str, headers: dict[str, str]) -> None:
        async with Connection(port) as connection:
            await asyncio.sleep(random.random() * POLL_SECONDS)  # widgets do not start in step
            while loop.time() < stop_at:
                began = loop.time()
                reply = await connection.request("GET", path, headers=headers)
                if reply.status != 200:
                    failures.append(reply.status)
                seconds.append(reply.seconds)
                await asyncio.sleep(max(0.0, POLL_SECONDS - (loop.time() - began)))

    await asyncio.gather(*(widget(path, headers) for path, headers in calls))
    if failures:
        raise RuntimeError(f"{len(failures)} widget calls failed: {sorted(set(failures))}")
    return seconds


def run(work_dir: Path, *, widgets: int, duration: float, rounds: int) -> list[Row]:
    direct_seconds: list[float] = []
    bridged: list[float] = []
    emulator_cpu = bridge_cpu = 0.0
    with procs.emulator(work_dir) as emulator, procs.bridge(work_dir, emulator.url) as bridge:
        prepared = prepare(bridge.url, widgets)
        stitch = {"Authorization": f"Bearer {procs.STITCH_TOKEN}"}
        direct_calls = [(f"/v4/sources/{source_id}", stitch) for _, source_id in prepared]
        bridge_calls = [(f"/v1/sources/{source_id}", h) for h, source_id in prepared]
        for _ in range(rounds):
            # Alternating rounds: a noisy neighbour slows both sides, not one.
            before = emulator.cpu_seconds()
            direct_seconds += asyncio.run(poll(emulator.port, direct_calls, duration))
            emulator_cpu += emulator.cpu_seconds() - before
            before = bridge.cpu_seconds()
            bridged += asyncio.run(poll(bridge.port, bridge_calls, duration))
            bridge_cpu += bridge.cpu_seconds() - before
    direct = Latencies.of(direct_seconds)
    through = Latencies.of(bridged)
    load = f"{widgets} widgets polling every {POLL_SECONDS * 1000:.0f} ms"
    bridge_ms = bridge_cpu / len(bridged) * 1000
    emulator_ms = emulator_cpu / len(direct_seconds) * 1000
    return [
        Row(
            "widget call overhead, p50",
            through.p50 - direct.p50,
            "ms",
            direct.p50,
            "emulator direct",
            through.p50 / direct.p50,
            "≤ 1 ms",
            through.p50 - direct.p50 <= 1.0,
            note=load,
        ),
        Row(
            "widget call overhead, p99",
            through.p99 - direct.p99,
            "ms",
            direct.p99,
            "emulator direct",
            through.p99 / direct.p99,
            "≤ 5 ms",
            through.p99 - direct.p99 <= 5.0,
            note=load,
        ),
        Row(
            "server CPU per widget call",
            bridge_ms,
            "ms",
            emulator_ms,
            "emulator, per direct call",
            bridge_ms / emulator_ms,
            note="the bridge's own process; Stitch's work not included",
        ),
    ]
