"""Report cards (§4.2) computed by the §9.2 algorithm, and `current_step_hints` per §9.4."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .model import Source, Stream
from .selection import replicated

PROPERTY_STEPS = ("form", "oauth", "profile")


def type_properties(type_card: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every property of a type's report card by name, with the step it belongs to."""
    found: dict[str, dict[str, Any]] = {}
    for step in type_card.get("steps", []):
        for prop in step["properties"]:
            found[prop["name"]] = {**prop, "step": step["type"]}
    return found


def stream_replicated(stream: Stream) -> bool:
    """A stream counts for field selection when selected with at least one replicated field."""
    return bool(stream.selected) and any(replicated(meta) for meta in stream.fields.values())


def step_index(
    type_card: dict[str, Any],
    provided: Callable[[str], bool],
    *,
    check_succeeded: bool = False,
    streams_selected: bool = False,
) -> int:
    """0-based index of the first incomplete step (§9.2); `fully_configured` never completes."""
    for index, step in enumerate(type_card["steps"]):
        kind = step["type"]
        if kind in PROPERTY_STEPS:
            done = all(provided(p["name"]) for p in step["properties"] if p["is_required"])
        elif kind == "discover_schema":
            done = check_succeeded
        elif kind == "field_selection":
            done = streams_selected
        else:
            done = False
        if not done:
            return index
    return len(type_card["steps"]) - 1


def source_step_index(source: Source, type_card: dict[str, Any]) -> int:
    steps = [s["type"] for s in type_card["steps"]]
    if source.fully_configured_at is not None and "fully_configured" in steps:
        return steps.index("fully_configured")
    check = source.last_check
    return step_index(
        type_card,
        lambda name: name in source.values,
        check_succeeded=check is not None
        and check.status == "succeeded"
        and check.discovery_exit_status == 0,
        streams_selected=any(stream_replicated(s) for s in source.streams),
    )


def source_step_type(source: Source, type_card: dict[str, Any]) -> str:
    return str(type_card["steps"][source_step_index(source, type_card)]["type"])


def _card(type_card: dict[str, Any], index: int, provided: Callable[[str], bool]) -> dict[str, Any]:
    steps = []
    for step in type_card["steps"]:
        props = []
        for prop in step["properties"]:
            rendered = copy.deepcopy(prop)
            rendered["provided"] = provided(prop["name"])
            props.append(rendered)
        steps.append({"type": step["type"], "properties": props})
    return {
        "type": type_card["type"],
        "current_step": index + 1,
        "current_step_type": type_card["steps"][index]["type"],
        "steps": steps,
    }


def _add_source_hint(type_name: str) -> dict[str, Any]:
    return {
        "api": {"method": "POST", "url": "/v4/sources"},
        "js": {"function": "addSource", "options": {"type": type_name}},
    }


def render_type_card(type_card: dict[str, Any], *, hints: bool) -> dict[str, Any]:
    """A source type's report card as `GET /v4/source-types` returns it (§5.1)."""
    card = _card(type_card, step_index(type_card, lambda _: False), lambda _: False)
    if hints:
        card["current_step_hints"] = _add_source_hint(type_card["type"])
    card["details"] = copy.deepcopy(type_card["details"])
    card["upgrade_available"] = copy.deepcopy(type_card.get("upgrade_available"))
    return card


def render_provisional_card(
    type_card: dict[str, Any], provided_names: set[str], *, hints: bool
) -> dict[str, Any]:
    """The type's card with `provided` flags, for the `InvalidProperties` error of a create."""
    provided = provided_names.__contains__
    card = _card(type_card, step_index(type_card, provided), provided)
    if hints:
        card["current_step_hints"] = _add_source_hint(type_card["type"])
    return card


def render_source_card(source: Source, type_card: dict[str, Any], *, hints: bool) -> dict[str, Any]:
    """A source's own report card (§4.2), with hints when the legacy switch is on."""
    index = source_step_index(source, type_card)
    card = _card(type_card, index, lambda name: name in source.values)
    if hints:
        hint = source_hint(source, card["current_step_type"])
        if hint is not None:
            card["current_step_hints"] = hint
    return card


def source_hint(source: Source, step_type: str) -> dict[str, Any] | None:
    """The §9.4 table: how to finish the current step, through the API and through Stitch.js."""
    sid = source.id
    if step_type == "form":
        return {
            "api": {"method": "PUT", "url": f"/v4/sources/{sid}"},
            "js": {"function": "editSource", "options": {"id": sid}},
        }
    if step_type == "oauth":
        return {
            "api": {"method": "PUT", "url": f"/v4/sources/{sid}"},
            "js": {"function": "authorizeSource", "options": {"id": sid}},
        }
    if step_type == "discover_schema":
        hint: dict[str, Any] = {
            "api": {"method": "GET", "url": f"/v4/sources/{sid}/last-connection-check"}
        }
        # Nothing to display until a check job exists (§9.4).
        if source.check_job_name is not None:
            hint["js"] = {
                "function": "displayDiscoveryOutputForSource",
                "options": {"id": sid, "discovery_job_name": source.check_job_name},
            }
        return hint
    if step_type == "field_selection":
        return {
            "api": {"method": "PUT", "url": f"/v4/sources/{sid}/streams/metadata"},
            "js": {"function": "selectStreamsForSource", "options": {"id": sid}},
        }
    return None
