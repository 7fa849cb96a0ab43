"""One row per figure, each beside the baseline it is compared with, printed as a Markdown table."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Row:
    """`ratio` is `value / baseline` unless a measurement defines its own (then it says so)."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


def _number(value: float | None, unit: str = "") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> str:
    header = "| measurement | bridge | baseline (same run) | ratio | target | met |"
    lines = [header, "|---|---|---|---|---|---|"]
    for row in rows:
        baseline = _number(row.baseline, row.unit)
        if row.baseline_name:
            baseline = f"{baseline} ({row.baseline_name})"
        ratio = "—" if row.ratio is None else f"{row.ratio:.2f}×"
        met = "—" if row.met is None else ("yes" if row.met else "**no**")
        name = f"{row.name} ({row.note})" if row.note else row.name
        lines.append(
            f"| {name} | {_number(row.value, row.unit)} | {baseline} | {ratio} "
            f"| {row.target or '—'} | {met} |"
        )
    return "\n".join(lines)
