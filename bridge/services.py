"""Everything a request needs, opened once per app by the lifespan and passed in, never global."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bridge import __version__
from bridge.clock import Clock, SystemClock
from bridge.events import Outbox
from bridge.metrics import Metrics
from bridge.settings import Settings
from bridge.stitch.budget import UpstreamBudget
from bridge.stitch.client import StitchAccount, StitchClient
from bridge.stitch.models import SourceType
from bridge.store.budget import DatabaseBudget
from bridge.store.schema import create_engine, migrate
from bridge.tokens import Tokens

SOURCE_TYPES_TTL = 300.0


@dataclass
class SourceTypeCache:
    """Source-type report cards change only with Stitch releases: keep them a few minutes."""

    entries: dict[str, tuple[float, list[SourceType]]] = field(default_factory=dict)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def get(self, key: str, account: StitchAccount) -> list[SourceType]:
        now = time.monotonic()
        cached = self.entries.get(key)
        if cached and now - cached[0] < SOURCE_TYPES_TTL:
            return cached[1]
        async with self.lock:
            cached = self.entries.get(key)
            if cached and now - cached[0] < SOURCE_TYPES_TTL:
                return cached[1]
            types = await account.list_source_types()
            self.entries[key] = (time.monotonic(), types)
            return types


@dataclass(frozen=True)
class Services:
    settings: Settings
    clock: Clock
    tokens: Tokens
    engine: AsyncEngine
    db: async_sessionmaker[AsyncSession]
    stitch: StitchClient
    metrics: Metrics
    source_types: SourceTypeCache
    outbox: Outbox

    async def account_for(self, tenant: str | None) -> StitchAccount:
        """The Stitch account that acts for this tenant (the one account in single-account mode)."""
        token = self.settings.stitch_access_token
        if token is None:
            from bridge.tenants import tenant_access_token

            token = await tenant_access_token(self, tenant)
        return self.stitch.account(token)


def upstream_budget(settings: Settings, engine: AsyncEngine) -> UpstreamBudget | None:
    """The budget every replica shares when BRIDGE_UPSTREAM_RATE is set; None: unlimited."""
    if settings.upstream_rate is None:
        return None
    burst = settings.upstream_burst or max(1, int(settings.upstream_rate))
    return DatabaseBudget(engine, rate=settings.upstream_rate, burst=burst)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    run_migrations: bool = True,
    run_workers: bool = True,
) -> AsyncIterator[Services]:
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    if run_migrations:
        await migrate(engine)
    db = async_sessionmaker(engine, expire_on_commit=False)
    metrics = metrics or Metrics()
    budget = upstream_budget(settings, engine)
    metrics.upstream_queue.set_function(lambda: float(getattr(budget, "waiting", 0)))
    stitch = StitchClient(
        settings.stitch_api_url,
        transport=transport,
        timeout=httpx.Timeout(10.0, connect=5.0),
        user_agent=f"stitch-bridge/{__version__}",
        secrets=settings.secrets,
        budget=budget,
        observer=metrics.observe_upstream,
        trust_env=settings.upstream_trust_env,
    )
    outbox = Outbox(
        db,
        clock,
        metrics,
        url=settings.webhook_url,
        secret=settings.webhook_secret,
        timeout=settings.webhook_timeout,
    )
    services = Services(
        settings=settings,
        clock=clock,
        tokens=Tokens(settings.secret_keys, clock),
        engine=engine,
        db=db,
        stitch=stitch,
        metrics=metrics,
        source_types=SourceTypeCache(),
        outbox=outbox,
    )
    workers = []
    if run_workers:
        from bridge.poller import SyncPoller  # these need Services, defined above
        from bridge.reconciler import Reconciler

        workers.append(asyncio.create_task(outbox.run(), name="outbox"))
        workers.append(asyncio.create_task(Reconciler(services).run(), name="reconciler"))
        workers.append(asyncio.create_task(SyncPoller(services).run(), name="sync-poller"))
    try:
        yield services
    finally:
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        await outbox.aclose()
        await stitch.aclose()
        await engine.dispose()
