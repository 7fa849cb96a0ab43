"""What a second replica buys on PostgreSQL: one `stitch-bridge serve` against two, same database.

Two questions, kept apart because a small machine can answer only one of them:
- the coordination tax: server CPU per request (the replicas' CPU, and PostgreSQL's, over the
  requests served) with two replicas against one. Everything shared lives in the database, so
  a second replica should cost nothing per request; this holds on any number of cores.
- the gain: throughput with two replicas against one, with the load generator (and the emulator,
  which stands for Stitch), the database and each replica bound to their own cores. That needs
  four cores; with fewer, the replicas and the database share what is left after the load
  generator's core, so two replicas cannot serve more than one and the row says so.

Workloads: minting (closed loop, 32 connections; the database is not touched), unfinished-source
polls paced like the widget (50 widgets, 500 ms; CPU per request), and the same polls in a closed
loop (throughput: each poll reads and may write the database and calls Stitch). With two
replicas the connections and widgets are split evenly, one wrk per replica, as a load balancer
would. Both replicas run throughout and the rounds alternate (replica 1 alone, both, …), since
the machine's other load changes by the second; in a one-replica round the idle replica's CPU
is not counted (with one replica it would not exist).
"""

from __future__ import annotations

import os
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bench import overhead, procs, wrk
from bench.report import Row
from tests import postgres

TAX_TARGET = 1.10
CHECK_SECONDS = 3600.0


@dataclass(frozen=True)
class Layout:
    """Which cores the load generator, the database and each replica are bound to."""

    load: set[int]
    database: set[int]
    replicas: tuple[set[int], set[int]]
    label: str


def layout(cpus: list[int]) -> Layout | None:
    if len(cpus) >= 4:
        a, b, c, d = cpus[:4]
        label = f"pinned: load + emulator cpu{a}, PostgreSQL cpu{b}, replicas cpu{c} and cpu{d}"
        return Layout({a}, {b}, ({c}, {d}), label)
    if len(cpus) >= 2:
        a, b = cpus[:2]
        label = f"{len(cpus)} cores: load + emulator cpu{a}; PostgreSQL and replicas share cpu{b}"
        return Layout({a}, {b}, ({b}, {b}), label)
    return None


@dataclass
class Figures:
    """Per workload: requests/s, replica CPU µs per request, database CPU µs per request."""

    rate: dict[str, list[float]]
    cpu: dict[str, list[float]]
    db_cpu: dict[str, list[float]]

    @classmethod
    def empty(cls) -> Figures:
        return cls({}, {}, {})

    def add(self, workload: str, rate: float, cpu: float, db_cpu: float) -> None:
        self.rate.setdefault(workload, []).append(rate)
        self.cpu.setdefault(workload, []).append(cpu)
        self.db_cpu.setdefault(workload, []).append(db_cpu)

    def median(self, what: dict[str, list[float]], workload: str) -> float:
        return statistics.median(what[workload])


def _load(
    replicas: list[procs.Server],
    db: postgres.PostgresServer,
    argv_for: Callable[[int, procs.Server], list[str]],
    duration: float,
    cpus: set[int] | None,
) -> tuple[float, float, float]:
    """Run one wrk per replica at once; (requests/s, replica CPU µs/req, database CPU µs/req)."""
    cpu_before = sum(r.cpu_seconds() for r in replicas)
    db_before = db.cpu_seconds()
    running = [wrk.start(argv_for(n, r), cpus) for n, r in enumerate(replicas)]
    results = [wrk.finish(process, duration) for process in running]
    cpu = sum(r.cpu_seconds() for r in replicas) - cpu_before
    db_cpu = db.cpu_seconds() - db_before
    errors = sum(result.errors for result in results)
    if errors:
        raise RuntimeError(f"{errors} error answers from {len(replicas)} replica(s)")
    count = sum(result.requests for result in results)
    rate = sum(result.rate for result in results)
    return rate, cpu / max(1, count) * 1e6, db_cpu / max(1, count) * 1e6


def _measure(
    replicas: list[procs.Server],
    db: postgres.PostgresServer,
    widgets: list[tuple[str, str]],
    work_dir: Path,
    duration: float,
    connections: int,
    cpus: set[int] | None,
    figures: Figures,
) -> None:
    parts = len(replicas)
    files = [
        wrk.widget_file(work_dir / f"widgets-{parts}-{n}.tsv", widgets[n::parts])
        for n in range(parts)
    ]

    def mint(n: int, replica: procs.Server) -> list[str]:
        return wrk.command(
            f"{replica.url}/v1/connect-sessions",
            wrk.MINT_SCRIPT,
            [procs.API_KEY],
            connections=connections // parts,
            duration=duration,
            threads=2 // parts,
        )

    def poll(pause_ms: int) -> Callable[[int, procs.Server], list[str]]:
        def argv(n: int, replica: procs.Server) -> list[str]:
            return wrk.poll_command(
                replica.port,
                files[n],
                widgets=len(widgets) // parts,
                pause_ms=pause_ms,
                duration=duration,
                origin=procs.APP_ORIGIN,
                threads=2 // parts,
            )

        return argv

    pause = round(overhead.POLL_SECONDS * 1000)
    for workload, argv_for in (("mint", mint), ("poll", poll(pause)), ("poll-max", poll(0))):
        figures.add(workload, *_load(replicas, db, argv_for, duration, cpus))


def run(
    work_dir: Path, *, rounds: int, duration: float, connections: int, widgets: int
) -> list[Row]:
    bin_dir = postgres.find_binaries()
    if bin_dir is None or not wrk.available():
        why = postgres.MISSING if bin_dir is None else "wrk not installed (apt-get install wrk)"
        return [Row("two replicas on PostgreSQL", float("nan"), "", note=f"skipped: {why}")]
    cores = layout(sorted(os.sched_getaffinity(0)))
    load_cpus = cores.load if cores else None
    one, two = Figures.empty(), Figures.empty()

    with (
        postgres.postgres_server(bin_dir) as db,
        procs.emulator(work_dir, check_delay=CHECK_SECONDS) as emulator,
    ):
        if cores is not None:
            procs.pin(emulator.process.pid, cores.load)
            for pid in db.processes():
                procs.pin(pid, cores.database)
        db.psql("CREATE DATABASE bench")
        settings = {"BRIDGE_DATABASE_URL": db.url("bench")}
        with (
            procs.bridge(work_dir, emulator.url, name="replica-1", **settings) as first,
            procs.bridge(work_dir, emulator.url, name="replica-2", **settings) as second,
        ):
            if cores is not None:
                procs.pin(first.process.pid, cores.replicas[0])
                procs.pin(second.process.pid, cores.replicas[1])
            prepared = overhead.prepare(first.url, widgets, settle=False)
            calls = [(f"/v1/sources/{i}", h["Authorization"].split()[1]) for h, i in prepared]
            plan = [(1.0, Figures.empty(), Figures.empty())] + [(duration, one, two)] * rounds
            for seconds, alone, together in plan:
                # Alternating rounds: one replica serves everything, then both share it. The
                # first pass warms both up (imports, caches, pool connections), not counted.
                _measure([first], db, calls, work_dir, seconds, connections, load_cpus, alone)
                both = [first, second]
                _measure(both, db, calls, work_dir, seconds, connections, load_cpus, together)
    where = cores.label if cores else "1 core: nothing pinned"
    return _rows(one, two, where, widgets, connections)


def _rows(one: Figures, two: Figures, where: str, widgets: int, connections: int) -> list[Row]:
    rows = []
    loads = {
        "mint": ("connect-session minting", f"{connections} connections, closed loop"),
        "poll": ("unfinished-source poll", f"{widgets} widgets every 500 ms"),
        "poll-max": ("unfinished-source poll", f"{widgets} widgets, closed loop"),
    }
    for workload in ("mint", "poll"):
        what, load = loads[workload]
        cpu1, cpu2 = one.median(one.cpu, workload), two.median(two.cpu, workload)
        db1, db2 = one.median(one.db_cpu, workload), two.median(two.db_cpu, workload)
        rows.append(
            Row(
                f"replica CPU per {what}, 2 replicas on PostgreSQL",
                cpu2,
                "µs",
                cpu1,
                "1 replica",
                cpu2 / cpu1,
                f"≤ {TAX_TARGET:.2f}×",
                cpu2 / cpu1 <= TAX_TARGET,
                note=f"{load}; PostgreSQL {db2:.0f} µs/request with 2, {db1:.0f} with 1",
            )
        )
    for workload in ("mint", "poll-max"):
        what, load = loads[workload]
        rate1, rate2 = one.median(one.rate, workload), two.median(two.rate, workload)
        rows.append(
            Row(
                f"{what} throughput, 2 replicas on PostgreSQL",
                rate2,
                "req/s",
                rate1,
                "1 replica",
                rate2 / rate1,
                note=f"{load}; {where}",
            )
        )
    return rows
