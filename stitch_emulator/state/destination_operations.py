"""Destination operations of the backend (§5.7), kept apart from sources and accounts."""

from __future__ import annotations

import copy
from typing import Any

from . import destinations
from .errors import ApiError, not_found
from .operations import operation


class DestinationOperations:
    """Mixed into EmulatorBackend, whose world, clock, config and lock it uses."""

    def _destination_card(self, type_name: str) -> dict[str, Any]:
        return self.catalogue.destination_types[type_name]

    def list_destination_types(self) -> list[dict[str, Any]]:
        return copy.deepcopy(list(self.catalogue.destination_types.values()))

    def get_destination_type(self, type_name: str) -> dict[str, Any]:
        card = self.catalogue.destination_types.get(type_name)
        if card is None:
            raise not_found(f"destination type not found ({type_name})")
        return copy.deepcopy(card)

    @operation
    def create_destination(self, account_id: int, body: Any) -> dict[str, Any]:
        destinations.validate_create(
            self.world,
            self.catalogue.destination_types,
            account_id,
            body,
            self.config.destination_limit,
        )
        created = destinations.create(self.world, account_id, body, self.clock.now())
        return destinations.render(created, self._destination_card(created.type))

    def list_destinations(self, account_id: int, query: dict[str, str]) -> list[dict[str, Any]]:
        with self._lock:
            found = destinations.listed(self.world, account_id, query)
            return [destinations.render(d, self._destination_card(d.type)) for d in found]

    def _destination(self, account_id: int, destination_id: int) -> Any:
        return next(
            (d for d in destinations.live(self.world, account_id) if d.id == destination_id),
            None,
        )

    @operation
    def update_destination(self, account_id: int, destination_id: int, body: Any) -> dict[str, Any]:
        updated = destinations.update(
            self._destination(account_id, destination_id), body, self.clock.now()
        )
        return destinations.render(updated, self._destination_card(updated.type), with_check=True)

    @operation
    def delete_destination(self, account_id: int, destination_id: int) -> dict[str, Any]:
        found = self._destination(account_id, destination_id)
        if found is None:
            raise ApiError(
                400,
                f"Unable to locate dest ({destination_id}) for client ({account_id}) to delete",
            )
        found.deleted_at = self.clock.now()
        return {}
