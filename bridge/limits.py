"""What an end user may spend of the SaaS's Stitch account (CONTRACT §3, §4.6).

Replication runs on the SaaS's bill: an end user chooses only among the schedules the operator
allows (BRIDGE_END_USER_FREQUENCIES, BRIDGE_END_USER_CRON). The SaaS backend's own calls are
not checked here. The number of sources is counted in `bridge.creation`, under a database lock.
"""

from __future__ import annotations

from collections.abc import Mapping

from bridge.errors import BridgeError
from bridge.offer import FormField
from bridge.settings import Settings

FREQUENCY = "frequency_in_minutes"
CRON_PROPERTIES = ("cron_expression", "anchor_time")


def check_end_user_schedule(
    settings: Settings, values: Mapping[str, object], *, prefix: str = ""
) -> None:
    """Refuse (422 invalid_request, naming each property) a schedule an end user may not set.

    `values` are source properties or a schedule body; other keys are ignored. A null or an
    empty string chooses no schedule (it clears one, or Stitch refuses it), which spends
    nothing, so it is left to Stitch. `prefix` names where the values sit in the request."""
    problems: dict[str, str] = {}
    chosen = {name: value for name, value in values.items() if value not in (None, "")}
    if FREQUENCY in chosen:
        if _minutes(chosen[FREQUENCY]) not in settings.end_user_frequencies:
            allowed = ", ".join(str(f) for f in settings.end_user_frequencies)
            problems[prefix + FREQUENCY] = f"must be one of {allowed}"
    if not settings.end_user_cron:
        for name in CRON_PROPERTIES:
            if name in chosen:
                problems[prefix + name] = "end users may not set this here (BRIDGE_END_USER_CRON)"
    if problems:
        raise BridgeError(
            "invalid_request",
            "this schedule is not one an end user may choose: " + ", ".join(problems),
            variant="fields",
            details={"fields": problems},
        )


def _minutes(value: object) -> int | None:
    # Stitch's properties are strings ("60"); a schedule body has numbers. Nothing else counts.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    return None


def end_user_form(settings: Settings, form: list[FormField]) -> list[FormField]:
    """A source type's form as an end user may fill it: only allowed frequencies (a choice the
    widget renders as a select), and no cron properties unless end users may set them."""
    narrowed: list[FormField] = []
    for prop in form:
        if prop["name"] in CRON_PROPERTIES and not settings.end_user_cron:
            continue
        if prop["name"] == FREQUENCY:
            choices = [str(f) for f in settings.end_user_frequencies]
            prop = {
                **prop,
                "json_schema": {
                    "type": "string",
                    "enum": choices,
                    "pattern": "|".join(f"^{c}$" for c in choices),
                },
            }
        narrowed.append(prop)
    return narrowed
