"""Resident size of the bridge after many connect sessions, each minted and then used once.

Minting writes nothing; the first use of a session records it (one row) and remembers it in a
bounded in-process set, so memory should level off while the database grows.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from bench import procs
from bench.http import Connection
from bench.report import Row

TARGET = 1.10
CONNECTIONS = 16


async def _sessions(port: int, start: int, count: int) -> None:
    minting = {"Authorization": f"Bearer {procs.API_KEY}"}

    async def worker(offset: int) -> None:
        async with Connection(port) as connection:
            for n in range(start + offset, start + count, CONNECTIONS):
                body = {"end_user": {"id": f"memory-{n}"}}
                minted = await connection.request(
                    "POST", "/v1/connect-sessions", headers=minting, body=body
                )
                if minted.status != 201:
                    raise RuntimeError(f"minting answered {minted.status}")
                using = {
                    "Authorization": f"Bearer {minted.json()['token']}",
                    "Origin": procs.APP_ORIGIN,
                }
                used = await connection.request("GET", "/v1/session", headers=using)
                if used.status != 200:
                    raise RuntimeError(f"using a session answered {used.status}")

    await asyncio.gather(*(worker(offset) for offset in range(CONNECTIONS)))


def run(work_dir: Path, *, first: int, second: int) -> list[Row]:
    with procs.bridge(work_dir, "http://127.0.0.1:9") as bridge:
        started = bridge.rss_mib()
        asyncio.run(_sessions(bridge.port, 0, first))
        after_first = bridge.rss_mib()
        asyncio.run(_sessions(bridge.port, first, second - first))
        after_second = bridge.rss_mib()
    growth = after_second / after_first
    return [
        Row(
            f"resident memory after {second:,} sessions",
            after_second,
            "MiB",
            after_first,
            f"after {first:,}",
            growth,
            f"< {TARGET:.2f}×",
            growth < TARGET,
            note=f"{started:.0f} MiB at start",
        )
    ]
