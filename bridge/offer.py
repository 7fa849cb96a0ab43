"""The shapes of the catalogue a widget is offered (GET /v1/source-types, CONTRACT §4.2): a leaf,
so that the catalogue and the end-user limits that narrow it both name them."""

from __future__ import annotations

from typing import Any, TypedDict


class FormField(TypedDict):
    """One property of a source type's form that an end user may set."""

    name: str
    label: str
    is_required: bool
    is_credential: bool
    property_type: str
    json_schema: Any  # Stitch's own JSON Schema for the value, passed on as it is


class OfferedType(TypedDict):
    """A source type as the widget shows it."""

    type: str
    display_name: str
    steps: list[str]
    form: list[FormField]
