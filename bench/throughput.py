"""Connect-session minting against a bare Starlette JSON endpoint, in alternating rounds.

Both run as one uvicorn process with the same options; the load generator runs here. Rounds
alternate (baseline, bridge, baseline, …) and the medians are compared, so that a noisy
neighbour slows both sides rather than one. Server CPU per request, read from /proc, is
reported too: it does not depend on how much of the machine the load generator got.
"""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path
from typing import Any

from bench import procs
from bench.http import closed_loop
from bench.report import Row

TARGET = 0.85


def _mint(n: int) -> tuple[str, str, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {procs.API_KEY}"}
    return "POST", "/v1/connect-sessions", headers, {"end_user": {"id": f"user-{n % 5000}"}}


def _echo(n: int) -> tuple[str, str, dict[str, str], Any]:
    headers = {"Authorization": f"Bearer {procs.API_KEY}"}
    return "POST", "/echo", headers, {"end_user": {"id": f"user-{n % 5000}"}}


def _round(
    server: procs.Server, make: Any, connections: int, duration: float
) -> tuple[float, float]:
    """(requests per second, server CPU microseconds per request) of one round."""
    cpu_before = server.cpu_seconds()
    rate, latencies, errors = asyncio.run(
        closed_loop(server.port, make, connections=connections, duration=duration, warmup=0.0)
    )
    cpu = server.cpu_seconds() - cpu_before
    if errors:
        raise RuntimeError(f"{server.name}: {errors} error answers under load")
    return rate, cpu / max(1, latencies.count) * 1e6


def run(work_dir: Path, *, rounds: int, duration: float, connections: int) -> list[Row]:
    results: dict[str, list[tuple[float, float]]] = {"baseline": [], "bridge": []}
    with (
        procs.baseline(work_dir) as baseline,
        procs.bridge(work_dir, "http://127.0.0.1:9") as bridge,
    ):
        for server, make in ((baseline, _echo), (bridge, _mint)):
            _round(server, make, connections, 1.0)  # warm up: imports, caches, JIT-free paths
        for _ in range(rounds):
            results["baseline"].append(_round(baseline, _echo, connections, duration))
            results["bridge"].append(_round(bridge, _mint, connections, duration))
    base_rate = statistics.median(r for r, _ in results["baseline"])
    mint_rate = statistics.median(r for r, _ in results["bridge"])
    base_cpu = statistics.median(c for _, c in results["baseline"])
    mint_cpu = statistics.median(c for _, c in results["bridge"])
    return [
        Row(
            "bare Starlette + uvicorn JSON endpoint",
            base_rate,
            "req/s",
            base_rate,
            "itself",
            1.0,
            note=f"{connections} connections",
        ),
        Row(
            "connect-session minting throughput",
            mint_rate,
            "req/s",
            base_rate,
            "bare endpoint",
            mint_rate / base_rate,
            f"≥ {TARGET}×",
            mint_rate / base_rate >= TARGET,
            note=f"{connections} connections",
        ),
        Row(
            "server CPU per minted session",
            mint_cpu,
            "µs",
            base_cpu,
            "bare endpoint",
            base_cpu / mint_cpu,
            f"≥ {TARGET}× (capacity)",
            base_cpu / mint_cpu >= TARGET,
            note="ratio = baseline ÷ bridge",
        ),
    ]
