"""wrk (a C load generator; Debian's `wrk` package) driven by the Lua scripts beside this file.

The Python load generator in bench/http.py spends more CPU per request than the servers under
test save, and on a two-core machine it competes with them; wrk does not. When wrk is missing
the benchmarks that can fall back to the Python generator do so and say it in their rows.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
MINT_SCRIPT = HERE / "wrk_mint.lua"
POLL_SCRIPT = HERE / "wrk_poll.lua"
MISSING = "wrk not installed (apt-get install wrk): Python load generator"
_LINE = re.compile(r"^WRK (.*)$", re.MULTILINE)


def available() -> bool:
    return shutil.which("wrk") is not None


@dataclass(frozen=True)
class Result:
    """One wrk run: counts and latency percentiles (ms)."""

    requests: int
    seconds: float
    status_errors: int
    other_errors: int
    p50: float
    p90: float
    p99: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> int:
        return self.status_errors + self.other_errors


def parse(output: str) -> Result:
    found = _LINE.search(output)
    if found is None:
        raise RuntimeError(f"wrk printed no result line:\n{output[-2000:]}")
    fields = {k: int(v) for k, v in (item.split("=") for item in found.group(1).split())}
    return Result(
        fields["requests"],
        fields["duration_us"] / 1e6,
        fields["status_errors"],
        fields["other_errors"],
        fields["p50_us"] / 1000,
        fields["p90_us"] / 1000,
        fields["p99_us"] / 1000,
    )


def command(
    url: str,
    script: Path,
    script_args: list[str],
    *,
    connections: int,
    duration: float,
    threads: int = 2,
) -> list[str]:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError(MISSING)
    return [
        binary,
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
        "--",
        *script_args,
    ]


def start(argv: list[str], cpus: set[int] | None = None) -> subprocess.Popen[str]:
    """Start wrk, bound to `cpus` from its first instruction when given."""

    def bind() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)

    return subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, preexec_fn=bind
    )


def finish(process: subprocess.Popen[str], duration: float) -> Result:
    output, _ = process.communicate(timeout=duration + 60)
    if process.returncode != 0:
        raise RuntimeError(f"wrk exited with {process.returncode}:\n{output[-2000:]}")
    return parse(output)


def mint(
    port: int,
    path: str,
    key: str,
    *,
    connections: int,
    duration: float,
    cpus: set[int] | None = None,
) -> Result:
    """Closed loop of POSTs with a JSON body (wrk_mint.lua)."""
    argv = command(
        f"http://127.0.0.1:{port}{path}",
        MINT_SCRIPT,
        [key],
        connections=connections,
        duration=duration,
    )
    return finish(start(argv, cpus), duration)


def poll_command(
    port: int,
    widget_file: Path,
    *,
    widgets: int,
    pause_ms: int,
    duration: float,
    origin: str | None,
    threads: int = 2,
) -> list[str]:
    """One connection per widget, each polling `pause_ms` after its last answer (wrk_poll.lua)."""
    threads = min(threads, widgets)
    return command(
        f"http://127.0.0.1:{port}/",
        POLL_SCRIPT,
        [str(widget_file), str(threads), str(widgets // threads), str(pause_ms), origin or "-"],
        connections=widgets,
        duration=duration,
        threads=threads,
    )


def widget_file(path: Path, calls: list[tuple[str, str]]) -> Path:
    """Write (path, bearer token) pairs for wrk_poll.lua; tokens are bench-only credentials."""
    path.write_text("".join(f"{url}\t{token}\n" for url, token in calls))
    return path
