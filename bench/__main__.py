"""`python -m bench` (`make bench`): run every benchmark on loopback and print one table.

Each figure sits beside a baseline measured in the same run, on the same machine, because
machines here are noisy. Loads are bounded in size and time; every server started is stopped.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench import burst, coldstart, memory, overhead, replicas, throughput
from bench.report import Row, table


def _plan(args: argparse.Namespace) -> dict[str, Callable[[Path], list[Row]]]:
    quick = args.quick
    return {
        "throughput": lambda d: throughput.run(
            d, rounds=3, duration=1.0 if quick else 4.0, connections=32
        ),
        "overhead": lambda d: overhead.run(
            d, widgets=50, duration=2.0 if quick else 5.0, rounds=2 if quick else 3
        ),
        "unfinished": lambda d: overhead.run(
            d,
            widgets=50,
            duration=2.0 if quick else 6.0,
            rounds=2 if quick else 3,
            unfinished=True,
        ),
        "replicas": lambda d: replicas.run(
            d, rounds=1 if quick else 3, duration=2.0 if quick else 4.0, connections=32, widgets=50
        ),
        "burst": lambda d: burst.run(d, users=200 if quick else 1000, rate=args.rate, burst=10),
        "memory": lambda d: memory.run(
            d, first=1_000 if quick else 10_000, second=10_000 if quick else 100_000
        ),
        "coldstart": lambda d: coldstart.run(d, runs=3 if quick else 5),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="smaller loads (a smoke run, not the figures)"
    )
    parser.add_argument(
        "--only",
        action="append",
        default=None,
        metavar="NAME",
        help="run only this benchmark (throughput, overhead, unfinished, replicas, burst, memory, "
        "coldstart); repeatable",
    )
    parser.add_argument(
        "--rate",
        type=float,
        default=100.0,
        help="upstream limit for the burst benchmark, calls/s (default 100)",
    )
    args = parser.parse_args(argv)
    plan = _plan(args)
    unknown = set(args.only or ()) - set(plan)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    rows: list[Row] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bridge-bench-") as tmp:
        for name, bench in plan.items():
            if args.only and name not in args.only:
                continue
            print(f"running {name} …", file=sys.stderr, flush=True)
            work_dir = Path(tmp) / name
            work_dir.mkdir()
            rows += bench(work_dir)
    print(table(rows))
    print(
        f"\n({time.perf_counter() - started:.0f} s; python -m bench {' '.join(argv or sys.argv[1:])})"
    )
    # A missed target is a finding for the table, not a failure of the run.
    return 0


if __name__ == "__main__":
    sys.exit(main())
