"""Streams (§4.8, §4.9, §5.4): the stream list, a stream's schema, and metadata updates."""

from __future__ import annotations

import copy
import json
from typing import Any

from .errors import bare, invalid_fields
from .model import Source, Stream

NON_DISCOVERABLE = ["selected", "replication-method", "replication-key", "view-key-properties"]
METHODS = ("FULL_TABLE", "INCREMENTAL", "LOG_BASED")
SELECTABLE_STEPS = ("field_selection", "fully_configured")
BODY_MESSAGE = "body must contain a 'streams' property with a list of metadatas by tap_stream_id"


def render_stream(stream: Stream) -> dict[str, Any]:
    metadata = dict(sorted({**stream.metadata, "selected": stream.selected}.items()))
    return {
        "selected": stream.selected,
        "stream_id": stream.stream_id,
        "tap_stream_id": stream.tap_stream_id,
        "stream_name": stream.stream_name,
        "metadata": metadata,
    }


def _field_metadata(stream: Stream, name: str) -> dict[str, Any]:
    shown = dict(stream.fields[name])
    # Field-level `selected` only appears once the stream itself has been selected (§4.9).
    if stream.selected is not None:
        shown.setdefault("selected", False)
    return shown


def render_schema(stream: Stream) -> dict[str, Any]:
    """The Stream Schema object: `schema` is a JSON *string* (§4.9)."""
    top = {k: v for k, v in stream.metadata.items() if v is not None}
    if stream.selected is not None:
        top["selected"] = stream.selected
    metadata = [{"breadcrumb": [], "metadata": top}]
    metadata += [
        {"breadcrumb": ["properties", name], "metadata": _field_metadata(stream, name)}
        for name in stream.fields
    ]
    return {
        "schema": json.dumps(stream.schema, separators=(",", ":")),
        "metadata": metadata,
        "non-discoverable-metadata-keys": list(NON_DISCOVERABLE),
    }


def _parse_body(body: Any) -> list[dict[str, Any]]:
    if not isinstance(body, dict) or not isinstance(body.get("streams"), list):
        raise bare(BODY_MESSAGE)
    for entry in body["streams"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("metadata"), list):
            raise bare(BODY_MESSAGE)
        for item in entry["metadata"]:
            ok = isinstance(item, dict) and isinstance(item.get("breadcrumb"), list)
            if not ok or not isinstance(item.get("metadata"), dict):
                raise bare(BODY_MESSAGE)
    return list(body["streams"])


def _clojure_set(names: list[str]) -> str:
    return "#{" + " ".join(json.dumps(n) for n in names) + "}"


def _is_replication_key_type(schema: dict[str, Any]) -> bool:
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    return "integer" in types or schema.get("format") == "date-time"


def _check_stream(
    stream: Stream, top: dict[str, Any], fields: dict[str, dict[str, Any]], touched: set[str]
) -> None:
    """The §4.9 selection rules for one stream's state after the update."""
    tap = stream.tap_stream_id
    selected = top.get("selected")
    if selected not in (None, True, False):
        raise invalid_fields(f"invalid value for selected in {tap}: {json.dumps(selected)}")
    for name in touched:
        meta = fields[name]
        if meta.get("selected") not in (None, True, False):
            raise invalid_fields(f"invalid value for selected in {tap}: {name}")
        if meta.get("selected") is True and meta.get("inclusion") == "unsupported":
            raise invalid_fields("Unsupported fields cannot be selected by default")
        if meta.get("selected") is True and selected is not True:
            raise invalid_fields(f"stream {tap} must be selected before its fields")
    if selected is not True:
        return
    forced = top.get("forced-replication-method")
    method = top.get("replication-method") or forced
    if method is None:
        raise invalid_fields(f"replication-method is required to select {tap}")
    if method not in METHODS or (forced and method != forced):
        raise invalid_fields(f"invalid replication-method for {tap}: {method}")
    if method == "LOG_BASED" and "database-name" not in top:
        raise invalid_fields(f"invalid replication-method for {tap}: {method}")
    key = top.get("replication-key")
    if method == "INCREMENTAL" and not forced:
        valid = top.get("valid-replication-keys")
        properties = stream.schema.get("properties", {})
        if key is None:
            raise invalid_fields(f"replication-key is required for INCREMENTAL in {tap}")
        if valid and key not in valid:
            raise invalid_fields(f"invalid replication-key for {tap}: {key}")
        if not valid and not _is_replication_key_type(properties.get(key, {})):
            raise invalid_fields(f"invalid replication-key for {tap}: {key}")
    if top.get("is-view"):
        view_keys = top.get("view-key-properties")
        if not isinstance(view_keys, list) or not view_keys:
            raise invalid_fields(f"view-key-properties are required to select the view {tap}")
        if any(k not in stream.fields for k in view_keys):
            raise invalid_fields(f"invalid view-key-properties for {tap}")


def update_metadata(source: Source | None, step_type: str, body: Any) -> None:
    """`PUT /v4/sources/{id}/streams/metadata`: validate everything, then merge (§5.4)."""
    entries = _parse_body(body)
    selectable = source is not None and step_type in SELECTABLE_STEPS
    by_id = {s.tap_stream_id: s for s in source.streams} if source and selectable else {}
    unknown = []
    for entry in entries:
        tap = entry.get("tap_stream_id")
        if not isinstance(tap, str):
            unknown.append("nil")
        elif tap not in by_id:
            unknown.append(tap)
    if unknown:
        raise invalid_fields(f"invalid tap-stream-ids:  [{' '.join(unknown)}]")
    read_only = []
    for entry in entries:
        for item in entry["metadata"]:
            allowed = NON_DISCOVERABLE if item["breadcrumb"] == [] else ["selected"]
            read_only += [k for k in item["metadata"] if k not in allowed and k not in read_only]
    if read_only:
        raise invalid_fields(
            f"only non-discoverable metadata can be produced by the UI: {_clojure_set(read_only)}"
        )
    planned = []
    for entry in entries:
        stream = by_id[entry["tap_stream_id"]]
        top = {**stream.metadata, "selected": stream.selected}
        fields = copy.deepcopy(stream.fields)
        touched: set[str] = set()
        for item in entry["metadata"]:
            crumb = item["breadcrumb"]
            if crumb == []:
                top.update(item["metadata"])
            elif len(crumb) == 2 and crumb[0] == "properties" and crumb[1] in fields:
                fields[crumb[1]].update(item["metadata"])
                touched.add(crumb[1])
            else:
                raise invalid_fields(f"invalid breadcrumb for {stream.tap_stream_id}: {crumb}")
        _check_stream(stream, top, fields, touched)
        planned.append((stream, top, fields))
    for stream, top, fields in planned:
        stream.selected = top.pop("selected")
        stream.metadata = top
        stream.fields = fields
