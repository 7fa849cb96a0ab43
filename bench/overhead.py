"""What the bridge adds to a widget call: GET /v1/sources/{id} through the bridge against
GET /v4/sources/{id} straight to the emulator, by 50 concurrent widgets polling as the widget
does (every POLL_MS), each for its own end user's source, in alternating rounds (bridge, direct,
bridge, …). Two scenarios: sources waiting at field selection (settled), and sources just created
whose connection check is still running (unfinished: the emulator's check takes an hour), which
is what a widget polls while an end user waits.

The load comes from wrk (wrk_poll.lua: one connection per widget, a 500 ms pause after each
answer) so that the client's own CPU does not show up as latency; without wrk the Python
generator paces the widgets and the rows say so. Percentiles are per round (wrk reports them per
run); the figure is the median over the rounds of each side.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench import procs, wrk
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


UNFINISHED_CHECK_SECONDS = 3600.0  # longer than any run: every check stays running


def prepare(
    bridge_url: str, widgets: int, *, settle: bool = True
) -> list[tuple[dict[str, str], int]]:
    """One end user per widget, each with a source waiting at field selection (`settle`) or
    just created, its connection check running."""
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
            prepared.append((headers, source_id))
            if not settle:
                continue
            for _ in range(100):
                polled = client.get(f"/v1/sources/{source_id}", headers=headers).json()
                if polled["source"]["current_step_type"] == "field_selection":
                    break
                time.sleep(0.02)
            else:
                raise RuntimeError(f"source {source_id} did not reach field selection")
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


@dataclass
class Side:
    """What one side (through the bridge, or straight to Stitch) measured over its rounds."""

    server: procs.Server
    calls: list[Call]
    origin: str | None
    p50: list[float] = field(default_factory=list)
    p99: list[float] = field(default_factory=list)
    requests: int = 0
    seconds: float = 0.0
    cpu: float = 0.0

    def measure(self, duration: float, work_dir: Path) -> None:
        before = self.server.cpu_seconds()
        if wrk.available():
            listed = [(path, h["Authorization"].removeprefix("Bearer ")) for path, h in self.calls]
            widget_file = wrk.widget_file(work_dir / f"{self.server.name}-widgets.tsv", listed)
            argv = wrk.poll_command(
                self.server.port,
                widget_file,
                widgets=len(self.calls),
                pause_ms=round(POLL_SECONDS * 1000),
                duration=duration,
                origin=self.origin,
            )
            result = wrk.finish(wrk.start(argv), duration)
            if result.errors:
                raise RuntimeError(f"{result.errors} widget calls to {self.server.name} failed")
            count, p50, p99 = result.requests, result.p50, result.p99
        else:
            latencies = Latencies.of(asyncio.run(poll(self.server.port, self.calls, duration)))
            count, p50, p99 = latencies.count, latencies.p50, latencies.p99
        self.cpu += self.server.cpu_seconds() - before
        self.requests += count
        self.seconds += duration
        self.p50.append(p50)
        self.p99.append(p99)

    def cpu_ms(self) -> float:
        return self.cpu / max(1, self.requests) * 1000


def run(
    work_dir: Path, *, widgets: int, duration: float, rounds: int, unfinished: bool = False
) -> list[Row]:
    check_delay = UNFINISHED_CHECK_SECONDS if unfinished else 0.0
    with (
        procs.emulator(work_dir, check_delay=check_delay) as emulator,
        procs.bridge(work_dir, emulator.url) as bridge,
    ):
        prepared = prepare(bridge.url, widgets, settle=not unfinished)
        stitch = {"Authorization": f"Bearer {procs.STITCH_TOKEN}"}
        direct = Side(emulator, [(f"/v4/sources/{i}", stitch) for _, i in prepared], None)
        through = Side(bridge, [(f"/v1/sources/{i}", h) for h, i in prepared], procs.APP_ORIGIN)
        for _ in range(rounds):
            # Alternating rounds: a noisy neighbour slows both sides, not one.
            through.measure(duration, work_dir)
            direct.measure(duration, work_dir)
        if unfinished:
            _still_unfinished(bridge.url, prepared[0])
    what = "unfinished sources, check running" if unfinished else "sources at field selection"
    generator = "wrk" if wrk.available() else wrk.MISSING
    load = (
        f"{what}; {widgets} widgets every {POLL_SECONDS * 1000:.0f} ms; "
        f"{procs.auto_stack().label}; {generator}"
    )
    return _rows(through, direct, load, "unfinished" if unfinished else "settled")


def _still_unfinished(bridge_url: str, widget: tuple[dict[str, str], int]) -> None:
    """The scenario is void if the check finished during the run: say so rather than report."""
    headers, source_id = widget
    answer = httpx.get(f"{bridge_url}/v1/sources/{source_id}", headers=headers, timeout=30).json()
    if answer["source"].get("status") != "connecting":
        raise RuntimeError("the unfinished sources finished their check during the run")


def _rows(through: Side, direct: Side, load: str, scenario: str) -> list[Row]:
    p50, p50_direct = statistics.median(through.p50), statistics.median(direct.p50)
    p99, p99_direct = statistics.median(through.p99), statistics.median(direct.p99)
    return [
        Row(
            f"widget call overhead, p50, {scenario}",
            p50 - p50_direct,
            "ms",
            p50_direct,
            "emulator direct",
            p50 / p50_direct,
            "≤ 1 ms",
            p50 - p50_direct <= 1.0,
            note=load,
        ),
        Row(
            f"widget call overhead, p99, {scenario}",
            p99 - p99_direct,
            "ms",
            p99_direct,
            "emulator direct",
            p99 / p99_direct,
            "≤ 5 ms",
            p99 - p99_direct <= 5.0,
            note=load,
        ),
        Row(
            f"server CPU per widget call, {scenario}",
            through.cpu_ms(),
            "ms",
            direct.cpu_ms(),
            "emulator, per direct call",
            through.cpu_ms() / direct.cpu_ms(),
            note=(
                f"the bridge's own process, Stitch's work not included; "
                f"{through.requests / through.seconds:.0f} calls/s through the bridge, "
                f"{direct.requests / direct.seconds:.0f} direct"
            ),
        ),
    ]
