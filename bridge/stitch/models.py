"""Stitch's objects as frozen values, parsed from the wire (reference §4).

Each keeps the dict it came from as `raw`, so a field we do not model is one lookup away. Parsing
is strict about what the bridge relies on (ids, types, the report card) and lenient about the
rest; a body that breaks the strict part raises ValueError, which the client reports as
StitchUnavailable.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from .errors import StitchUnavailable

_T = TypeVar("_T")


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"{what} is not a JSON object")
    return value


def _int(value: object, what: str) -> int:
    # bool is an int to Python, never an id to Stitch
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} is not an integer")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a string")
    return value


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _opt_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class ReportCardStep:
    type: str
    properties: tuple[dict[str, Any], ...]

    @classmethod
    def from_json(cls, data: object) -> ReportCardStep:
        step = _mapping(data, "report card step")
        properties = step.get("properties") or []
        if not isinstance(properties, list):
            raise ValueError("report card step properties is not a list")
        return cls(
            type=_str(step.get("type"), "report card step type"),
            properties=tuple(dict(p) for p in properties if isinstance(p, Mapping)),
        )


@dataclass(frozen=True)
class ReportCard:
    """Where a source (or a type, before creation) stands in its configuration steps.

    `current_step` counts from 1 (§4.2). Some documented cards omit `current_step_type`; then it
    is the type of `steps[current_step - 1]`.
    """

    type: str
    current_step: int
    current_step_type: str
    steps: tuple[ReportCardStep, ...]
    hints: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> ReportCard:
        card = _mapping(data, "report card")
        steps_json = card.get("steps")
        if not isinstance(steps_json, list):
            raise ValueError("report card steps is not a list")
        steps = tuple(ReportCardStep.from_json(s) for s in steps_json)
        current_step = _int(card.get("current_step"), "report card current_step")
        step_type = card.get("current_step_type")
        if not isinstance(step_type, str):
            if not 1 <= current_step <= len(steps):
                raise ValueError("report card current_step is outside its steps")
            step_type = steps[current_step - 1].type
        hints = card.get("current_step_hints")
        return cls(
            type=_str(card.get("type"), "report card type"),
            current_step=current_step,
            current_step_type=step_type,
            steps=steps,
            hints=dict(hints) if isinstance(hints, Mapping) else None,
            raw=dict(card),
        )

    @property
    def step_types(self) -> tuple[str, ...]:
        return tuple(step.type for step in self.steps)


@dataclass(frozen=True)
class Source:
    """A source as Stitch returns it; `properties` never holds credentials (§4.1)."""

    id: int
    type: str
    display_name: str
    name: str
    properties: dict[str, Any]
    stitch_client_id: int | None
    created_at: str | None
    updated_at: str | None
    deleted_at: str | None
    paused_at: str | None
    system_paused_at: str | None
    check_job_name: str | None
    schedule: dict[str, Any] | None
    report_card: ReportCard
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> Source:
        source = _mapping(data, "source")
        properties = source.get("properties")
        schedule = source.get("schedule")
        return cls(
            id=_int(source.get("id"), "source id"),
            type=_str(source.get("type"), "source type"),
            display_name=_opt_str(source.get("display_name")) or "",
            name=_opt_str(source.get("name")) or "",
            properties=dict(properties) if isinstance(properties, Mapping) else {},
            stitch_client_id=_opt_int(source.get("stitch_client_id")),
            created_at=_opt_str(source.get("created_at")),
            updated_at=_opt_str(source.get("updated_at")),
            deleted_at=_opt_str(source.get("deleted_at")),
            paused_at=_opt_str(source.get("paused_at")),
            system_paused_at=_opt_str(source.get("system_paused_at")),
            check_job_name=_opt_str(source.get("check_job_name")),
            schedule=dict(schedule) if isinstance(schedule, Mapping) else None,
            report_card=ReportCard.from_json(source.get("report_card")),
            raw=dict(source),
        )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None or self.system_paused_at is not None


@dataclass(frozen=True)
class SourceType:
    """A source type's report card plus `details`; 44 legacy types have no report card (§4.5)."""

    type: str
    report_card: ReportCard | None
    details: dict[str, Any]
    upgrade_available: dict[str, Any] | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> SourceType:
        entry = _mapping(data, "source type")
        details = entry.get("details")
        upgrade = entry.get("upgrade_available")
        return cls(
            type=_str(entry.get("type"), "source type"),
            report_card=ReportCard.from_json(entry) if "steps" in entry else None,
            details=dict(details) if isinstance(details, Mapping) else {},
            upgrade_available=dict(upgrade) if isinstance(upgrade, Mapping) else None,
            raw=dict(entry),
        )

    @property
    def access(self) -> bool:
        """Whether this account may create sources of the type (`details.access`)."""
        return self.details.get("access") is True


@dataclass(frozen=True)
class ConnectionCheck:
    """The last connection-check job of a source (§4.7)."""

    name: str
    status: str
    error: bool
    discovery_exit_status: int | None
    discovery_error_message: str | None
    check_exit_status: int | None
    mode: str | None
    start_time: str | None
    completion_time: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> ConnectionCheck:
        check = _mapping(data, "connection check")
        return cls(
            name=_str(check.get("name"), "connection check name"),
            status=_str(check.get("status"), "connection check status"),
            error=check.get("error") is True,
            discovery_exit_status=_opt_int(check.get("discovery_exit_status")),
            discovery_error_message=_opt_str(check.get("discovery_error_message")),
            check_exit_status=_opt_int(check.get("check_exit_status")),
            mode=_opt_str(check.get("mode")),
            start_time=_opt_str(check.get("start_time")),
            completion_time=_opt_str(check.get("completion_time")),
            raw=dict(check),
        )

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def succeeded(self) -> bool:
        """Check and discovery both passed: the source moves on to field selection (§4.7)."""
        return self.status == "succeeded" and self.discovery_exit_status in (0, None)


@dataclass(frozen=True)
class Stream:
    """One discovered stream; `selected` is None until it was ever (de)selected (§4.8)."""

    stream_id: int
    tap_stream_id: str
    stream_name: str
    selected: bool | None
    metadata: dict[str, Any]
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> Stream:
        stream = _mapping(data, "stream")
        metadata = stream.get("metadata")
        selected = stream.get("selected")
        tap_stream_id = _str(stream.get("tap_stream_id"), "stream tap_stream_id")
        return cls(
            stream_id=_int(stream.get("stream_id"), "stream id"),
            tap_stream_id=tap_stream_id,
            stream_name=_opt_str(stream.get("stream_name")) or tap_stream_id,
            selected=selected if isinstance(selected, bool) else None,
            metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            raw=dict(stream),
        )


@dataclass(frozen=True)
class Destination:
    """A v4 destination (§4.13). Its `properties` are left in `raw` on purpose: the bridge shows
    a destination by id, type, name and times only, so nothing it renders can carry a credential."""

    id: int
    type: str
    name: str | None
    created_at: str | None
    updated_at: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)

    @classmethod
    def from_json(cls, data: object) -> Destination:
        destination = _mapping(data, "destination")
        return cls(
            id=_int(destination.get("id"), "destination id"),
            type=_str(destination.get("type"), "destination type"),
            name=_opt_str(destination.get("name")),
            created_at=_opt_str(destination.get("created_at")),
            updated_at=_opt_str(destination.get("updated_at")),
            raw=dict(destination),
        )


def path_id(value: int) -> int:
    # Ids go into paths: refuse anything that is not a plain integer instead of quoting it.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"Stitch ids are integers, not {type(value).__name__}")
    return value


def parse_one(body: object, parse: Callable[[object], _T], what: str) -> _T:
    """`parse(body)`; a malformed body is StitchUnavailable (Stitch did not keep its word)."""
    try:
        return parse(body)
    except ValueError as exc:
        raise StitchUnavailable(f"unexpected {what} from Stitch: {exc}") from None


def parse_many(body: object, parse: Callable[[object], _T], what: str) -> list[_T]:
    if not isinstance(body, list):
        raise StitchUnavailable(f"unexpected {what} from Stitch: not a JSON array")
    return [parse_one(item, parse, what) for item in body]


def parse_access_grant(body: object) -> tuple[str, int]:
    """(access_token, stitch_account_id) from /v3/accounts or /oauth/token; never echoes them."""
    if isinstance(body, Mapping):
        token, account_id = body.get("access_token"), body.get("stitch_account_id")
        if isinstance(token, str) and token and isinstance(account_id, int):
            if not isinstance(account_id, bool):
                return token, account_id
    raise StitchUnavailable("unexpected answer from Stitch: no access_token or stitch_account_id")
