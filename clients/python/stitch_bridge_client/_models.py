"""Typed results: the bridge's JSON objects with their fields as attributes.

Each keeps the whole answer in `raw`; a field this version does not declare (a newer bridge)
is still readable as an attribute, and `to_dict()` gives the JSON back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


def _text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) else None


def _int(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _object(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


class _Result:
    """Attribute access to undeclared fields, and the JSON back."""

    raw: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        # Only reached for names that are not declared fields.
        raw = self.__dict__.get("raw")
        if raw is not None and not name.startswith("_") and name in raw:
            return raw[name]
        raise AttributeError(f"{type(self).__name__} has no field {name!r}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON object as the bridge sent it."""
        return dict(self.raw)


@dataclass(frozen=True)
class Schedule(_Result):
    """When Stitch replicates a source (all None until Stitch has a schedule)."""

    frequency_in_minutes: int | None
    anchor_time: str | None
    cron_expression: str | None
    next_sync_at: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Schedule:
        data = _object(data)
        return cls(
            frequency_in_minutes=_int(data, "frequency_in_minutes"),
            anchor_time=_text(data, "anchor_time"),
            cron_expression=_text(data, "cron_expression"),
            next_sync_at=_text(data, "next_sync_at"),
            raw=data,
        )


@dataclass(frozen=True)
class SyncState(_Result):
    """The source's last replication job: `state` is never, running, succeeded or failed;
    `error` is `{"phase", "message"}` when it failed."""

    state: str
    job_name: str | None
    trigger: str | None
    started_at: str | None
    completed_at: str | None
    last_succeeded_at: str | None
    error: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> SyncState:
        data = _object(data)
        error = data.get("error")
        return cls(
            state=_text(data, "state") or "never",
            job_name=_text(data, "job_name"),
            trigger=_text(data, "trigger"),
            started_at=_text(data, "started_at"),
            completed_at=_text(data, "completed_at"),
            last_succeeded_at=_text(data, "last_succeeded_at"),
            error=dict(error) if isinstance(error, Mapping) else None,
            raw=data,
        )


@dataclass(frozen=True)
class Source(_Result):
    """An end user's data source (CONTRACT §4.3); never carries credentials.

    `status` is needs_input, connecting, connected, needs_reauth, paused or deleted.
    """

    id: int
    type: str
    display_name: str | None
    name: str | None
    end_user_id: str | None
    tenant: str | None
    current_step: int | None
    current_step_type: str | None
    status: str
    created_at: str | None
    updated_at: str | None
    paused_at: str | None
    schedule: Schedule
    sync: SyncState
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Source:
        data = _object(data)
        return cls(
            id=_int(data, "id") or 0,
            type=_text(data, "type") or "",
            display_name=_text(data, "display_name"),
            name=_text(data, "name"),
            end_user_id=_text(data, "end_user_id"),
            tenant=_text(data, "tenant"),
            current_step=_int(data, "current_step"),
            current_step_type=_text(data, "current_step_type"),
            status=_text(data, "status") or "",
            created_at=_text(data, "created_at"),
            updated_at=_text(data, "updated_at"),
            paused_at=_text(data, "paused_at"),
            schedule=Schedule.from_json(data.get("schedule")),
            sync=SyncState.from_json(data.get("sync")),
            raw=data,
        )


@dataclass(frozen=True)
class ConnectSession(_Result):
    """A connect session: hand `token` and `expires_at` to the widget's `fetchSession`."""

    id: str
    token: str = field(repr=False)
    expires_at: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> ConnectSession:
        data = _object(data)
        return cls(
            id=_text(data, "id") or "",
            token=_text(data, "token") or "",
            expires_at=_text(data, "expires_at") or "",
            raw=data,
        )


@dataclass(frozen=True)
class ConnectLink(_Result):
    """A hosted connect link: send `url` to the end user; it works until `expires_at`."""

    id: str
    url: str = field(repr=False)
    expires_at: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> ConnectLink:
        data = _object(data)
        return cls(
            id=_text(data, "id") or "",
            url=_text(data, "url") or "",
            expires_at=_text(data, "expires_at") or "",
            raw=data,
        )


@dataclass(frozen=True)
class Event(_Result):
    """An event, as the events API lists it and as a webhook delivers it (CONTRACT §5).

    `data` holds `source` (as JSON), `end_user_id`, `tenant` and the type's own fields; `source`
    is the same source typed, when the event carries one.
    """

    id: str
    type: str
    created_at: str | None
    data: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @property
    def source(self) -> Source | None:
        found = self.data.get("source")
        return Source.from_json(found) if isinstance(found, Mapping) else None

    @property
    def end_user_id(self) -> str | None:
        return _text(self.data, "end_user_id")

    @classmethod
    def from_json(cls, data: Any) -> Event:
        data = _object(data)
        return cls(
            id=_text(data, "id") or "",
            type=_text(data, "type") or "",
            created_at=_text(data, "created_at"),
            data=_object(data.get("data")),
            raw=data,
        )


@dataclass(frozen=True)
class EventPage(_Result):
    """One page of `GET /v1/events`, newest first; `has_more` says another page follows."""

    data: list[Event]
    has_more: bool
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> EventPage:
        data = _object(data)
        items = data.get("data")
        return cls(
            data=[Event.from_json(e) for e in items] if isinstance(items, list) else [],
            has_more=data.get("has_more") is True,
            raw=data,
        )


@dataclass(frozen=True)
class Receipt(_Result):
    """A verified receipt: the widget's proof that `source` was connected by `end_user_id`."""

    valid: bool
    source: Source
    end_user_id: str
    tenant: str | None
    completed_at: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: Any) -> Receipt:
        data = _object(data)
        return cls(
            valid=data.get("valid") is True,
            source=Source.from_json(data.get("source")),
            end_user_id=_text(data, "end_user_id") or "",
            tenant=_text(data, "tenant"),
            completed_at=_text(data, "completed_at"),
            raw=data,
        )
