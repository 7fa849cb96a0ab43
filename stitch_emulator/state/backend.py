"""EmulatorBackend: the fake Stitch account store, one method per reference operation.

Plain Python, no HTTP (moto's backend/responses split): routes translate requests into these
calls, and tests and the popup routes call them directly. Work that Stitch does on its own
(connection checks, replication jobs) finishes lazily when the clock has passed its end.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from ..catalogue import Catalogue, load_catalogue
from ..clock import Clock
from ..config import EmulatorConfig
from . import (
    accounts,
    checks,
    destinations,
    jobs,
    partner_oauth,
    persistence,
    snapshot,
    sources,
    streams,
)
from .controls import Controls
from .errors import ApiError, job_error, not_found, unauthorized
from .model import Account, AuthorizationCode, CheckScript, Source, World
from .report_card import render_type_card, source_step_type

T = TypeVar("T")

DEFAULT_OWNER = {"first_name": "Emulator", "last_name": "Owner", "company": "Emulator"}


def operation(method: Callable[..., T]) -> Callable[..., T]:
    """Serialise an operation, settle due work first, and count successful writes."""

    @functools.wraps(method)
    def run(self: EmulatorBackend, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            self._settle()
            try:
                return method(self, *args, **kwargs)
            finally:
                # Counted even when it fails: a refused exchange still uses its token up.
                self.revision += 1

    return run


def reading(method: Callable[..., T]) -> Callable[..., T]:
    """Serialise a read and settle due work first, so that it sees the present."""

    @functools.wraps(method)
    def run(self: EmulatorBackend, *args: Any, **kwargs: Any) -> T:
        with self._lock:
            self._settle()
            return method(self, *args, **kwargs)

    return run


class EmulatorBackend:
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
        self.revision = 0
        self.world = World()
        if config.state_file and Path(config.state_file).exists():
            self.world = persistence.loads(Path(config.state_file).read_text(encoding="utf-8"))
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
        self._ensure_default_account()

    @operation
    def configure(self, **changes: Any) -> EmulatorConfig:
        """Switch settings at run time (`POST /_emulator/config`)."""
        self.config = dataclasses.replace(self.config, **changes)
        return self.config

    def dump_state(self) -> str:
        with self._lock:
            return persistence.dumps(self.world)

    def _settle(self) -> None:
        """Finish every check and job whose time has come, in the order they finished."""
        now = self.clock.now()
        due: list[tuple[Any, int, Any]] = []
        for source in self.world.sources:
            check = source.last_check
            if check is not None and check.status == "running" and check.completes_at <= now:
                due.append((check.completes_at, 0, source))
        for job in self.world.jobs:
            if job.completion_time is None and job.ends_at <= now:
                due.append((job.ends_at, 1, job))
        for when, kind, item in sorted(due, key=lambda d: (d[0], d[1])):
            if kind == 0:
                card = self._type_card(item.type)
                before = source_step_type(item, card)
                checks.complete_check(self.world, item, self.catalogue.stream_fixtures(item.type))
                checks.refresh(item, card, before, False, when, self.config.check_delay)
            else:
                jobs.complete_job(item, self.world.source(item.account_id, item.source_id))
        if due:
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

    @reading
    def list_streams(self, account_id: int, source_id: int) -> list[dict[str, Any]]:
        return [streams.render_stream(s) for s in self._owned(account_id, source_id).streams]

    @reading
    def get_stream_schema(self, account_id: int, source_id: int, stream_id: int) -> dict[str, Any]:
        source = self.world.source(account_id, source_id)
        found = [s for s in (source.streams if source else []) if s.stream_id == stream_id]
        if not found:
            raise ApiError(400, f"invalid stream-id: {stream_id}")
        return streams.render_schema(found[0])

    @operation
    def update_stream_metadata(self, account_id: int, source_id: int, body: Any) -> dict[str, int]:
        source = self.world.source(account_id, source_id)
        if source is None:
            raise ApiError(400, {"invalid_fields": "invalid tap-stream-ids:  [nil]"})
        card = self._type_card(source.type)
        before = source_step_type(source, card)
        streams.update_metadata(source, before, body)
        source.updated_at = self.clock.now()
        self._after_mutation(source, before, False)
        return {"status": 200}

    # -- replication jobs, extractions, loads (§5.5, §5.6) --------------------------------

    @operation
    def start_replication_job(self, account_id: int, source_id: int) -> dict[str, Any]:
        source = self.world.source(account_id, source_id)
        configured = source is not None and self._step_type(source) == "fully_configured"
        return jobs.start_replication(
            self.world,
            source,
            source_id,
            account_id,
            configured=configured,
            now=self.clock.now(),
            duration=self.config.job_duration,
        )

    @operation
    def stop_replication_job(self, account_id: int, source_id: int) -> dict[str, int]:
        if self.world.source(account_id, source_id) is None:
            raise job_error(
                "invalid_source", f"Unable to locate source({source_id}) for client ({account_id})"
            )
        running = self.world.running_job(source_id)
        if running is not None:
            jobs.stop_job(running, self.clock.now())
        return {"status": 200}

    def _jobs_request(self, account_id: int, client_id: int) -> None:
        if client_id != account_id:
            raise unauthorized("the access token has no access to this client id")
        if self.config.rate_limit_jobs:
            wait = self.jobs_rate_limit.hit(account_id, self.clock.now())
            if wait is not None:
                raise ApiError(
                    429,
                    {"error": "TooManyRequests", "data": {"message": "jobs rate limit exceeded"}},
                    {"Retry-After": str(int(wait + 0.999))},
                )

    @reading
    def list_extractions(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        self._jobs_request(account_id, client_id)
        items = jobs.extractions(self.world, account_id, self.clock.now())
        return jobs.paginate(items, page, f"/v4/{client_id}/extractions")

    @reading
    def list_loads(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        self._jobs_request(account_id, client_id)
        items = jobs.loads(self.world, account_id, self.clock.now())
        return jobs.paginate(items, page, f"/v4/{client_id}/loads")

    @reading
    def get_extraction_logs(self, account_id: int, client_id: int, job_name: str) -> str:
        """The job whose logs exist; the route answers with a 302 to them."""
        self._jobs_request(account_id, client_id)
        if not any(j.name == job_name and j.account_id == account_id for j in self.world.jobs):
            raise not_found(f"extraction job not found ({job_name})")
        return job_name

    def extraction_log_text(self, job_name: str) -> str | None:
        with self._lock:
            job = next((j for j in self.world.jobs if j.name == job_name), None)
            return None if job is None else jobs.log_text(job)

    # -- destinations (§5.7) --------------------------------------------------------------

    def _destination_card(self, type_name: str) -> dict[str, Any]:
        return self.catalogue.destination_types[type_name]

    def list_destination_types(self) -> list[dict[str, Any]]:
        return list(self.catalogue.destination_types.values())

    def get_destination_type(self, type_name: str) -> dict[str, Any]:
        card = self.catalogue.destination_types.get(type_name)
        if card is None:
            raise not_found(f"destination type not found ({type_name})")
        return card

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

    # -- test controls --------------------------------------------------------------------

    @operation
    def add_account(self, owner: dict[str, str]) -> Account:
        """A client account made directly, without partner credentials (for tests)."""
        return accounts.create_account(self.world, owner, self.clock.now())

    @reading
    def snapshot(self) -> dict[str, Any]:
        """`GET /_emulator/state`: everything a test may want to assert on, as JSON."""
        return snapshot.snapshot(self)
