"""Connect-session minting against a bare Starlette JSON endpoint, in alternating rounds.

Both run as one uvicorn process with the same options, once on the pure-Python stack (asyncio
loop, h11 parser) and once on uvloop + httptools when installed (what `stitch-bridge serve`
picks then); the load comes from wrk (or, without it, the Python generator, and the row says so). Rounds
alternate (baseline, bridge, baseline, …) and the medians are compared, so that a noisy
neighbour slows both sides rather than one. Server CPU per request, read from /proc, is
reported too: it does not depend on how much of the machine the load generator got.
"""

from __future__ import annotations

import asyncio
import statistics
from pathlib import Path
from typing import Any

from bench import procs, wrk
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
    server: procs.Server, path: str, make: Any, connections: int, duration: float
) -> tuple[float, float]:
    """(requests per second, server CPU microseconds per request) of one round."""
    cpu_before = server.cpu_seconds()
    if wrk.available():
        result = wrk.mint(
            server.port, path, procs.API_KEY, connections=connections, duration=duration
        )
        rate, count, errors = result.rate, result.requests, result.errors
    else:
        rate, latencies, errors = asyncio.run(
            closed_loop(server.port, make, connections=connections, duration=duration, warmup=0)
        )
        count = latencies.count
    cpu = server.cpu_seconds() - cpu_before
    if errors:
        raise RuntimeError(f"{server.name}: {errors} error answers under load")
    return rate, cpu / max(1, count) * 1e6


def _measure(
    work_dir: Path, stack: procs.Stack, rounds: int, duration: float, connections: int
) -> dict[str, list[tuple[float, float]]]:
    results: dict[str, list[tuple[float, float]]] = {"baseline": [], "bridge": []}
    with (
        procs.baseline(work_dir, stack) as baseline,
        procs.bridge_on(work_dir, "http://127.0.0.1:9", stack) as bridge,
    ):
        sides = ((baseline, "/echo", _echo), (bridge, "/v1/connect-sessions", _mint))
        for server, path, make in sides:
            _round(server, path, make, connections, 1.0)  # warm up: imports, caches
        for _ in range(rounds):
            for server, path, make in sides:
                name = "baseline" if server is baseline else "bridge"
                results[name].append(_round(server, path, make, connections, duration))
    return results


def run(work_dir: Path, *, rounds: int, duration: float, connections: int) -> list[Row]:
    stacks = [procs.PURE_PYTHON]
    rows: list[Row] = []
    if procs.fast_stack_installed():
        stacks.append(procs.FAST)
    generator = "wrk" if wrk.available() else wrk.MISSING
    for stack in stacks:
        results = _measure(work_dir, stack, rounds, duration, connections)
        rows += _rows(results, f"{stack.label}; {connections} connections; {generator}")
    if not procs.fast_stack_installed():
        rows.append(
            Row(
                "minting on uvloop + httptools",
                float("nan"),
                "",
                note="skipped: not installed (pip install uvicorn[standard])",
            )
        )
    return rows


def _rows(results: dict[str, list[tuple[float, float]]], note: str) -> list[Row]:
    base_rate = statistics.median(r for r, _ in results["baseline"])
    mint_rate = statistics.median(r for r, _ in results["bridge"])
    base_cpu = statistics.median(c for _, c in results["baseline"])
    mint_cpu = statistics.median(c for _, c in results["bridge"])
    return [
        Row(
            "connect-session minting throughput",
            mint_rate,
            "req/s",
            base_rate,
            "bare endpoint",
            mint_rate / base_rate,
            f"≥ {TARGET}×",
            mint_rate / base_rate >= TARGET,
            note=note,
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
            note=f"{note.split(';')[0]}; ratio = baseline ÷ bridge",
        ),
    ]
