"""Brings the bridge's records back in line with Stitch: at start-up and every so often.

- a creation whose creator went away (crash, lost answer) is adopted or marked failed;
- unfinished sources get their status refreshed, so lists and webhooks catch up even when the
  widget never came back;
- a connected source whose latest connection check or extraction (as the sync poller recorded
  it) failed is marked `needs_reauth`
  (event `source.needs_reauth`), and cleared with `source.reauth_completed` once a check passes.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from typing import Any

from bridge.clock import iso
from bridge.errors import BridgeError
from bridge.intents import reconcile_intent
from bridge.services import Services
from bridge.sources import differs, observe, record_event
from bridge.steps import source_status
from bridge.stitch.errors import StitchError, StitchNotFound
from bridge.stitch.models import ConnectionCheck
from bridge.store import queries as q
from bridge.store import source_queries as sq
from bridge.store.tables import SourceRow

log = logging.getLogger("bridge.reconciler")


def _epoch(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(UTC).timestamp()
    except ValueError:
        return None


def connection_verdict(
    check: ConnectionCheck | None, extraction: dict[str, Any] | None, connected_at: float
) -> bool | None:
    """Whether a connected source needs its end user again, from the most recent thing Stitch
    ran for it: True when that connection check or extraction failed (after the source was
    connected), False when it passed, None when neither says anything."""
    outcomes: list[tuple[float, bool]] = []  # (finished at, passed)
    if check is not None and check.status in ("failed", "succeeded"):
        outcomes.append((_epoch(check.completion_time) or 0.0, check.status == "succeeded"))
    if extraction is not None:
        tap = extraction.get("tap_exit_status")
        stopped = extraction.get("tap_description") == "Terminated"  # a person stopped it
        if tap is not None and not stopped:
            finished = _epoch(extraction.get("completion_time")) or 0.0
            outcomes.append((finished, tap == 0))
    relevant = [(at, ok) for at, ok in outcomes if ok or at >= connected_at]
    if not relevant:
        return None
    _, passed = max(relevant)
    return not passed


def stored_extraction(row: SourceRow) -> dict[str, Any] | None:
    """The source's last finished job as the sync poller recorded it (`bridge.poller` is the one
    reader of Stitch's rate-limited extractions), in the extraction's own terms."""
    if row.sync_state not in ("succeeded", "failed") or row.sync_completed_at is None:
        return None
    error = row.sync_error or {}
    if row.sync_state == "failed" and error.get("phase") != "tap":
        return None  # discovery, target or load trouble says nothing about the credentials
    return {
        "tap_exit_status": 0 if row.sync_state == "succeeded" else 1,
        "tap_description": error.get("message"),
        "completion_time": iso(row.sync_completed_at),
    }


class Reconciler:
    def __init__(self, services: Services, *, interval: float = 60.0) -> None:
        self.services = services
        self.interval = interval

    async def run(self) -> None:
        while True:
            try:
                await self.reconcile_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("reconciliation round failed")
            await asyncio.sleep(self.interval)

    async def reconcile_once(self) -> None:
        services = self.services
        async with services.db.begin() as session:
            # Single use only has to be remembered while a token could still be presented.
            await q.forget_expired_tokens(session, services.clock.time())
        async with services.db() as session:
            stale = list(await q.pending_intents(session))
        for intent in stale:
            try:
                await reconcile_intent(services, intent)
            except (StitchError, BridgeError) as error:
                log.warning("could not reconcile a creation yet", extra={"error": repr(error)})
        async with services.db() as session:
            rows = await sq.live_sources(session)
        by_tenant: dict[str, list[SourceRow]] = {}
        for row in rows:
            by_tenant.setdefault(row.tenant, []).append(row)
        for tenant, owned in by_tenant.items():
            try:
                await self._refresh(tenant, owned)
            except (StitchError, BridgeError) as error:  # one tenant's trouble is not everyone's
                log.warning("could not refresh sources", extra={"error": repr(error)})

    async def _refresh(self, tenant: str, rows: list[SourceRow]) -> None:
        services = self.services
        account = await services.account_for(tenant or None)
        upstream = {s.id: s for s in await account.list_sources()}
        for row in rows:
            source = upstream.get(row.id)
            if source is None:
                continue
            reauth: bool | None = None
            if row.connected_at is not None and source.deleted_at is None:
                try:
                    check = await account.last_connection_check(row.id)
                except StitchNotFound:
                    check = None
                reauth = connection_verdict(check, stored_extraction(row), row.connected_at)
            if not differs(row, source) and reauth in (None, row.needs_reauth):
                continue  # nothing new: no write transaction per source every minute
            async with services.db.begin() as session:
                current = await sq.lock_source(session, row.id)
                if current is None or current.deleted_at is not None:
                    continue
                await observe(services, session, current, source)
                if reauth is True and not current.needs_reauth:
                    current.needs_reauth = True
                    current.status = source_status(source, needs_reauth=True)
                    current.updated_at = services.clock.time()
                    await record_event(services, session, "source.needs_reauth", current)
                elif reauth is False and current.needs_reauth:
                    current.needs_reauth = False
                    current.status = source_status(source)
                    current.updated_at = services.clock.time()
                    await record_event(services, session, "source.reauth_completed", current)
