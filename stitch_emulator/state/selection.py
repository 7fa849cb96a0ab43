"""The field replication rule of §4.9 (`field-selection-rules.yml`)."""

from __future__ import annotations

from typing import Any


def replicated(field_metadata: dict[str, Any]) -> bool:
    """Whether a field is replicated, given its `inclusion`, `selected`, `selected-by-default`."""
    inclusion = field_metadata.get("inclusion")
    if inclusion == "automatic":
        return True
    if inclusion == "available":
        return (
            field_metadata.get("selected") is True
            or field_metadata.get("selected-by-default") is True
        )
    return False
