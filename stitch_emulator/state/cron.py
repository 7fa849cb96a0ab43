"""Quartz cron expressions (`cron_expression`, §6.2): validation and the next fire time."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

_MONTHS = {
    m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())
}
_DAYS = {d: i + 1 for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())}
# (low, high, names) for: seconds, minutes, hours, day-of-month, month, day-of-week, year
_FIELDS = [
    (0, 59, {}),
    (0, 59, {}),
    (0, 23, {}),
    (1, 31, {}),
    (1, 12, _MONTHS),
    (1, 7, _DAYS),
    (1970, 2199, {}),
]
# Quartz's L, W and # day forms: accepted, but no next fire time is computed for them.
_SPECIAL_DAY = re.compile(r"^(L|LW|L-\d+|\d+W|\d+L|[1-7A-Za-z]+#\d)$", re.IGNORECASE)
BOTH_DAYS = (
    "Support for specifying both a day-of-week AND a day-of-month parameter is not implemented."
)


class CronError(ValueError):
    """The reason Quartz gives for rejecting an expression."""


@dataclass(frozen=True)
class CronSchedule:
    expression: str
    fields: tuple[frozenset[int] | None, ...]  # None: `?`, or a feature (L, W, #) not modelled

    def next_fire_time(self, after: datetime) -> datetime | None:
        """The first fire time strictly after `after` (UTC), or None if not computable."""
        seconds, minutes, hours, dom, months, dow, years = self.fields
        if seconds is None or minutes is None or hours is None or months is None:
            return None
        if years is None or (dom is None and dow is None):
            return None
        start = after.astimezone(UTC).replace(microsecond=0)
        hour_list, minute_list, second_list = sorted(hours), sorted(minutes), sorted(seconds)
        day = start.date()
        for _ in range(366 * 5):
            if day.month in months and day.year in years:
                quartz_dow = (day.isoweekday() % 7) + 1
                if (dom is not None and day.day in dom) or (dow is not None and quartz_dow in dow):
                    moment = _first_time_of_day(
                        day,
                        hour_list,
                        minute_list,
                        second_list,
                        start if day == start.date() else None,
                    )
                    if moment is not None:
                        return moment
            day += timedelta(days=1)
        return None


def _first_time_of_day(
    day: date, hours: list[int], minutes: list[int], seconds: list[int], after: datetime | None
) -> datetime | None:
    """The earliest listed time of `day` strictly after `after` (any, when None).

    Earlier hours and minutes are skipped outright, so that a frequent expression (every
    second) costs a few steps per call rather than a scan of the whole day.
    """
    for hour in hours:
        if after is not None and hour < after.hour:
            continue
        same_hour = after is not None and hour == after.hour
        for minute in minutes:
            if same_hour and after is not None and minute < after.minute:
                continue
            same_minute = same_hour and after is not None and minute == after.minute
            for second in seconds:
                if same_minute and after is not None and second <= after.second:
                    continue
                return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)
    return None


def _values(token: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    def number(text: str) -> int:
        value = names.get(text.upper()) if not text.isdigit() else int(text)
        if value is None or not low <= value <= high:
            raise CronError(f"Unexpected character or value: {text}")
        return value

    result: set[int] = set()
    for part in token.split(","):
        base, _, step_text = part.partition("/")
        step = 1
        if step_text:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"Unexpected character or value: {part}")
            step = int(step_text)
        if base == "*":
            first, last = low, high
        elif "-" in base:
            a, _, b = base.partition("-")
            first, last = number(a), number(b)
        else:
            first = number(base)
            last = high if step_text else first
        if first > last:
            raise CronError(f"Unexpected character or value: {part}")
        result.update(range(first, last + 1, step))
    return result


def parse_cron(expression: str) -> CronSchedule:
    """Parse a Quartz expression or raise CronError with the reason."""
    parts = expression.split() if isinstance(expression, str) else []
    if len(parts) not in (6, 7):
        raise CronError("Unexpected end of expression.")
    if len(parts) == 6:
        parts.append("*")
    dom, dow = parts[3], parts[5]
    if dom != "?" and dow != "?":
        raise CronError(BOTH_DAYS)
    if dom == "?" and dow == "?":
        raise CronError("'?' can only be specified for Day-of-Month -OR- Day-of-Week.")
    fields: list[frozenset[int] | None] = []
    for index, (token, (low, high, names)) in enumerate(zip(parts, _FIELDS, strict=True)):
        if token == "?":
            if index not in (3, 5):
                raise CronError("'?' can only be specified for Day-of-Month or Day-of-Week.")
            fields.append(None)
        elif index in (3, 5) and _SPECIAL_DAY.match(token):
            fields.append(None)
        else:
            fields.append(frozenset(_values(token, low, high, names)))
    return CronSchedule(expression=expression, fields=tuple(fields))
