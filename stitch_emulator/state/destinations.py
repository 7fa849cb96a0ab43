"""Destinations v4 (§4.13, §5.7): create, list, update, delete, the Destination object."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from .errors import bare
from .model import Destination, World
from .report_card import step_index, type_properties
from .timefmt import iso

POST_KEYS = {"type", "name", "description", "properties", "ignore_unmapped_sources"}
POST_MESSAGE = (
    "POST body may only include a type, a name, a description, map of properties, "
    "and boolean for unmapped sources"
)
QUERY_MESSAGE = "GET may only include the params: source_id and/or destination_id"


def live(world: World, account_id: int) -> list[Destination]:
    return [d for d in world.destinations if d.account_id == account_id and d.deleted_at is None]


def _wire(value: Any) -> str:
    # Stored properties come back as strings in every documented example (`"ssl": "true"`).
    return value if isinstance(value, str) else json.dumps(value)


def validate_create(
    world: World, types: dict[str, dict[str, Any]], account_id: int, body: Any, limit: int
) -> dict[str, Any]:
    if not isinstance(body, dict) or not set(body) <= POST_KEYS:
        raise bare(POST_MESSAGE)
    if not isinstance(body.get("type"), str) or not isinstance(body.get("properties"), dict):
        raise bare(POST_MESSAGE)
    for key in ("name", "description"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise bare(POST_MESSAGE)
    if not isinstance(body.get("ignore_unmapped_sources", False), bool):
        raise bare(POST_MESSAGE)
    if body["type"] not in types:
        raise bare(f"invalid destination type ({body['type']})")
    if len(live(world, account_id)) >= limit:
        raise bare("you are at your destination limit")
    return body


def create(world: World, account_id: int, body: dict[str, Any], now: datetime) -> Destination:
    destination = Destination(
        id=world.next_id("destination", 155582),
        account_id=account_id,
        type=body["type"],
        name=body.get("name") or body["type"],
        description=body.get("description"),
        values=dict(body["properties"]),
        ignore_unmapped_sources=body.get("ignore_unmapped_sources", False),
        created_at=now,
        updated_at=now,
    )
    world.destinations.append(destination)
    return destination


def listed(world: World, account_id: int, query: dict[str, str]) -> list[Destination]:
    if not set(query) <= {"source_id", "destination_id"}:
        raise bare(QUERY_MESSAGE)
    found = live(world, account_id)
    if "destination_id" in query:
        found = [d for d in found if str(d.id) == query["destination_id"]]
    if "source_id" in query:
        source = next((s for s in world.sources if str(s.id) == query["source_id"]), None)
        if source is None or source.account_id != account_id:
            return []
        if source.destination_id is not None:
            found = [d for d in found if d.id == source.destination_id]
        else:
            found = [d for d in found if not d.ignore_unmapped_sources]
    return found


def update(destination: Destination | None, body: Any, now: datetime) -> Destination:
    if destination is None or destination.deleted_at is not None:
        raise bare("invalid connection id")
    if not isinstance(body, dict) or not set(body) <= POST_KEYS:
        raise bare(POST_MESSAGE)
    if "type" in body and body["type"] != destination.type:
        raise bare("this API endpoint does not support modifying destination type")
    if body.get("properties") is not None and not isinstance(body["properties"], dict):
        raise bare(POST_MESSAGE)
    destination.values.update(body.get("properties") or {})
    for key in ("name", "description"):
        if isinstance(body.get(key), str):
            setattr(destination, key, body[key])
    if isinstance(body.get("ignore_unmapped_sources"), bool):
        destination.ignore_unmapped_sources = body["ignore_unmapped_sources"]
    destination.updated_at = now
    return destination


def render(
    destination: Destination, type_card: dict[str, Any], *, with_check: bool = False
) -> dict[str, Any]:
    definitions = type_properties(type_card)
    provided = destination.values.__contains__
    index = step_index(type_card, provided)
    card = {
        "type": type_card["type"],
        "current_step": index + 1,
        "current_step_type": type_card["steps"][index]["type"],
        "steps": [
            {
                "type": step["type"],
                "properties": [{**p, "provided": provided(p["name"])} for p in step["properties"]],
            }
            for step in type_card["steps"]
        ],
    }
    rendered: dict[str, Any] = {
        "description": destination.description,
        "properties": {
            name: _wire(value)
            for name, value in sorted(destination.values.items())
            if not definitions.get(name, {}).get("is_credential", False)
        },
        "updated_at": iso(destination.updated_at),
        "name": destination.name,
        "type": destination.type,
        "deleted_at": iso(destination.deleted_at),
        "system_paused_at": None,
        "stitch_client_id": destination.account_id,
        "paused_at": None,
        "id": destination.id,
        "display_name": None,
        "created_at": iso(destination.created_at),
        "report_card": card,
    }
    if with_check:
        rendered["check_job_name"] = None
    return rendered
