"""The lifespan's wiring: opens the engine, the upstream client and the workers, and hands the
routes one frozen `Services`. It sits above the domain modules, which only import `Services`."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from bridge.assets import AssetCache
from bridge.clock import Clock, SystemClock
from bridge.events import Outbox
from bridge.metrics import Metrics
from bridge.poller import SyncPoller
from bridge.reconciler import Reconciler
from bridge.services import Services, SourceTypeCache
from bridge.settings import Settings
from bridge.stitch.budget import UpstreamBudget
from bridge.stitch.client import StitchClient
from bridge.store.budget import DatabaseBudget
from bridge.store.schema import create_engine, migrate, side_engine
from bridge.tenants import tenant_access_token
from bridge.tokens import Tokens
from bridge.version import __version__


def upstream_budget(settings: Settings, engine: AsyncEngine) -> UpstreamBudget | None:
    """The budget every replica shares when BRIDGE_UPSTREAM_RATE is set; None: unlimited."""
    if settings.upstream_rate is None:
        return None
    burst = settings.upstream_burst or max(1, int(settings.upstream_rate))
    return DatabaseBudget(engine, rate=settings.upstream_rate, burst=burst)


def upstream_client(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None,
    budget: UpstreamBudget | None,
    metrics: Metrics,
) -> StitchClient:
    """The one client to Stitch: its secrets redacted, its calls budgeted and measured."""
    return StitchClient(
        settings.stitch_api_url,
        transport=transport,
        timeout=httpx.Timeout(10.0, connect=5.0),
        user_agent=f"stitch-bridge/{__version__}",
        secrets=settings.secrets,
        budget=budget,
        observer=metrics.observe_upstream,
        trust_env=settings.upstream_trust_env,
    )


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    run_migrations: bool = True,
    run_workers: bool = True,
    assets: AssetCache | None = None,
) -> AsyncIterator[Services]:
    clock = clock or SystemClock()
    engine = create_engine(settings.database_url)
    if run_migrations:
        await migrate(engine)
    db = async_sessionmaker(engine, expire_on_commit=False)
    metrics = metrics or Metrics()
    # The budget's own small pool, made only when there is a budget.
    limited = settings.upstream_rate is not None
    budget_engine = side_engine(settings.database_url, engine) if limited else engine
    budget = upstream_budget(settings, budget_engine)
    metrics.upstream_queue.set_function(lambda: float(getattr(budget, "waiting", 0)))
    stitch = upstream_client(settings, transport, budget, metrics)
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
        tenant_token=tenant_access_token,
        transport=transport,
        assets=assets or AssetCache(),
    )
    workers = []
    if run_workers:
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
        if budget_engine is not engine:
            await budget_engine.dispose()
