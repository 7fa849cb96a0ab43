"""EmulatorBackend: the fake Stitch account store, one method per reference operation.

Plain Python, no HTTP (moto's backend/responses split): routes translate requests into these
calls, and tests and the popup routes call them directly. The backend is a thin facade over
parts it composes (accounts, partner OAuth, sources, jobs, destinations, all sharing one
`Context`); each method here only picks how it runs (`@operation`, `@reading`, `@locked`) and
delegates. Work that Stitch does on its own (connection checks, replication jobs) finishes
lazily when the clock has passed its end (`settling`).
"""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path
from typing import Any

from ..catalogue import Catalogue, load_catalogue
from ..clock import Clock
from ..config import EmulatorConfig
from ..provider import ProviderState
from . import persistence
from .account_operations import AccountOperations, PartnerOAuthOperations
from .context import Context
from .controls import Controls
from .destination_operations import DestinationOperations
from .job_operations import JobOperations
from .model import Account, AuthorizationCode, CheckScript, JobScript, World
from .operations import locked, operation, reading
from .settling import settle
from .snapshot import snapshot
from .source_operations import SourceOperations


class EmulatorBackend:
    """The whole fake Stitch. `provider`, when given, is the app's fake OAuth provider, cleared
    by `reset` with everything else."""

    def __init__(
        self,
        config: EmulatorConfig,
        clock: Clock,
        catalogue: Catalogue | None = None,
        *,
        provider: ProviderState | None = None,
    ) -> None:
        self._lock = threading.RLock()
        self.revision = 0
        self.ctx = Context(config, clock, catalogue or load_catalogue())
        self.controls = Controls()
        self.provider = provider
        self.accounts = AccountOperations(self.ctx)
        self.partner_oauth = PartnerOAuthOperations(self.ctx)
        self.jobs = JobOperations(self.ctx)
        self.sources = SourceOperations(self.ctx, self.jobs, self._settle)
        self.destinations = DestinationOperations(self.ctx)
        if config.state_file and Path(config.state_file).exists():
            self._load(Path(config.state_file))
        self.accounts.ensure_default()

    def _load(self, path: Path) -> None:
        self.ctx.world = persistence.loads(path.read_text(encoding="utf-8"))
        for source in self.ctx.world.sources:
            if source.next_fire is None:  # a state file from before scheduled jobs
                self.jobs.reschedule(source)

    def _settle(self) -> None:
        if settle(self.ctx, self.jobs):
            self.revision += 1

    # -- what tests and routes read directly ----------------------------------------------

    @property
    def world(self) -> World:
        return self.ctx.world

    @property
    def config(self) -> EmulatorConfig:
        return self.ctx.config

    @property
    def clock(self) -> Clock:
        return self.ctx.clock

    @property
    def catalogue(self) -> Catalogue:
        return self.ctx.catalogue

    @property
    def job_scripts(self) -> dict[int, JobScript]:
        return self.ctx.job_scripts

    @property
    def default_account(self) -> Account:
        return self.accounts.default()

    # -- emulator lifecycle ---------------------------------------------------------------

    @operation
    def reset(self) -> None:
        """Forget every record and control; ids keep growing so none is ever reused."""
        self.ctx.forget()
        self.controls.reset()
        self.accounts.ensure_default()
        if self.provider is not None:  # the fake OAuth provider's clients and scripted errors
            self.provider.reset()

    @operation
    def configure(self, **changes: Any) -> EmulatorConfig:
        """Switch settings at run time (`POST /_emulator/config`)."""
        self.ctx.config = dataclasses.replace(self.ctx.config, **changes)
        return self.ctx.config

    @locked
    def dump_state(self) -> str:
        return persistence.dumps(self.ctx.world)

    @reading
    def snapshot(self) -> dict[str, Any]:
        """`GET /_emulator/state`: everything a test may want to assert on, as JSON."""
        return snapshot(self.ctx, self.controls, self.sources, self.destinations)

    # -- accounts and sessions (§2) -------------------------------------------------------

    @operation
    def create_account(self, body: Any) -> dict[str, Any]:
        return self.accounts.create(body)

    @operation
    def add_account(self, owner: dict[str, str]) -> Account:
        """A client account made directly, without partner credentials (for tests)."""
        return self.accounts.add(owner)

    @locked
    def account_for_token(self, token: str) -> Account | None:
        return self.accounts.for_token(token)

    @operation
    def create_ephemeral_token(self, account_id: int) -> str:
        return self.accounts.create_ephemeral_token(account_id)

    @operation
    def exchange_ephemeral_token(self, ephemeral_token: str) -> str:
        return self.accounts.exchange_ephemeral_token(ephemeral_token)

    # -- partner OAuth (§2.4) -------------------------------------------------------------

    @operation
    def consent(self, owner: dict[str, str]) -> Account:
        return self.partner_oauth.consent(owner)

    @operation
    def save_authorization_code(self, code: str, client_id: str, account_id: int) -> None:
        self.partner_oauth.save_code(code, client_id, account_id)

    @locked
    def find_authorization_code(self, code: str, client_id: str) -> AuthorizationCode | None:
        return self.partner_oauth.find_code(code, client_id)

    @operation
    def redeem_authorization_code(self, code: AuthorizationCode) -> tuple[Account, str] | None:
        return self.partner_oauth.redeem_code(code)

    # -- source types and sources (§5.1, §5.2) --------------------------------------------

    @locked
    def list_source_types(self) -> list[dict[str, Any]]:
        return self.sources.list_types()

    @locked
    def get_source_type(self, type_name: str) -> dict[str, Any]:
        return self.sources.get_type(type_name)

    @locked
    def render_source(self, source: Any) -> dict[str, Any]:
        return self.sources.render(source)

    @operation
    def create_source(self, account_id: int, body: Any) -> dict[str, Any]:
        return self.sources.create(account_id, body)

    @reading
    def list_sources(self, account_id: int) -> list[dict[str, Any]]:
        return self.sources.listed(account_id)

    @reading
    def get_source(self, account_id: int, source_id: int) -> dict[str, Any]:
        return self.sources.render(self.sources.owned(account_id, source_id))

    @operation
    def update_source(self, account_id: int, source_id: int, body: Any) -> dict[str, Any]:
        return self.sources.update(account_id, source_id, body)

    @operation
    def delete_source(self, account_id: int, source_id: int) -> dict[str, Any]:
        return self.sources.delete(account_id, source_id)

    @operation
    def authorize_source(self, account_id: int, source_id: int) -> dict[str, Any]:
        """Finish Stitch-managed OAuth as the end user would in the popup (§9.3 oauth (a))."""
        return self.sources.authorize(account_id, source_id)

    @locked
    def source_owner(self, source_id: int) -> int | None:
        """The account a source belongs to (controls act on any account's sources)."""
        return self.sources.owner(source_id)

    # -- connection checks and streams (§5.3, §5.4) ---------------------------------------

    @reading
    def get_last_connection_check(self, account_id: int, source_id: int) -> dict[str, Any]:
        return self.sources.last_check(account_id, source_id)

    @operation
    def script_check(self, script: CheckScript) -> None:
        self.sources.script_check(script)

    @operation
    def clear_check_scripts(self) -> None:
        self.sources.clear_check_scripts()

    @locked
    def check_scripts(self) -> list[dict[str, Any]]:
        return self.sources.check_scripts()

    @reading
    def list_streams(self, account_id: int, source_id: int) -> list[dict[str, Any]]:
        return self.sources.list_streams(account_id, source_id)

    @reading
    def get_stream_schema(self, account_id: int, source_id: int, stream_id: int) -> dict[str, Any]:
        return self.sources.stream_schema(account_id, source_id, stream_id)

    @operation
    def update_stream_metadata(self, account_id: int, source_id: int, body: Any) -> dict[str, int]:
        return self.sources.update_stream_metadata(account_id, source_id, body)

    # -- replication jobs (§5.5, §5.6) ----------------------------------------------------

    @operation
    def start_replication_job(self, account_id: int, source_id: int) -> dict[str, Any]:
        return self.jobs.start(account_id, source_id)

    @operation
    def stop_replication_job(self, account_id: int, source_id: int) -> dict[str, int]:
        return self.jobs.stop(account_id, source_id)

    @operation
    def script_job(self, script: JobScript) -> None:
        """The next replication job of `script.source_id`, manual or scheduled, ends so."""
        self.jobs.script(script)

    @operation
    def clear_job_scripts(self) -> None:
        self.jobs.clear_scripts()

    @reading
    def list_extractions(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        return self.jobs.extractions(account_id, client_id, page)

    @reading
    def list_loads(self, account_id: int, client_id: int, page: int) -> dict[str, Any]:
        return self.jobs.loads(account_id, client_id, page)

    @reading
    def get_extraction_logs(self, account_id: int, client_id: int, job_name: str) -> str:
        """The job whose logs exist; the route answers with a 302 to them."""
        return self.jobs.extraction_logs(account_id, client_id, job_name)

    @locked
    def extraction_log_text(self, job_name: str) -> str | None:
        return self.jobs.log_text(job_name)

    # -- destinations (§5.7) --------------------------------------------------------------

    @locked
    def list_destination_types(self) -> list[dict[str, Any]]:
        return self.destinations.list_types()

    @locked
    def get_destination_type(self, type_name: str) -> dict[str, Any]:
        return self.destinations.get_type(type_name)

    @operation
    def create_destination(self, account_id: int, body: Any) -> dict[str, Any]:
        return self.destinations.create(account_id, body)

    @locked
    def list_destinations(self, account_id: int, query: dict[str, str]) -> list[dict[str, Any]]:
        return self.destinations.listed(account_id, query)

    @operation
    def update_destination(self, account_id: int, destination_id: int, body: Any) -> dict[str, Any]:
        return self.destinations.update(account_id, destination_id, body)

    @operation
    def delete_destination(self, account_id: int, destination_id: int) -> dict[str, Any]:
        return self.destinations.delete(account_id, destination_id)
