"""Source types, sources, connection checks and streams (§5.1-§5.4) as a part of the backend.

Plain and unlocked: `EmulatorBackend` serialises and settles around every call. A change to a
source reschedules it (the jobs part) and settles at once (`settle`, injected by the backend), so
that a zero check delay finishes the check before the response is rendered.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from . import checks, jobs, sources, streams
from .context import Context
from .errors import bare, invalid_fields, not_found
from .job_operations import JobOperations
from .model import CheckScript, Source
from .report_card import render_type_card, source_step_type


class SourceOperations:
    def __init__(self, ctx: Context, job_part: JobOperations, settle: Callable[[], None]) -> None:
        self.ctx = ctx
        self.job_part = job_part
        self.settle = settle

    # -- source types (§5.1) --------------------------------------------------------------

    def list_types(self) -> list[dict[str, Any]]:
        hints = self.ctx.config.current_step_hints
        return [render_type_card(c, hints=hints) for c in self.ctx.catalogue.source_types.values()]

    def get_type(self, type_name: str) -> dict[str, Any]:
        card = self.ctx.catalogue.source_type(type_name)
        if card is None:
            raise not_found(f"source type not found ({type_name})")
        return render_type_card(card, hints=self.ctx.config.current_step_hints)

    # -- sources (§5.2) -------------------------------------------------------------------

    def render(self, source: Source) -> dict[str, Any]:
        return sources.render_source(
            source,
            self.ctx.type_card(source.type),
            hints=self.ctx.config.current_step_hints,
            now=self.ctx.now(),
        )

    def owned(self, account_id: int, source_id: int) -> Source:
        source = self.ctx.world.source(account_id, source_id)
        if source is None:
            raise not_found(f"source not found ({source_id})")
        return source

    def owner(self, source_id: int) -> int | None:
        """The account a source belongs to (controls act on any account's sources)."""
        return next((s.account_id for s in self.ctx.world.sources if s.id == source_id), None)

    def _after_mutation(self, source: Source, before: str | None, changed: bool) -> None:
        ctx = self.ctx
        card = ctx.type_card(source.type)
        checks.refresh(source, card, before, changed, ctx.now(), ctx.config.check_delay)
        self.job_part.reschedule(source)
        self.settle()

    def create(self, account_id: int, body: Any) -> dict[str, Any]:
        ctx = self.ctx
        card, name, supplied = sources.validate_create(
            ctx.world,
            ctx.catalogue.source_types,
            account_id,
            body,
            hints=ctx.config.current_step_hints,
            cron_allowed=ctx.config.cron_scheduling,
        )
        now = ctx.now()
        source = Source(
            id=ctx.world.next_id("source", 120640),
            account_id=account_id,
            type=card["type"],
            display_name=body["display_name"],
            name=name,
            values={**sources.system_values(card, supplied), **supplied},
            created_at=now,
            updated_at=now,
            destination_id=body.get("destination_id"),
        )
        ctx.world.sources.append(source)
        self._after_mutation(source, None, bool(supplied))
        return self.render(source)

    def listed(self, account_id: int) -> list[dict[str, Any]]:
        return [self.render(s) for s in self.ctx.world.sources if s.account_id == account_id]

    def update(self, account_id: int, source_id: int, body: Any) -> dict[str, Any]:
        ctx = self.ctx
        source = ctx.world.source(account_id, source_id)
        card = ctx.catalogue.source_type(source.type) if source else None
        sources.validate_update(
            source,
            source_id,
            card,
            body,
            hints=ctx.config.current_step_hints,
            cron_allowed=ctx.config.cron_scheduling,
        )
        assert source is not None and card is not None
        before = source_step_type(source, card)
        changed = sources.apply_update(source, body, ctx.now())
        self._after_mutation(source, before, changed)
        return self.render(source)

    def delete(self, account_id: int, source_id: int) -> dict[str, Any]:
        source = self.ctx.world.source(account_id, source_id)
        if source is None or source.deleted_at is not None:
            raise sources.source_error_id(source_id)
        now = self.ctx.now()
        source.deleted_at = source.updated_at = now
        running = self.ctx.world.running_job(source.id)
        if running is not None:
            jobs.stop_job(running, now)
        self.job_part.reschedule(source)
        return self.render(source)

    def authorize(self, account_id: int, source_id: int) -> dict[str, Any]:
        """Finish Stitch-managed OAuth as the end user would in the popup (§9.3 oauth (a))."""
        source = self.owned(account_id, source_id)
        if source.deleted_at is not None:
            raise not_found(f"source not found ({source_id})")
        before = self.ctx.step_type(source)
        sources.fill_oauth(source, self.ctx.type_card(source.type), self.ctx.now())
        self._after_mutation(source, before, True)
        return self.render(source)

    # -- connection checks and streams (§5.3, §5.4) ---------------------------------------

    def last_check(self, account_id: int, source_id: int) -> dict[str, Any]:
        source = self.owned(account_id, source_id)
        if source.last_check is None:
            raise not_found(f"no connection check for source ({source_id})")
        return checks.render_check(source.last_check)

    def script_check(self, script: CheckScript) -> None:
        self.ctx.world.check_scripts.append(script)

    def clear_check_scripts(self) -> None:
        self.ctx.world.check_scripts.clear()

    def check_scripts(self) -> list[dict[str, Any]]:
        return [dataclasses.asdict(s) for s in self.ctx.world.check_scripts]

    def list_streams(self, account_id: int, source_id: int) -> list[dict[str, Any]]:
        return [streams.render_stream(s) for s in self.owned(account_id, source_id).streams]

    def stream_schema(self, account_id: int, source_id: int, stream_id: int) -> dict[str, Any]:
        source = self.ctx.world.source(account_id, source_id)
        found = [s for s in (source.streams if source else []) if s.stream_id == stream_id]
        if not found:
            raise bare(f"invalid stream-id: {stream_id}")
        return streams.render_schema(found[0])

    def update_stream_metadata(self, account_id: int, source_id: int, body: Any) -> dict[str, int]:
        source = self.ctx.world.source(account_id, source_id)
        if source is None or source.deleted_at is not None:
            # Nothing to select: every tap_stream_id named is invalid (§13.15).
            streams.update_metadata(None, "none", body)
            raise invalid_fields("invalid tap-stream-ids:  []")
        before = self.ctx.step_type(source)
        streams.update_metadata(source, before, body)
        source.updated_at = self.ctx.now()
        self._after_mutation(source, before, False)
        return {"status": 200}
