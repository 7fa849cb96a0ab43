"""EmulatorBackend: the fake Stitch account store, one method per reference operation.

Plain Python, no HTTP (moto's backend/responses split): routes translate requests into these
calls, and tests and the popup routes call them directly. Work that Stitch does on its own
(connection checks, replication jobs) finishes lazily when the clock has passed its end.
"""

from __future__ import annotations

import dataclasses
import heapq
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from ..catalogue import Catalogue, load_catalogue
from ..clock import Clock
from ..config import EmulatorConfig
from . import accounts, checks, jobs, partner_oauth, persistence, sources, streams
from .controls import Controls
from .destination_operations import DestinationOperations
from .errors import bare, invalid_fields, not_found
from .job_operations import ReplicationJobOperations
from .model import Account, AuthorizationCode, CheckScript, JobScript, Source, World
from .operations import operation, reading
from .report_card import render_type_card, source_step_type
from .snapshot import snapshot as build_snapshot

DEFAULT_OWNER = {"first_name": "Emulator", "last_name": "Owner", "company": "Emulator"}


class EmulatorBackend(ReplicationJobOperations, DestinationOperations):
    """The whole fake Stitch: accounts, sources, checks, streams; jobs and destinations mixed in."""

    def __init__(
        self, config: EmulatorConfig, clock: Clock, catalogue: Catalogue | None = None
    ) -> None:
        self._lock = threading.RLock()
        self._initial_config = config
        self.config = config
        self.clock = clock
        self.catalogue = catalogue or load_catalogue()
        self.controls = Controls()
        self.jobs_rate_limit = jobs.JobsRateLimit()
        self.job_scripts: dict[int, JobScript] = {}  # source id -> outcome of its next job
        self.revision = 0
        self.world = World()
        if config.state_file and Path(config.state_file).exists():
            self.world = persistence.loads(Path(config.state_file).read_text(encoding="utf-8"))
            for source in self.world.sources:
                if source.next_fire is None:  # a state file from before scheduled jobs
                    self._reschedule(source)
        self._ensure_default_account()

    # -- emulator lifecycle ---------------------------------------------------------------

    def _ensure_default_account(self) -> None:
        default = self.world.account(self.world.default_account_id or -1)
        if default is None:
            owner = {**DEFAULT_OWNER, "email": self.config.default_account_email}
            default = accounts.create_account(
                self.world,
                owner,
                self.clock.now(),
                self.config.access_token,
                account_id=self.world.default_account_id,
            )
            self.world.default_account_id = default.id
        if self.config.access_token not in default.access_tokens:
            default.access_tokens.append(self.config.access_token)

    @property
    def default_account(self) -> Account:
        account = self.world.account(self.world.default_account_id or -1)
        assert account is not None
        return account

    @operation
    def reset(self) -> None:
        """Forget every record and control; ids keep growing so none is ever reused."""
        self.world = World(
            next_ids=dict(self.world.next_ids), default_account_id=self.world.default_account_id
        )
        self.config = self._initial_config
        self.controls.reset()
        self.jobs_rate_limit = jobs.JobsRateLimit()
        self.job_scripts = {}
        self._ensure_default_account()
        provider = getattr(self, "provider", None)
        if provider is not None:  # the fake OAuth provider's clients and scripted errors
            provider.reset()

    @operation
    def configure(self, **changes: Any) -> EmulatorConfig:
        """Switch settings at run time (`POST /_emulator/config`)."""
        self.config = dataclasses.replace(self.config, **changes)
        return self.config

    def dump_state(self) -> str:
        with self._lock:
            return persistence.dumps(self.world)

    def _settle(self) -> None:
        """Finish every check and job whose time has come and start every scheduled job whose
        fire time has come, in time order (a job ending at a fire time frees the source)."""
        now = self.clock.now()
        due: list[tuple[datetime, int, int, Any]] = []
        for source in self.world.sources:
            check = source.last_check
            if check is not None and check.status == "running" and check.completes_at <= now:
                due.append((check.completes_at, 0, len(due), source))
            for fire in self._due_fires(source, now):
                due.append((fire, 2, len(due), source))
        for job in self.world.jobs:
            if job.completion_time is None and job.ends_at <= now:
                due.append((job.ends_at, 1, len(due), job))
        heapq.heapify(due)
        settled = bool(due)
        while due:
            when, kind, _, item = heapq.heappop(due)
            if kind == 0:
                card = self._type_card(item.type)
                before = source_step_type(item, card)
                checks.complete_check(self.world, item, self.catalogue.stream_fixtures(item.type))
                checks.refresh(item, card, before, False, when, self.config.check_delay)
            elif kind == 1:
                jobs.complete_job(item, self.world.source(item.account_id, item.source_id))
            else:
                job = self._start_scheduled_job(item, when)
                if job is not None and job.ends_at <= now:
                    heapq.heappush(due, (job.ends_at, 1, -len(self.world.jobs), job))
        if settled:
            self.revision += 1

    # -- accounts and sessions (§2) -------------------------------------------------------

    @operation
    def create_account(self, body: Any) -> dict[str, Any]:
        owner = accounts.validate_account_body(
            body, str(self.config.partner_id), str(self.config.partner_secret)
        )
        account = accounts.create_account(self.world, owner, self.clock.now())
        return {"access_token": account.access_tokens[0], "stitch_account_id": account.id}

    def account_for_token(self, token: str) -> Account | None:
        with self._lock:
            return accounts.account_for_token(self.world, token, self.clock.now())

    @operation
    def create_ephemeral_token(self, account_id: int) -> str:
        return accounts.create_ephemeral_token(self.world, account_id, self.clock.now())

    @operation
    def exchange_ephemeral_token(self, ephemeral_token: str) -> str:
        return accounts.exchange_ephemeral_token(self.world, ephemeral_token, self.clock.now())

    # -- partner OAuth (§2.4) -------------------------------------------------------------

    @operation
    def consent(self, owner: dict[str, str]) -> Account:
        return partner_oauth.consenting_account(self.world, owner, self.clock.now())

    @operation
    def save_authorization_code(self, code: str, client_id: str, account_id: int) -> None:
        partner_oauth.save_code(self.world, code, client_id, account_id, self.clock.now())

    def find_authorization_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        with self._lock:
            return partner_oauth.find_code(self.world, code, client_id, self.clock.now())

    @operation
    def redeem_authorization_code(self, code: AuthorizationCode) -> tuple[Account, str] | None:
        return partner_oauth.redeem_code(self.world, code)

    # -- source types (§5.1) --------------------------------------------------------------

    def _type_card(self, type_name: str) -> dict[str, Any]:
        card = self.catalogue.source_type(type_name)
        assert card is not None, type_name
        return card

    def list_source_types(self) -> list[dict[str, Any]]:
        hints = self.config.current_step_hints
        return [render_type_card(c, hints=hints) for c in self.catalogue.source_types.values()]

    def get_source_type(self, type_name: str) -> dict[str, Any]:
        card = self.catalogue.source_type(type_name)
        if card is None:
            raise not_found(f"source type not found ({type_name})")
        return render_type_card(card, hints=self.config.current_step_hints)

    # -- sources (§5.2) -------------------------------------------------------------------

    def render_source(self, source: Source) -> dict[str, Any]:
        return sources.render_source(
            source,
            self._type_card(source.type),
            hints=self.config.current_step_hints,
            now=self.clock.now(),
        )

    def _step_type(self, source: Source) -> str:
        return source_step_type(source, self._type_card(source.type))

    def _owned(self, account_id: int, source_id: int) -> Source:
        source = self.world.source(account_id, source_id)
        if source is None:
            raise not_found(f"source not found ({source_id})")
        return source

    def _after_mutation(self, source: Source, before: str | None, changed: bool) -> None:
        card = self._type_card(source.type)
        checks.refresh(source, card, before, changed, self.clock.now(), self.config.check_delay)
        self._reschedule(source)
        # A zero check delay finishes the check before the response is rendered.
        self._settle()

    @operation
    def create_source(self, account_id: int, body: Any) -> dict[str, Any]:
        card, name, supplied = sources.validate_create(
            self.world,
            self.catalogue.source_types,
            account_id,
            body,
            hints=self.config.current_step_hints,
            cron_allowed=self.config.cron_scheduling,
        )
        now = self.clock.now()
        source = Source(
            id=self.world.next_id("source", 120640),
            account_id=account_id,
            type=card["type"],
            display_name=body["display_name"],
            name=name,
            values={**sources.system_values(card, supplied), **supplied},
            created_at=now,
            updated_at=now,
            destination_id=body.get("destination_id"),
        )
        self.world.sources.append(source)
        self._after_mutation(source, None, bool(supplied))
        return self.render_source(source)

    @reading
    def list_sources(self, account_id: int) -> list[dict[str, Any]]:
        owned = [s for s in self.world.sources if s.account_id == account_id]
        return [self.render_source(s) for s in owned]

    @reading
    def get_source(self, account_id: int, source_id: int) -> dict[str, Any]:
        return self.render_source(self._owned(account_id, source_id))

    @operation
    def update_source(self, account_id: int, source_id: int, body: Any) -> dict[str, Any]:
        source = self.world.source(account_id, source_id)
        card = self.catalogue.source_type(source.type) if source else None
        sources.validate_update(
            source,
            source_id,
            card,
            body,
            hints=self.config.current_step_hints,
            cron_allowed=self.config.cron_scheduling,
        )
        assert source is not None and card is not None
        before = source_step_type(source, card)
        changed = sources.apply_update(source, body, self.clock.now())
        self._after_mutation(source, before, changed)
        return self.render_source(source)

    @operation
    def delete_source(self, account_id: int, source_id: int) -> dict[str, Any]:
        source = self.world.source(account_id, source_id)
        if source is None or source.deleted_at is not None:
            raise sources.source_error_id(source_id)
        now = self.clock.now()
        source.deleted_at = source.updated_at = now
        running = self.world.running_job(source.id)
        if running is not None:
            jobs.stop_job(running, now)
        self._reschedule(source)
        return self.render_source(source)

    @operation
    def authorize_source(self, account_id: int, source_id: int) -> dict[str, Any]:
        """Finish Stitch-managed OAuth as the end user would in the popup (§9.3 oauth (a))."""
        source = self._owned(account_id, source_id)
        if source.deleted_at is not None:
            raise not_found(f"source not found ({source_id})")
        before = self._step_type(source)
        sources.fill_oauth(source, self._type_card(source.type), self.clock.now())
        self._after_mutation(source, before, True)
        return self.render_source(source)

    # -- connection checks and streams (§5.3, §5.4) ---------------------------------------

    @reading
    def get_last_connection_check(self, account_id: int, source_id: int) -> dict[str, Any]:
        source = self._owned(account_id, source_id)
        if source.last_check is None:
            raise not_found(f"no connection check for source ({source_id})")
        return checks.render_check(source.last_check)

    @operation
    def script_check(self, script: CheckScript) -> None:
        self.world.check_scripts.append(script)

    @operation
    def clear_check_scripts(self) -> None:
        self.world.check_scripts.clear()

    def check_scripts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dataclasses.asdict(s) for s in self.world.check_scripts]

    @reading
    def list_streams(self, account_id: int, source_id: int) -> list[dict[str, Any]]:
        return [streams.render_stream(s) for s in self._owned(account_id, source_id).streams]

    @reading
    def get_stream_schema(self, account_id: int, source_id: int, stream_id: int) -> dict[str, Any]:
        source = self.world.source(account_id, source_id)
        found = [s for s in (source.streams if source else []) if s.stream_id == stream_id]
        if not found:
            raise bare(f"invalid stream-id: {stream_id}")
        return streams.render_schema(found[0])

    @operation
    def update_stream_metadata(self, account_id: int, source_id: int, body: Any) -> dict[str, int]:
        source = self.world.source(account_id, source_id)
        if source is None or source.deleted_at is not None:
            # Nothing to select: every tap_stream_id named is invalid (§13.15).
            streams.update_metadata(None, "none", body)
            raise invalid_fields("invalid tap-stream-ids:  []")
        before = self._step_type(source)
        streams.update_metadata(source, before, body)
        source.updated_at = self.clock.now()
        self._after_mutation(source, before, False)
        return {"status": 200}

    # -- test controls --------------------------------------------------------------------

    @operation
    def add_account(self, owner: dict[str, str]) -> Account:
        """A client account made directly, without partner credentials (for tests)."""
        return accounts.create_account(self.world, owner, self.clock.now())

    def source_owner(self, source_id: int) -> int | None:
        """The account a source belongs to (controls act on any account's sources)."""
        with self._lock:
            return next((s.account_id for s in self.world.sources if s.id == source_id), None)

    @reading
    def snapshot(self) -> dict[str, Any]:
        """`GET /_emulator/state`: everything a test may want to assert on, as JSON."""
        return build_snapshot(self)
