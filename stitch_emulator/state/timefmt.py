"""Timestamps on the wire: ISO-8601 UTC with `Z`, whole seconds (§1)."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_timestamp(text: str, *, naive_as_utc: bool = False) -> datetime | None:
    """An ISO-8601 timestamp with a zone (`Z` or offset), or None when it is not one.

    `naive_as_utc` also takes one without a zone, as UTC (what `paused_at` accepts: clients
    send `datetime.now().isoformat()`, and the real API takes it).
    """
    if not isinstance(text, str) or "T" not in text:
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        if not naive_as_utc:
            return None
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
