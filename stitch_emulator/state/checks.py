"""Connection checks (§4.7) and discovery: started by report-card transitions, finished lazily."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from .model import CheckScript, ConnectionCheck, Source, Stream, World
from .report_card import source_step_type
from .timefmt import iso

CHECKED_STEPS = ("discover_schema", "field_selection", "fully_configured")


def job_name(source: Source, mode: str) -> str:
    # Real names carry version-1 (time-based) UUIDs (§4.10).
    return f"{source.account_id}.{source.id}.{mode}.{uuid.uuid1()}"


def start_check(source: Source, now: datetime, delay: float) -> ConnectionCheck:
    check = ConnectionCheck(
        name=job_name(source, "check"),
        start_time=now,
        completes_at=now + timedelta(seconds=delay),
    )
    source.last_check = check
    source.check_job_name = check.name
    return check


def refresh(
    source: Source,
    type_card: dict[str, Any],
    before: str | None,
    properties_changed: bool,
    now: datetime,
    check_delay: float,
) -> None:
    """After any mutation: note full configuration (sticky) and start a check when Stitch would.

    A check starts when the source enters `discover_schema`, and when properties change on a
    source already past the form/OAuth steps (§9.3, §13.8).
    """
    after = source_step_type(source, type_card)
    if after == "fully_configured" and source.fully_configured_at is None:
        source.fully_configured_at = now
    has_discovery = any(step["type"] == "discover_schema" for step in type_card["steps"])
    if not has_discovery or source.deleted_at is not None:
        return
    entering = after == "discover_schema" and before != "discover_schema"
    if entering or (properties_changed and after in CHECKED_STEPS):
        start_check(source, now, check_delay)


def take_script(world: World, source_id: int) -> CheckScript | None:
    """The scripted outcome for this check: one aimed at the source first, then a general one."""
    candidates = [s for s in world.check_scripts if s.source_id == source_id] or [
        s for s in world.check_scripts if s.source_id is None
    ]
    if not candidates:
        return None
    script = candidates[0]
    if script.count is not None:
        script.count -= 1
        if script.count <= 0:
            world.check_scripts.remove(script)
    return script


def complete_check(world: World, source: Source, fixtures: list[dict[str, Any]]) -> ConnectionCheck:
    """Finish the running check with its scripted outcome (success unless scripted otherwise)."""
    check = source.last_check
    assert check is not None and check.status == "running"
    script = take_script(world, source.id)
    check.completion_time = check.completes_at
    if script is not None and script.outcome == "failure":
        check.status = "failed"
        check.discovery_exit_status = 1
        check.discovery_error_message = script.discovery_error_message or (
            "Discovery failed: the emulator was told to fail this check."
        )
    else:
        check.status = "succeeded"
        check.check_exit_status = 0
        check.discovery_exit_status = 0
        discover(world, source, fixtures)
    source.updated_at = check.completes_at
    return check


def discover(world: World, source: Source, fixtures: list[dict[str, Any]]) -> None:
    """Add the type's streams (§13.9), keeping the selections of streams already known."""
    known = {s.tap_stream_id for s in source.streams}
    for fixture in fixtures:
        if fixture["tap_stream_id"] in known:
            continue
        source.streams.append(
            Stream(
                stream_id=world.next_id("stream", 2288700),
                tap_stream_id=fixture["tap_stream_id"],
                stream_name=fixture["stream_name"],
                schema=fixture["schema"],
                metadata=fixture["metadata"],
                fields={f["name"]: f["metadata"] for f in fixture["fields"]},
            )
        )


def render_check(check: ConnectionCheck) -> dict[str, Any]:
    """The Connection Check object, keys in the order of the documented examples."""
    return {
        "target_exit_status": None,
        "tap_error_message": None,
        "check_exit_status": check.check_exit_status,
        "name": check.name,
        "start_time": iso(check.start_time),
        "mode": "check",
        "tap_exit_status": None,
        "target_error_message": None,
        "discovery_exit_status": check.discovery_exit_status,
        "status": check.status,
        "completion_time": iso(check.completion_time),
        "error": check.status == "failed",
        "discovery_error_message": check.discovery_error_message,
    }
