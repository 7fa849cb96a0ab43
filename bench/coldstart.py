"""Cold start: from exec of `stitch-bridge serve` (fresh SQLite file, so migrations included) to
the first `/readyz` 200; beside it, the bare Starlette app's exec to its first answer."""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

from bench import procs
from bench.report import Row

TARGET = 1.0


def _once(
    work_dir: Path, argv: list[str], env: dict[str, str], path: str, any_status: bool
) -> float:
    port = int(argv[-1])
    started = time.perf_counter()
    server = procs.spawn(
        "coldstart", argv, port, env=env, log=work_dir / "coldstart.log", cwd=work_dir
    )
    try:
        procs.wait_ready(server, path, any_status=any_status)
        return time.perf_counter() - started
    finally:
        procs.stop(server)


def run(work_dir: Path, *, runs: int) -> list[Row]:
    bridge_times = []
    baseline_times = []
    for n in range(runs):
        data = work_dir / f"cold-{n}"
        data.mkdir()
        port = procs.free_port()
        env = procs.bridge_environment(data, "http://127.0.0.1:9", port)
        argv = [*procs.stitch_bridge_command(), "serve", "--port", str(port)]
        bridge_times.append(_once(data, argv, env, "/readyz", False))
        port = procs.free_port()
        argv = procs.python_module("bench.apps", "baseline", "--port", str(port))
        baseline_times.append(_once(data, argv, procs.module_environment(), "/", True))
        shutil.rmtree(data, ignore_errors=True)
    bridge = statistics.median(bridge_times)
    baseline = statistics.median(baseline_times)
    return [
        Row(
            "cold start of `stitch-bridge serve` to /readyz 200",
            bridge,
            "s",
            baseline,
            "bare app to first answer",
            bridge / baseline,
            f"< {TARGET:g} s",
            bridge < TARGET,
            note=f"median of {runs}",
        )
    ]
