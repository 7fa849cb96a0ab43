"""Sync health for every source, from one poller per Stitch account across all replicas (§4.8).

Stitch's extractions and loads (the `jobs` resource type) allow 30 requests per 10 minutes per
account, and one extractions page covers 100 sources: so the bridge reads them per account, never
per source, and never for a widget. Every replica runs this worker; for each account a lease row
says which replica polls it (a conditional UPDATE takes it, so two replicas never both hold it),
and every request first takes a slot of BRIDGE_JOBS_BUDGET per 10 minutes counted in the
database (so a replica taking over sees what the previous holder spent). A round reads the
extractions at most every `period` seconds: BRIDGE_SYNC_POLL, or longer when the budget needs
it, half the budget left for loads. Loads are read only when an extraction passed, to learn
whether its load did; without a slot for them the job is left for the next round.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bridge.clock import new_id
from bridge.errors import BridgeError
from bridge.services import Services
from bridge.stitch.client import StitchAccount
from bridge.stitch.errors import StitchError
from bridge.store.source_queries import lock_source
from bridge.store.sync_queries import (
    JOBS_WINDOW,
    connected_sources,
    mark_polled,
    peek_lease,
    take_jobs_slot,
    take_lease,
    tenants_with_connected_sources,
)
from bridge.store.tables import SourceRow
from bridge.sync import record_finished
from bridge.sync_state import FinishedJob, finished_job, is_newer, load_error

log = logging.getLogger("bridge.poller")

MAX_PAGES = 20


def poll_period(sync_poll: int, jobs_budget: int) -> float:
    """Seconds between extraction reads: as fresh as asked, within half the jobs budget."""
    return max(float(sync_poll), 2 * JOBS_WINDOW / jobs_budget)


class SyncPoller:
    def __init__(self, services: Services, *, tick: float = 1.0) -> None:
        self.services = services
        self.holder = new_id("poller", 9)  # this replica, for the leases
        self.tick = tick  # how often (real seconds) to see whether a round is due
        settings = services.settings
        self.period = poll_period(settings.sync_poll, settings.jobs_budget)
        self.lease_ttl = self.period + 60.0  # a replica that went away is replaced after this
        self._resting: dict[str, float] = {}  # tenant → when to try an unreachable account again

    async def run(self) -> None:
        while True:
            try:
                await self.poll_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("sync poll round failed")
            await asyncio.sleep(self.tick)

    async def poll_once(self) -> None:
        """Poll every account whose round is due and whose lease this replica holds."""
        async with self.services.db() as session:
            tenants = await tenants_with_connected_sources(session)
        now = self.services.clock.time()
        for tenant in tenants:
            if self._resting.get(tenant, 0.0) > now:
                continue
            try:
                await self.poll_account(tenant)
            except (StitchError, BridgeError) as error:  # one account's trouble is not everyone's
                self._resting[tenant] = now + self.period  # not again every tick
                log.warning("could not poll sync state", extra={"error": repr(error)})

    async def poll_account(self, tenant: str) -> None:
        """One round for the tenant's Stitch account, if it is due and this replica's to do."""
        services = self.services
        account = await services.account_for(tenant or None)
        key = account.budget_key
        now = services.clock.time()
        async with services.db() as session:
            seen = await peek_lease(session, key)
        if seen is not None and (
            (seen.holder != self.holder and seen.expires_at >= now)
            or (now < seen.polled_at + self.period and seen.expires_at - now > self.lease_ttl / 2)
        ):
            return  # another replica's, or not due and still ours: no write every tick
        async with services.db.begin() as session:
            lease = await take_lease(session, key, self.holder, now=now, ttl=self.lease_ttl)
            if lease is None or now < lease.polled_at + self.period:
                return
            client_id = lease.stitch_client_id
            rows = await connected_sources(session, tenant)
        if not rows:
            return
        if client_id is None:
            client_id = (await account.get_source(rows[0].id)).stitch_client_id
            if client_id is None:
                return
        try:
            extractions = await self._read(account, key, client_id, "extractions")
            if extractions is not None:  # None: no budget left; the state shown ages a little
                await self._take_in(account, key, client_id, rows, extractions)
        finally:  # failed or not, the round is over: the next one waits its period
            async with services.db.begin() as session:
                await mark_polled(session, key, self.holder, now=now, stitch_client_id=client_id)

    async def _take_in(
        self,
        account: StitchAccount,
        key: str,
        client_id: int,
        rows: list[SourceRow],
        extractions: list[dict[str, Any]],
    ) -> None:
        """Record what the extractions say is new, after the loads when a job needs them."""
        jobs = {}
        for item in extractions:
            job = finished_job(item)
            if job is not None:
                jobs[job.source_id] = job
        news = {r.id: jobs[r.id] for r in rows if r.id in jobs and is_newer(r, jobs[r.id])}
        loads: list[dict[str, Any]] | None = []
        if any(job.extracted for job in news.values()):
            loads = await self._read(account, key, client_id, "loads")
        for source_id, job in news.items():
            if job.extracted and loads is None:
                continue  # whether it loaded is for a later round to say
            await self._record(source_id, job, loads or [])

    async def _read(
        self, account: StitchAccount, key: str, client_id: int, kind: str
    ) -> list[dict[str, Any]] | None:
        """Every page of extractions or loads, each paid from the budget; None without a slot."""
        found: list[dict[str, Any]] = []
        for page in range(1, MAX_PAGES + 1):
            async with self.services.db.begin() as session:
                paid = await take_jobs_slot(
                    session,
                    key,
                    self.holder,
                    now=self.services.clock.time(),
                    budget=self.services.settings.jobs_budget,
                )
            if not paid:
                return found if page > 1 else None
            items, more = await account.jobs_page(client_id, kind, page)
            found.extend(items)
            if not more:
                break
        return found

    async def _record(self, source_id: int, job: FinishedJob, loads: list[dict[str, Any]]) -> None:
        services = self.services
        async with services.db.begin() as session:
            row = await lock_source(session, source_id)
            if row is None or row.deleted_at is not None or not is_newer(row, job):
                return  # gone, or another replica recorded it meanwhile
            error = job.error or load_error(loads, row.name)
            await record_finished(services, session, row, job, error)
