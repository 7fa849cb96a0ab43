"""Servers under test as child processes on loopback: start, wait until ready, measure, stop."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

API_KEY = "bench-api-key-" + "a" * 32
SECRET_KEY = "bench-secret-key-" + "b" * 32
STITCH_TOKEN = "ac_" + "b" * 40
APP_ORIGIN = "http://app.bench.test"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """User + system CPU time the server process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_mib(self) -> float:
        """Resident set size of the server process, MiB (Linux /proc)."""
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc status")


def stitch_bridge_command() -> list[str]:
    """The installed `stitch-bridge` script of this environment."""
    beside = Path(sys.executable).with_name("stitch-bridge")
    found = str(beside) if beside.exists() else shutil.which("stitch-bridge")
    if found is None:
        raise RuntimeError("`stitch-bridge` is not installed in this environment (make bench)")
    return [found]


def bridge_environment(
    data_dir: Path, emulator_url: str, port: int, **extra: str
) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(data_dir)),
        "BRIDGE_API_KEYS": API_KEY,
        "BRIDGE_SECRET_KEYS": SECRET_KEY,
        "BRIDGE_ALLOWED_ORIGINS": APP_ORIGIN,
        "BRIDGE_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BRIDGE_DATABASE_URL": f"sqlite+aiosqlite:///{data_dir / 'bridge.db'}",
        "BRIDGE_LOG_FORMAT": "json",
        "STITCH_ACCESS_TOKEN": STITCH_TOKEN,
        "STITCH_API_URL": emulator_url,
        "STITCH_APP_URL": emulator_url,
        "STITCH_JS_URL": f"{emulator_url}/stitch.js",
    }
    env.update(extra)
    return env


def spawn(
    name: str, argv: list[str], port: int, *, env: dict[str, str] | None, log: Path, cwd: Path
) -> Server:
    with open(log, "ab") as out:
        process = subprocess.Popen(
            argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    return Server(name, port, process)


def wait_ready(
    server: Server, path: str = "/healthz", *, any_status: bool = False, timeout: float = 30.0
) -> float:
    """Poll until `path` answers 200 (or anything, with `any_status`); seconds it took."""
    started = time.perf_counter()
    deadline = started + timeout
    with httpx.Client(timeout=1.0) as client:
        while True:
            if server.process.poll() is not None:
                raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
            try:
                response = client.get(f"{server.url}{path}")
                if response.status_code == 200 or any_status:
                    return time.perf_counter() - started
            except httpx.TransportError:
                pass
            if time.perf_counter() > deadline:
                raise RuntimeError(f"{server.name} was not ready after {timeout} s")
            time.sleep(0.005)


def stop(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@contextlib.contextmanager
def running(
    name: str,
    argv: list[str],
    *,
    port: int,
    work_dir: Path,
    env: dict[str, str] | None = None,
    ready_path: str = "/healthz",
    any_status: bool = False,
) -> Iterator[Server]:
    server = spawn(name, argv, port, env=env, log=work_dir / f"{name}.log", cwd=work_dir)
    try:
        wait_ready(server, ready_path, any_status=any_status)
        yield server
    finally:
        stop(server)


@dataclass(frozen=True)
class Stack:
    """uvicorn's event loop and HTTP parser, named so that each row can say which it used."""

    loop: str
    http: str

    @property
    def label(self) -> str:
        return f"{self.loop} + {self.http}"

    def argv(self) -> list[str]:
        return ["--loop", self.loop, "--http", self.http]


PURE_PYTHON = Stack("asyncio", "h11")
FAST = Stack("uvloop", "httptools")


def fast_stack_installed() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("uvloop", "httptools"))


def auto_stack() -> Stack:
    """What uvicorn's `auto` (and so `stitch-bridge serve`) picks in this environment."""
    return FAST if fast_stack_installed() else PURE_PYTHON


def pin(pid: int, cpus: set[int]) -> None:
    """Bind every thread of `pid` to `cpus` (children forked later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task.name), cpus)


def python_module(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]


def module_environment() -> dict[str, str]:
    """The environment for `python -m bench.…` children started outside the checkout."""
    return {**os.environ, "PYTHONPATH": str(ROOT)}


@contextlib.contextmanager
def emulator(
    work_dir: Path, *, rate: float | None = None, burst: int = 1, check_delay: float = 0.0
) -> Iterator[Server]:
    port = free_port()
    argv = python_module("bench.apps", "emulator", "--port", str(port), "--token", STITCH_TOKEN)
    argv += ["--check-delay", str(check_delay)]
    if rate is not None:
        argv += ["--rate", str(rate), "--burst", str(burst)]
    with running(
        "emulator",
        argv,
        port=port,
        work_dir=work_dir,
        env=module_environment(),
        ready_path="/_emulator/state",
    ) as server:
        yield server


@contextlib.contextmanager
def bridge(
    work_dir: Path, emulator_url: str, *, name: str = "bridge", **settings: str
) -> Iterator[Server]:
    port = free_port()
    env = bridge_environment(work_dir, emulator_url, port, **settings)
    argv = [*stitch_bridge_command(), "serve", "--port", str(port)]
    with running(name, argv, port=port, work_dir=work_dir, env=env, ready_path="/readyz") as s:
        yield s


@contextlib.contextmanager
def bridge_on(work_dir: Path, emulator_url: str, stack: Stack, **settings: str) -> Iterator[Server]:
    """The bridge as `serve` builds it, under a named loop and parser (`python -m bench.apps`)."""
    port = free_port()
    env = {**bridge_environment(work_dir, emulator_url, port, **settings), "PYTHONPATH": str(ROOT)}
    argv = python_module("bench.apps", "bridge", "--port", str(port), *stack.argv())
    with running("bridge", argv, port=port, work_dir=work_dir, env=env, ready_path="/readyz") as s:
        yield s


@contextlib.contextmanager
def baseline(work_dir: Path, stack: Stack | None = None) -> Iterator[Server]:
    port = free_port()
    argv = python_module("bench.apps", "baseline", "--port", str(port))
    if stack is not None:
        argv += stack.argv()
    with running(
        "baseline",
        argv,
        port=port,
        work_dir=work_dir,
        env=module_environment(),
        ready_path="/",
        any_status=True,
    ) as server:
        yield server
