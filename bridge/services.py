"""Everything a request needs, opened once per app by the lifespan (bridge.lifespan) and passed
in, never global: the frozen `Services` and its small per-process caches. A leaf: it imports no
domain module, so every domain module may import it."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bridge.admission import Admission
from bridge.assets import AssetCache
from bridge.clock import Clock
from bridge.events import Outbox
from bridge.hot_caches import CheckCache, OwnerCache
from bridge.metrics import Metrics
from bridge.settings import Settings
from bridge.stitch.client import StitchAccount, StitchClient
from bridge.stitch.models import SourceType
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


class SessionRateLimit:
    """Per-session request budget on widget routes: a token bucket per session, in this process.

    A widget polls and clicks; it never needs more than a few requests a second. A session
    that does is refused with `upstream_rate_limited` (the contract's one rate-limit code)
    and a Retry-After, before it costs the bridge or Stitch anything.
    """

    def __init__(self, rate: float = 10.0, burst: int = 60, size: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._size = size

    def take(self, session_id: str, now: float) -> float | None:
        """None when the request may go; otherwise seconds until it could."""
        tokens, updated = self._buckets.pop(session_id, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
        if tokens < 1:
            self._buckets[session_id] = (tokens, now)
            return (1 - tokens) / self.rate
        self._buckets[session_id] = (tokens - 1, now)
        if len(self._buckets) > self._size:
            self._buckets.popitem(last=False)
        return None


class SeenSessions:
    """Sessions already recorded by this process, so only a session's first use writes."""

    def __init__(self, size: int = 10_000) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def __contains__(self, session_id: str) -> bool:
        if session_id in self._seen:
            self._seen.move_to_end(session_id)
            return True
        return False

    def add(self, session_id: str) -> None:
        self._seen[session_id] = None
        if len(self._seen) > self._size:
            self._seen.popitem(last=False)


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
    # Partner mode: how a tenant's Stitch token is found (bridge.tenants, wired by the lifespan),
    # passed in so that this module stays a leaf that the domain modules import.
    tenant_token: Callable[[Services, str | None], Awaitable[str]]
    # The way out to Stitch and to OAuth providers: None is the network; tests pass an app.
    transport: httpx.AsyncBaseTransport | None = None
    # The widget's files, built once per app on first request (create_app makes the cache).
    assets: AssetCache = field(default_factory=lambda: AssetCache())
    seen_sessions: SeenSessions = field(default_factory=lambda: SeenSessions())
    session_rate_limit: SessionRateLimit = field(default_factory=lambda: SessionRateLimit())
    owners: OwnerCache = field(default_factory=OwnerCache)
    checks: CheckCache = field(default_factory=CheckCache)
    # Source creations prepare a few at a time, oldest first (bridge/admission.py).
    admission: Admission = field(default_factory=Admission)

    async def account_for(self, tenant: str | None) -> StitchAccount:
        """The Stitch account that acts for this tenant (the one account in single-account mode)."""
        token = self.settings.stitch_access_token
        if token is None:
            token = await self.tenant_token(self, tenant)
        return self.stitch.account(token)
