"""`Source.schedule` (§4.6) from the scheduling properties (§6.2), per §13.11, and the fire times
at which the emulator starts scheduled replication jobs."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from .cron import CronError, parse_cron
from .model import Source
from .timefmt import iso, parse_timestamp

NextFire = Callable[[datetime], datetime | None]
# A clock jump over many fire times runs only the last few of them (see README).
CATCH_UP = 10
_ENUMERATION_CAP = 2000
_LOOKBACKS = (timedelta(minutes=10), timedelta(days=1), timedelta(days=32), timedelta(days=400))


def scheduled(source: Source, step_type: str) -> bool:
    """Whether Stitch runs this source on a schedule: fully configured, not paused or deleted."""
    return (
        step_type == "fully_configured" and source.paused_at is None and source.deleted_at is None
    )


def schedule_for(source: Source, step_type: str, now: datetime) -> dict[str, Any] | None:
    """Non-null exactly when the source is fully configured, not paused and not deleted."""
    if not scheduled(source, step_type):
        return None
    cron_expression = source.values.get("cron_expression")
    if cron_expression:
        try:
            fire = parse_cron(cron_expression).next_fire_time(now)
        except CronError:
            fire = None
        return {"type": "cron", "cron_expression": cron_expression, "next_fire_time": iso(fire)}
    next_fire = fire_function(source, now)
    if next_fire is None:
        # Types without scheduling properties (import_api) have no schedule (§11.4).
        return None
    return {
        "type": "interval",
        "unit": "minute",
        "interval": float(source.values["frequency_in_minutes"]),
        "next_fire_time": iso(next_fire(now)),
    }


def fire_function(source: Source, now: datetime) -> NextFire | None:
    """The source's "first fire time strictly after t", or None when it has no schedule."""
    cron_expression = source.values.get("cron_expression")
    if cron_expression:
        try:
            return parse_cron(cron_expression).next_fire_time
        except CronError:
            return None
    frequency = source.values.get("frequency_in_minutes")
    if frequency is None:
        return None
    interval = float(frequency)
    anchor = parse_timestamp(str(source.values.get("anchor_time", ""))) or (
        source.fully_configured_at or now
    )
    return lambda moment: next_interval_fire(anchor, interval, moment)


def next_fire_after(source: Source, step_type: str, moment: datetime) -> datetime | None:
    """The next scheduled job start after `moment`; None for a source Stitch does not schedule."""
    if not scheduled(source, step_type):
        return None
    next_fire = fire_function(source, moment)
    return None if next_fire is None else next_fire(moment)


def next_interval_fire(anchor: datetime, interval_minutes: float, now: datetime) -> datetime:
    """The first `anchor + k * interval` (k any integer) strictly after `now`."""
    step = timedelta(minutes=interval_minutes)
    periods = math.floor((now - anchor) / step) + 1
    return anchor + periods * step


def due_fires(next_fire: NextFire, first: datetime, now: datetime) -> list[datetime]:
    """The fire times from `first` up to `now` inclusive, at most the last CATCH_UP of them.

    Enumerating every minute of a two-month clock jump would be slow for nothing: only the
    last jobs are visible (§5.6 lists the last extraction per source, the last load per stream).
    """
    fires = _enumerate(next_fire, first, now)
    for lookback in _LOOKBACKS:
        if fires is not None:
            break
        start = next_fire(now - lookback)
        if start is not None and first < start <= now:
            fires = _enumerate(next_fire, start, now)
    return fires or []


def _enumerate(next_fire: NextFire, first: datetime, now: datetime) -> list[datetime] | None:
    found: deque[datetime] = deque(maxlen=CATCH_UP)
    moment: datetime | None = first
    for _ in range(_ENUMERATION_CAP):
        if moment is None or moment > now:
            return list(found)
        found.append(moment)
        moment = next_fire(moment)
    return None
