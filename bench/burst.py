"""A burst of end users creating sources at once against a rate-limited Stitch.

The reference documents no rate limit on the endpoints the bridge calls (§8.1: only the
extraction/load "jobs" endpoints, 30 per 10 minutes), so the emulator is put behind a limit of
`rate` calls per second per account (bursts of `burst`), answering 429 + Retry-After beyond it,
and the bridge is given the same limit as its upstream budget (BRIDGE_UPSTREAM_RATE). Every
creation is one upstream call, so no schedule can finish before (users − burst) / rate seconds.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from bench import procs
from bench.http import Connection
from bench.overhead import RECURLY_PROPERTIES
from bench.report import Row

TARGET = 1.10


async def _mint(port: int, users: int) -> list[str]:
    tokens: list[str] = [""] * users
    headers = {"Authorization": f"Bearer {procs.API_KEY}"}

    async def worker(offset: int) -> None:
        async with Connection(port) as connection:
            for n in range(offset, users, 8):
                body = {"end_user": {"id": f"burst-{n}"}}
                reply = await connection.request(
                    "POST", "/v1/connect-sessions", headers=headers, body=body
                )
                tokens[n] = reply.json()["token"]

    await asyncio.gather(*(worker(offset) for offset in range(8)))
    return tokens


async def _burst(port: int, tokens: list[str]) -> tuple[float, list[int]]:
    """Every end user creates a source at the same moment; (seconds to the last answer, statuses)."""
    statuses: list[int] = []

    async def end_user(n: int, token: str) -> None:
        headers = {
            "Authorization": f"Bearer {token}",
            "Origin": procs.APP_ORIGIN,
            "Idempotency-Key": f"burst-{n}",
        }
        body = {"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
        async with Connection(port) as connection:
            reply = await connection.request("POST", "/v1/sources", headers=headers, body=body)
        statuses.append(reply.status)

    started = time.perf_counter()
    await asyncio.gather(*(end_user(n, token) for n, token in enumerate(tokens)))
    return time.perf_counter() - started, statuses


def run(work_dir: Path, *, users: int, rate: float, burst: int) -> list[Row]:
    with (
        procs.emulator(work_dir, rate=rate, burst=burst) as emulator,
        procs.bridge(
            work_dir,
            emulator.url,
            BRIDGE_UPSTREAM_RATE=str(rate),
            BRIDGE_UPSTREAM_BURST="1",
        ) as bridge,
    ):
        tokens = asyncio.run(_mint(bridge.port, users))
        # Let the emulator's bucket fill up again after any setup calls.
        time.sleep(burst / rate + 0.1)
        cpu_before = bridge.cpu_seconds()
        seconds, statuses = asyncio.run(_burst(bridge.port, tokens))
        busy = (bridge.cpu_seconds() - cpu_before) / seconds
        refused = httpx.get(f"{emulator.url}/_bench/limit").json()["refused"]
    errors = sum(1 for status in statuses if status >= 400)
    minimum = max(0, users - burst) / rate
    label = f"{users:,} end users, limit {rate:g}/s"
    return [
        Row(
            "burst of source creations, total time",
            seconds,
            "s",
            minimum,
            "minimum the limit allows",
            seconds / minimum,
            f"≤ {TARGET:.2f}×",
            seconds / minimum <= TARGET,
            note=f"{label}; bridge process {busy:.0%} busy",
        ),
        Row(
            "burst of source creations, user-visible errors",
            errors,
            "",
            None,
            "",
            None,
            "0",
            errors == 0,
            note=f"Stitch refused {refused} calls with 429",
        ),
    ]
