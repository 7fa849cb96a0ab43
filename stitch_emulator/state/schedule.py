"""`Source.schedule` (§4.6) from the scheduling properties (§6.2), per §13.11."""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

from .cron import CronError, parse_cron
from .model import Source
from .timefmt import iso, parse_timestamp


def schedule_for(source: Source, step_type: str, now: datetime) -> dict[str, Any] | None:
    """Non-null exactly when the source is fully configured, not paused and not deleted."""
    if step_type != "fully_configured" or source.paused_at is not None:
        return None
    if source.deleted_at is not None:
        return None
    cron_expression = source.values.get("cron_expression")
    if cron_expression:
        try:
            fire = parse_cron(cron_expression).next_fire_time(now)
        except CronError:
            fire = None
        return {"type": "cron", "cron_expression": cron_expression, "next_fire_time": iso(fire)}
    frequency = source.values.get("frequency_in_minutes")
    if frequency is None:
        # Types without scheduling properties (import_api) have no schedule (§11.4).
        return None
    interval = float(frequency)
    anchor = parse_timestamp(str(source.values.get("anchor_time", ""))) or (
        source.fully_configured_at or now
    )
    return {
        "type": "interval",
        "unit": "minute",
        "interval": interval,
        "next_fire_time": iso(next_interval_fire(anchor, interval, now)),
    }


def next_interval_fire(anchor: datetime, interval_minutes: float, now: datetime) -> datetime:
    """The first `anchor + k * interval` (k any integer) strictly after `now`."""
    step = timedelta(minutes=interval_minutes)
    periods = math.floor((now - anchor) / step) + 1
    return anchor + periods * step
