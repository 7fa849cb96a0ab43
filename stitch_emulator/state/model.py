"""The emulator's records: plain mutable dataclasses that together make up one `World`.

Everything here is what `--state-file` persists; nothing here knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass
class Account:
    id: int
    email: str
    first_name: str
    last_name: str
    company: str
    region: str
    created_at: datetime
    access_tokens: list[str] = field(default_factory=list)


@dataclass
class WebSession:
    """What an ephemeral token is exchanged for inside the Stitch web app (§2.5): 12 hours."""

    token: str
    account_id: int
    expires_at: datetime


@dataclass
class EphemeralToken:
    token: str
    account_id: int
    expires_at: datetime


@dataclass
class AuthorizationCode:
    """A partner OAuth code (§2.4): single use, five minutes."""

    code: str
    client_id: str
    account_id: int
    expires_at: datetime


@dataclass
class ConnectionCheck:
    name: str
    start_time: datetime
    completes_at: datetime
    status: str = "running"
    completion_time: datetime | None = None
    check_exit_status: int | None = None
    discovery_exit_status: int | None = None
    discovery_error_message: str | None = None


@dataclass
class Stream:
    """A discovered stream: stream-level metadata plus field-level metadata by field name."""

    stream_id: int
    tap_stream_id: str
    stream_name: str
    schema: dict[str, Any]
    metadata: dict[str, Any]
    fields: dict[str, dict[str, Any]]
    selected: bool | None = None


@dataclass
class Source:
    id: int
    account_id: int
    type: str
    display_name: str
    name: str
    # Every provided property value, credentials included (they are never rendered).
    values: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None
    paused_at: str | None = None
    destination_id: int | None = None
    check_job_name: str | None = None
    last_check: ConnectionCheck | None = None
    streams: list[Stream] = field(default_factory=list)
    # §13.10: once fully configured, a source never moves back.
    fully_configured_at: datetime | None = None
    # The next scheduled job start still to act on; None while the source has no schedule.
    next_fire: datetime | None = None


@dataclass
class Job:
    name: str
    source_id: int
    account_id: int
    start_time: datetime
    ends_at: datetime
    completion_time: datetime | None = None
    stopped: bool = False
    loaded_streams: list[str] = field(default_factory=list)
    trigger: str = "manual"  # or "schedule"; Stitch's API does not show it (README)
    failed_phase: str | None = None  # scripted: discovery, tap, target or load
    message: str | None = None  # the error text of the failed phase


@dataclass
class JobScript:
    """The scripted outcome of a source's next replication job (`POST /_emulator/jobs`)."""

    source_id: int
    outcome: str  # succeeded | failed
    phase: str | None = None
    message: str | None = None


@dataclass
class Destination:
    id: int
    account_id: int
    type: str
    name: str
    description: str | None
    values: dict[str, Any]
    ignore_unmapped_sources: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


@dataclass
class CheckScript:
    """A scripted outcome for coming connection checks (`POST /_emulator/checks`)."""

    outcome: str
    discovery_error_message: str | None = None
    source_id: int | None = None
    count: int | None = 1


@dataclass
class World:
    """All emulator state that survives a restart with `--state-file`."""

    accounts: list[Account] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    destinations: list[Destination] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)
    web_sessions: list[WebSession] = field(default_factory=list)
    ephemeral_tokens: list[EphemeralToken] = field(default_factory=list)
    authorization_codes: list[AuthorizationCode] = field(default_factory=list)
    check_scripts: list[CheckScript] = field(default_factory=list)
    default_account_id: int | None = None
    next_ids: dict[str, int] = field(default_factory=dict)

    def next_id(self, kind: str, start: int) -> int:
        """Ids grow per kind from `start`; never reused, even after a reset of the records."""
        value = self.next_ids.get(kind, start)
        self.next_ids[kind] = value + 1
        return value

    def account(self, account_id: int) -> Account | None:
        return next((a for a in self.accounts if a.id == account_id), None)

    def source(self, account_id: int, source_id: int) -> Source | None:
        return next(
            (s for s in self.sources if s.id == source_id and s.account_id == account_id), None
        )

    def running_job(self, source_id: int) -> Job | None:
        return next(
            (j for j in self.jobs if j.source_id == source_id and j.completion_time is None), None
        )
