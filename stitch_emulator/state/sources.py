"""Sources (§5.2): validation of create/update bodies, property filling, the Source object."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from .cron import CronError, parse_cron
from .errors import ApiError, v4_error
from .model import Source, World
from .naming import derive_name, is_valid_name
from .properties import bad_properties
from .report_card import (
    render_provisional_card,
    render_source_card,
    source_step_type,
    type_properties,
)
from .schedule import schedule_for
from .timefmt import iso, parse_timestamp

POST_KEYS = {"type", "display_name", "properties", "destination_id"}
PUT_KEYS = {"display_name", "properties", "paused_at", "destination_id"}
POST_BODY_MESSAGE = (
    "POST body may only include a non-empty type, a non-empty display_name "
    "and map of string properties"
)
PUT_BODY_MESSAGE = "PUT body many only include the keys: display_name, properties, and paused_at"
INVALID_NAME_MESSAGE = (
    "The name field must be under 50 characters, and can only contain lowercase letters, "
    "numbers, underscores, or dollar signs. It must begin with a letter or an underscore."
)


def _is_id(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _check_cron(supplied: dict[str, Any], cron_allowed: bool) -> None:
    expression = supplied.get("cron_expression")
    if expression is None:
        return
    if not cron_allowed:
        raise v4_error(
            "AccessDenied", "access to cron_expression based scheduling is not permitted"
        )
    try:
        parse_cron(expression)
    except CronError as error:
        raise v4_error(
            "InvalidCronExpression", f'cron_expression "{expression}" is invalid: {error}'
        ) from None


def _check_name(world: World, account_id: int, display_name: str) -> str:
    name = derive_name(display_name)
    if not name:
        raise v4_error(
            "InvalidDisplayName",
            f"invalid name after deriving it from display_name ({display_name} -> )",
        )
    if not is_valid_name(name):
        raise v4_error("InvalidName", INVALID_NAME_MESSAGE)
    live = [s for s in world.sources if s.account_id == account_id and s.deleted_at is None]
    if any(s.display_name == display_name for s in live):
        raise v4_error("InvalidName", f"non-unique name ({name})")
    if any(s.name == name for s in live):
        raise v4_error(
            "InvalidName",
            f"non-unique name after deriving it from display_name ({display_name} -> {name})",
        )
    return name


def system_values(type_card: dict[str, Any], supplied: dict[str, Any]) -> dict[str, Any]:
    """What Stitch fills at creation: required read-only properties (§9.2) and the default
    `frequency_in_minutes` when no schedule was given (§6.2)."""
    filled: dict[str, Any] = {}
    definitions = type_properties(type_card)
    for name, definition in definitions.items():
        if definition["property_type"] == "read_only" and definition["is_required"]:
            if name == "image_version":
                filled[name] = type_card["details"].get("image_version") or "1.latest"
            else:
                filled[name] = secrets.token_hex(8)
    default_interval = type_card["details"].get("default_scheduling_interval")
    if (
        "frequency_in_minutes" in definitions
        and "frequency_in_minutes" not in supplied
        and not supplied.get("cron_expression")
        and default_interval is not None
    ):
        filled["frequency_in_minutes"] = str(default_interval)
    return filled


def validate_create(
    world: World,
    catalogue_types: dict[str, dict[str, Any]],
    account_id: int,
    body: Any,
    *,
    hints: bool,
    cron_allowed: bool,
) -> tuple[dict[str, Any], str, dict[str, Any]]:
    """Check a `POST /v4/sources` body; returns (type card, derived name, supplied properties)."""
    if not isinstance(body, dict) or not set(body) <= POST_KEYS:
        raise v4_error("InvalidBody", POST_BODY_MESSAGE)
    type_name, display_name = body.get("type"), body.get("display_name")
    properties = body.get("properties")
    if not isinstance(type_name, str) or not type_name:
        raise v4_error("InvalidBody", POST_BODY_MESSAGE)
    if not isinstance(display_name, str) or not display_name:
        raise v4_error("InvalidBody", POST_BODY_MESSAGE)
    if properties is not None and not isinstance(properties, dict):
        raise v4_error("InvalidBody", POST_BODY_MESSAGE)
    if not _is_id(body.get("destination_id")):
        raise v4_error("InvalidBody", POST_BODY_MESSAGE)
    type_card = catalogue_types.get(type_name)
    if type_card is None:
        raise v4_error("InvalidType", f"invalid source type ({type_name})")
    if not type_card["details"].get("access", False):
        raise v4_error("AccessDenied", f"you do not have access to source type ({type_name})")
    name = _check_name(world, account_id, display_name)
    supplied = dict(properties or {})
    bad = bad_properties(type_properties(type_card), supplied)
    if bad:
        good = {n for n in supplied if n not in bad}
        card = render_provisional_card(type_card, good, hints=hints)
        raise v4_error(
            "InvalidProperties",
            "properties do not match schema",
            bad_properties=bad,
            report_card=card,
        )
    _check_cron(supplied, cron_allowed)
    return type_card, name, supplied


def validate_update(
    source: Source | None,
    source_id: int,
    type_card: dict[str, Any] | None,
    body: Any,
    *,
    hints: bool,
    cron_allowed: bool,
) -> dict[str, Any]:
    """Check a `PUT /v4/sources/{id}` body against the source; returns the body."""
    if source is None or type_card is None or source.deleted_at is not None:
        raise v4_error("InvalidId", f"source not found ({source_id})")
    if not isinstance(body, dict) or not set(body) <= PUT_KEYS:
        raise v4_error("InvalidBody", PUT_BODY_MESSAGE)
    if "display_name" in body:
        display_name = body["display_name"]
        if not isinstance(display_name, str) or not derive_name(display_name):
            raise v4_error("InvalidDisplayName", f"invalid display_name ({display_name})")
    properties = body.get("properties")
    if properties is not None and not isinstance(properties, dict):
        raise v4_error("InvalidBody", PUT_BODY_MESSAGE)
    paused_at = body.get("paused_at")
    if paused_at is not None and parse_timestamp(paused_at, naive_as_utc=True) is None:
        raise v4_error("InvalidBody", PUT_BODY_MESSAGE)
    if not _is_id(body.get("destination_id")):
        raise v4_error("InvalidBody", PUT_BODY_MESSAGE)
    supplied = dict(properties or {})
    bad = bad_properties(type_properties(type_card), supplied, source.values)
    if bad:
        card = render_source_card(source, type_card, hints=hints)
        raise v4_error(
            "InvalidProperties",
            "properties do not match schema",
            bad_properties=bad,
            report_card=card,
        )
    _check_cron(supplied, cron_allowed)
    return body


def apply_update(source: Source, body: dict[str, Any], now: datetime) -> bool:
    """Apply a validated PUT body; returns whether any property value changed."""
    if "display_name" in body:
        source.display_name = body["display_name"]
    supplied = body.get("properties") or {}
    changed = any(
        name not in source.values or source.values[name] != v for name, v in supplied.items()
    )
    source.values.update(supplied)
    if "paused_at" in body:
        source.paused_at = body["paused_at"]
    if "destination_id" in body:
        source.destination_id = body["destination_id"]
    source.updated_at = now
    return changed


def render_source(
    source: Source, type_card: dict[str, Any], *, hints: bool, now: datetime
) -> dict[str, Any]:
    """The Source object of §4.1; credentials are never rendered."""
    definitions = type_properties(type_card)
    properties = {
        name: source.values[name]
        for name in sorted(source.values)
        if not definitions.get(name, {}).get("is_credential", False)
    }
    step_type = source_step_type(source, type_card)
    rendered: dict[str, Any] = {
        "properties": properties,
        "updated_at": iso(source.updated_at),
        "schedule": schedule_for(source, step_type, now),
    }
    # Types without a discovery step never run checks; their examples omit the key (§4.1).
    if any(step["type"] == "discover_schema" for step in type_card["steps"]):
        rendered["check_job_name"] = source.check_job_name
    rendered.update(
        {
            "name": source.name,
            "type": source.type,
            "deleted_at": iso(source.deleted_at),
            "system_paused_at": None,
            "stitch_client_id": source.account_id,
            "paused_at": source.paused_at,
            "id": source.id,
            "display_name": source.display_name,
            "created_at": iso(source.created_at),
            "report_card": render_source_card(source, type_card, hints=hints),
        }
    )
    return rendered


def fill_oauth(source: Source, type_card: dict[str, Any], now: datetime) -> None:
    """Store what Stitch-managed OAuth would: a value for every property of the oauth step."""
    oauth = [step for step in type_card["steps"] if step["type"] == "oauth"]
    if not oauth:
        raise v4_error("InvalidType", f"source type has no oauth step ({source.type})")
    for prop in oauth[0]["properties"]:
        if prop["name"] == "redirect_uri":
            value = "https://app.stitchdata.com/v2/integrations/oauth/callback"
        else:
            value = f"emulator-{prop['name']}-{secrets.token_hex(8)}"
        source.values[prop["name"]] = value
    source.updated_at = now


def source_error_id(source_id: int) -> ApiError:
    return v4_error("InvalidId", f"source not found ({source_id})")
