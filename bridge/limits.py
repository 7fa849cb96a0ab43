"""What an end user may do to their own sources, beyond what Stitch itself allows (CONTRACT §4.6).

The SaaS backend's own calls are never limited here: only routes acting for an end user call these.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.errors import BridgeError
from bridge.settings import Settings


def check_end_user_schedule(settings: Settings, values: Mapping[str, object]) -> None:
    """Refuse a schedule an end user may not choose, naming the property (422 invalid_request)."""
    problems: dict[str, str] = {}
    frequency = values.get("frequency_in_minutes")
    if frequency is not None:
        try:
            minutes = int(str(frequency))
        except ValueError:
            minutes = None
        if minutes not in settings.end_user_frequencies:
            allowed = ", ".join(str(f) for f in settings.end_user_frequencies)
            problems["frequency_in_minutes"] = f"must be one of {allowed}"
    if not settings.end_user_cron:
        for name in ("cron_expression", "anchor_time"):
            if values.get(name) is not None:
                problems[name] = "end users may not set this (BRIDGE_END_USER_CRON is off)"
    if problems:
        raise BridgeError(
            "invalid_request",
            "this schedule is not one end users may choose",
            status=422,
            details={"fields": problems},
        )
