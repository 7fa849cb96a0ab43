"""The destination calls of an account (reference §5.7), mixed into `StitchAccount`.

A destination's properties are the warehouse's credentials, so every write scrubs their values
from the error it may raise, and Stitch's refusals (bare strings, §7.6, that no parser could tell
apart from other 400s) become one typed error here, where the call site says what was refused.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import StitchBadRequest, StitchDestinationRefused
from .models import Destination, parse_many, parse_one, path_id


class DestinationCalls:
    __slots__ = ()

    if TYPE_CHECKING:

        async def _call(self, method: str, path: str, **kwargs: Any) -> Any: ...

    async def list_destinations(self) -> list[Destination]:
        body = await self._call("GET", "/v4/destinations")
        return parse_many(body, Destination.from_json, "destinations")

    async def create_destination(
        self, *, type: str, properties: dict[str, Any], name: str | None = None
    ) -> Destination:
        """POST /v4/destinations; like a source, never repeated once it may have been sent."""
        payload: dict[str, Any] = {"type": type, "properties": properties}
        if name is not None:
            payload["name"] = name
        body = await self._write_destination("POST", "/v4/destinations", payload)
        return parse_one(body, Destination.from_json, "destination")

    async def update_destination(
        self, destination_id: int, *, properties: dict[str, Any], name: str | None = None
    ) -> Destination:
        """PUT /v4/destinations/{id}: Stitch merges `properties`; it never changes the type."""
        payload: dict[str, Any] = {"properties": properties}
        if name is not None:
            payload["name"] = name
        path = f"/v4/destinations/{path_id(destination_id)}"
        body = await self._write_destination("PUT", path, payload)
        return parse_one(body, Destination.from_json, "destination")

    async def _write_destination(self, method: str, path: str, payload: dict[str, Any]) -> Any:
        # Every string among the properties is scrubbed, as the access token is.
        values = [v for v in payload["properties"].values() if isinstance(v, str)]
        try:
            return await self._call(method, path, json_body=payload, secrets=values)
        except StitchBadRequest as error:
            raise StitchDestinationRefused(
                error.message,
                status=error.status,
                stitch_code=error.stitch_code,
                body=error.body,
                bad_properties=getattr(error, "bad_properties", ()),
            ) from None
