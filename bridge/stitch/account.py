"""The Connect API as one account sees it: typed calls signed with that account's token.

`StitchClient.account(token)` makes one; it shares the client's pool, retry policy and budget, and
names its budget by `budget_key`, which never holds the token itself.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final, Protocol
from urllib.parse import quote

from .destinations import DestinationCalls
from .errors import StitchNotFound, StitchUnavailable, parse_error
from .models import (
    ConnectionCheck,
    Source,
    SourceType,
    Stream,
    parse_many,
    parse_one,
)
from .models import path_id as _id


class Caller(Protocol):
    """What an account needs of its client (bridge/stitch/client.py `StitchClient`)."""

    base_url: str
    _secrets: tuple[str, ...]  # the app's own secrets, scrubbed from errors too

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str,
        bearer: str | None = None,
        json_body: object = None,
        form_body: dict[str, str] | None = None,
        secrets: Iterable[str] = (),
        allow_empty: bool = False,
        once: bool = False,
    ) -> Any: ...


class _Unset(enum.Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""`update_source(paused_at=UNSET)` leaves the pause alone; None unpauses."""


def budget_key(kind: str, credential: str) -> str:
    """A stable, non-secret name for a credential, the same on every replica."""
    return f"{kind}:{hashlib.sha256(credential.encode()).hexdigest()[:16]}"


class StitchAccount(DestinationCalls):
    """The Connect API as one account sees it; shares its client's pool, retry policy and budget."""

    __slots__ = ("_client", "_token", "budget_key")

    def __init__(self, client: Caller, access_token: str) -> None:
        self._client = client
        self._token = access_token
        self.budget_key = budget_key("account", access_token)

    def __repr__(self) -> str:
        return f"StitchAccount({self._client.base_url!r}, budget_key={self.budget_key!r})"

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._client.call(
            method, path, key=self.budget_key, bearer=self._token, **kwargs
        )

    async def list_source_types(self) -> list[SourceType]:
        body = await self._call("GET", "/v4/source-types")
        return parse_many(body, SourceType.from_json, "source types")

    async def get_source_type(self, source_type: str) -> SourceType:
        body = await self._call("GET", f"/v4/source-types/{quote(source_type, safe='')}")
        return parse_one(body, SourceType.from_json, "source type")

    async def create_source(
        self, *, type: str, display_name: str, properties: dict[str, Any] | None = None
    ) -> Source:
        """POST /v4/sources. Never repeated once it may have been sent: a lost answer is for the
        caller to reconcile (by listing sources), not for us to turn into a second source."""
        payload: dict[str, Any] = {"type": type, "display_name": display_name}
        if properties is not None:
            payload["properties"] = properties
        body = await self._call("POST", "/v4/sources", json_body=payload)
        return parse_one(body, Source.from_json, "source")

    async def list_sources(self) -> list[Source]:
        body = await self._call("GET", "/v4/sources")
        return parse_many(body, Source.from_json, "sources")

    async def get_source(self, source_id: int) -> Source:
        body = await self._call("GET", f"/v4/sources/{_id(source_id)}")
        return parse_one(body, Source.from_json, "source")

    async def update_source(
        self,
        source_id: int,
        *,
        display_name: str | None = None,
        properties: dict[str, Any] | None = None,
        paused_at: str | datetime | None | _Unset = UNSET,
    ) -> Source:
        """PUT /v4/sources/{id}: only the keys given are sent; Stitch merges `properties`."""
        payload: dict[str, Any] = {}
        if display_name is not None:
            payload["display_name"] = display_name
        if properties is not None:
            payload["properties"] = properties
        if paused_at is not UNSET:
            payload["paused_at"] = _timestamp(paused_at)
        body = await self._call("PUT", f"/v4/sources/{_id(source_id)}", json_body=payload)
        return parse_one(body, Source.from_json, "source")

    async def delete_source(self, source_id: int) -> Source:
        body = await self._call("DELETE", f"/v4/sources/{_id(source_id)}")
        return parse_one(body, Source.from_json, "source")

    async def last_connection_check(self, source_id: int) -> ConnectionCheck | None:
        """The latest check, or None when Stitch has none for the source (404)."""
        try:
            body = await self._call("GET", f"/v4/sources/{_id(source_id)}/last-connection-check")
        except StitchNotFound as exc:
            if exc.status == 404:
                return None
            raise
        return parse_one(body, ConnectionCheck.from_json, "connection check")

    async def list_streams(self, source_id: int) -> list[Stream]:
        body = await self._call("GET", f"/v4/sources/{_id(source_id)}/streams")
        return parse_many(body, Stream.from_json, "streams")

    async def get_stream_schema(self, source_id: int, stream_id: int) -> dict[str, Any]:
        """The Stream Schema object as Stitch sends it (its `schema` is a JSON *string*, §4.9)."""
        body = await self._call("GET", f"/v4/sources/{_id(source_id)}/streams/{_id(stream_id)}")
        if not isinstance(body, dict):
            raise StitchUnavailable("unexpected stream schema from Stitch: not a JSON object")
        return body

    async def update_stream_metadata(self, source_id: int, streams: list[dict[str, Any]]) -> None:
        """PUT …/streams/metadata; `streams` is `[{"tap_stream_id", "metadata": [...]}]` (§5.4)."""
        await self._call(
            "PUT",
            f"/v4/sources/{_id(source_id)}/streams/metadata",
            json_body={"streams": streams},
            allow_empty=True,
        )

    async def start_sync(self, source_id: int) -> str:
        """POST …/sync → job name; StitchAlreadyRunning if one runs (Stitch says so with 200)."""
        body = await self._call("POST", f"/v4/sources/{_id(source_id)}/sync")
        if isinstance(body, dict) and "error" in body:
            raise parse_error(200, body, secrets=(self._token, *self._client._secrets))
        if not isinstance(body, dict) or not isinstance(body.get("job_name"), str):
            raise StitchUnavailable("unexpected replication job from Stitch: no job_name")
        return str(body["job_name"])

    async def stop_sync(self, source_id: int) -> None:
        """DELETE …/sync (§5.5): stops the running job; nothing running is no error."""
        await self._call("DELETE", f"/v4/sources/{_id(source_id)}/sync", allow_empty=True)

    async def jobs_page(
        self, stitch_client_id: int, kind: str, page: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of GET /v4/{client}/extractions or /loads (§5.6) → (items, more pages?).

        Each page is one request of the `jobs` resource type (30 per 10 minutes per account):
        the caller counts them."""
        if kind not in ("extractions", "loads"):
            raise ValueError("kind is extractions or loads")
        path = f"/v4/{_id(stitch_client_id)}/{kind}?page={_id(page)}"
        body = await self._call("GET", path, once=True)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise StitchUnavailable(f"unexpected {kind} page from Stitch: no data")
        links = body.get("links")
        more = isinstance(links, dict) and bool(links.get("next"))
        return [item for item in data if isinstance(item, dict)], more

    async def create_ephemeral_token(self) -> str:
        """POST /v3/sessions/ephemeral: a one-hour token that logs Stitch.js into this account."""
        body = await self._call("POST", "/v3/sessions/ephemeral")
        if not isinstance(body, dict) or not isinstance(body.get("ephemeral_token"), str):
            raise StitchUnavailable("unexpected ephemeral session from Stitch: no ephemeral_token")
        return str(body["ephemeral_token"])


def _timestamp(value: str | datetime | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("paused_at must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
