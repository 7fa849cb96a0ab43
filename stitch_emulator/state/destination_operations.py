"""Destinations and their types (§5.7) as a part of the backend.

Plain and unlocked: `EmulatorBackend` serialises and settles around every call.
"""

from __future__ import annotations

import copy
from typing import Any

from . import destinations
from .context import Context
from .errors import ApiError, not_found
from .model import Destination


class DestinationOperations:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx

    def _card(self, type_name: str) -> dict[str, Any]:
        return self.ctx.catalogue.destination_types[type_name]

    def render(self, destination: Destination, *, with_check: bool = False) -> dict[str, Any]:
        return destinations.render(destination, self._card(destination.type), with_check=with_check)

    def list_types(self) -> list[dict[str, Any]]:
        return copy.deepcopy(list(self.ctx.catalogue.destination_types.values()))

    def get_type(self, type_name: str) -> dict[str, Any]:
        card = self.ctx.catalogue.destination_types.get(type_name)
        if card is None:
            raise not_found(f"destination type not found ({type_name})")
        return copy.deepcopy(card)

    def create(self, account_id: int, body: Any) -> dict[str, Any]:
        ctx = self.ctx
        destinations.validate_create(
            ctx.world,
            ctx.catalogue.destination_types,
            account_id,
            body,
            ctx.config.destination_limit,
        )
        return self.render(destinations.create(ctx.world, account_id, body, ctx.now()))

    def listed(self, account_id: int, query: dict[str, str]) -> list[dict[str, Any]]:
        return [self.render(d) for d in destinations.listed(self.ctx.world, account_id, query)]

    def _live(self, account_id: int, destination_id: int) -> Destination | None:
        live = destinations.live(self.ctx.world, account_id)
        return next((d for d in live if d.id == destination_id), None)

    def update(self, account_id: int, destination_id: int, body: Any) -> dict[str, Any]:
        found = self._live(account_id, destination_id)
        return self.render(destinations.update(found, body, self.ctx.now()), with_check=True)

    def delete(self, account_id: int, destination_id: int) -> dict[str, Any]:
        found = self._live(account_id, destination_id)
        if found is None:
            raise ApiError(
                400,
                f"Unable to locate dest ({destination_id}) for client ({account_id}) to delete",
            )
        found.deleted_at = self.ctx.now()
        return {}
