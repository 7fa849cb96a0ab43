"""The seed catalogue of §11: source and destination type report cards and discovery fixtures.

Each JSON file here is data, loaded once per backend: `source_type.<type>.json` is the type's
report card (with `details`), `streams.<type>.json` what a successful discovery finds, and
`destination_type.<type>.json` a destination report card.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@dataclass(frozen=True)
class Catalogue:
    source_types: dict[str, dict[str, Any]]
    streams: dict[str, list[dict[str, Any]]]
    destination_types: dict[str, dict[str, Any]]

    def source_type(self, type_name: str) -> dict[str, Any] | None:
        return self.source_types.get(type_name)

    def stream_fixtures(self, type_name: str) -> list[dict[str, Any]]:
        """A fresh copy of the streams discovery finds for `type_name` (empty if none)."""
        return copy.deepcopy(self.streams.get(type_name, []))


def load_catalogue() -> Catalogue:
    """Read every JSON file of this package into a Catalogue."""
    kinds: dict[str, dict[str, Any]] = {"source_type": {}, "streams": {}, "destination_type": {}}
    for entry in sorted(resources.files(__package__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        kind, _, rest = entry.name.partition(".")
        kinds[kind][rest.removesuffix(".json")] = json.loads(entry.read_text(encoding="utf-8"))
    return Catalogue(
        source_types=kinds["source_type"],
        streams=kinds["streams"],
        destination_types=kinds["destination_type"],
    )
