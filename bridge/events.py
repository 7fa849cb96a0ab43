"""The outbox's delivery side: signed webhooks, at least once, the same event id on every retry.

Events are written in the same transaction as the change they describe (see `sources.py`); this
worker sends them. A row is claimed with a lease before sending, so several replicas can run the
worker on one database and still send each attempt once.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import random
import time
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridge.clock import Clock
from bridge.errors import BridgeError
from bridge.metrics import Metrics
from bridge.store.event_queries import (
    EventFilter,
    count_undelivered,
    due_event_ids,
    event_body,
    event_seq,
    events_before,
    get_event_row,
    lock_event,
    record_delivery,
    requeue_event,
)

log = logging.getLogger("bridge.events")

CLAIM_SECONDS = 60.0
MAX_BACKOFF = 3600.0
BATCH = 20


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`Bridge-Signature` header value: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def backoff(attempts: int, rng: random.Random | None = None) -> float:
    """Seconds before the next attempt: exponential from 1 s, capped at an hour, with jitter."""
    base = min(MAX_BACKOFF, 2.0 ** max(0, attempts - 1))
    return base * (0.5 + (rng or random).random() / 2)


class Outbox:
    def __init__(
        self,
        db: async_sessionmaker[AsyncSession],
        clock: Clock,
        metrics: Metrics,
        *,
        url: str | None,
        secret: str | None,
        transport: httpx.AsyncBaseTransport | None = None,
        poll_interval: float = 1.0,
        timeout: float = 10.0,
    ) -> None:
        self.db = db
        self.clock = clock
        self.metrics = metrics
        self.url = url
        self.secret = secret
        self.poll_interval = poll_interval
        self.wake = asyncio.Event()
        self._backlog_counted_at = float("-inf")
        self._http = httpx.AsyncClient(
            transport=transport,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            follow_redirects=False,
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def notify(self) -> None:
        self.wake.set()

    async def run(self) -> None:
        """Deliver until cancelled; a failure here is logged, never the end of delivery."""
        while True:
            try:
                sent = await self.deliver_due()
                await self.refresh_backlog()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook delivery round failed")
                sent = 0
            if sent:
                continue
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), timeout=self.poll_interval)
            except TimeoutError:
                pass

    async def refresh_backlog(self) -> None:
        # A gauge for scrapes every 15 s or so: counting after every event would be waste.
        now = time.monotonic()
        if now - self._backlog_counted_at < 5.0:
            return
        self._backlog_counted_at = now
        async with self.db() as session:
            count = await count_undelivered(session)
        self.metrics.outbox_backlog.set(count)

    async def deliver_due(self) -> int:
        """Send every event whose time has come; returns how many were attempted."""
        if not self.url or not self.secret:
            return 0
        now = self.clock.time()
        async with self.db() as session:
            due = await due_event_ids(session, now=now, limit=BATCH)
        attempted = 0
        for event_id in due:
            if await self._claim(event_id):
                attempted += 1
                await self._send(event_id)
        return attempted

    async def _claim(self, event_id: str) -> bool:
        now = self.clock.time()
        async with self.db.begin() as session:
            return await lock_event(session, event_id, now=now, until=now + CLAIM_SECONDS)

    async def _send(self, event_id: str) -> None:
        assert self.url and self.secret
        async with self.db() as session:
            row = await get_event_row(session, event_id)
        body = encode(row.body)
        timestamp = int(self.clock.time())
        headers = {
            "Content-Type": "application/json",
            "Bridge-Signature": signature(self.secret, timestamp, body),
            "User-Agent": "stitch-bridge-webhooks",
        }
        error: str | None = None
        try:
            response = await self._http.post(self.url, content=body, headers=headers)
            if not 200 <= response.status_code < 300:
                error = f"receiver answered HTTP {response.status_code}"
        except httpx.HTTPError as failure:
            error = f"{type(failure).__name__} reaching the receiver"
        now = self.clock.time()
        async with self.db.begin() as session:
            if error is None:
                values: dict[str, Any] = {
                    "delivered_at": now,
                    "attempts": row.attempts + 1,
                    "locked_until": None,
                    "last_error": None,
                }
                self.metrics.webhook_deliveries.labels("delivered").inc()
            else:
                values = {
                    "attempts": row.attempts + 1,
                    "next_attempt_at": now + backoff(row.attempts + 1),
                    "locked_until": None,
                    "last_error": error,
                }
                self.metrics.webhook_deliveries.labels("failed").inc()
                log.warning(
                    "webhook delivery failed",
                    extra={"event_id": event_id, "attempt": row.attempts + 1, "error": error},
                )
            await record_delivery(session, event_id, **values)


@dataclass(frozen=True)
class EventPage:
    data: list[dict[str, Any]]  # webhook bodies (§5), newest first
    has_more: bool


async def list_events(
    db: async_sessionmaker[AsyncSession],
    *,
    limit: int,
    starting_after: str | None,
    where: EventFilter,
) -> EventPage:
    """Events newest first, after the cursor; new events never shift an older page."""
    async with db() as session:
        cursor = None
        if starting_after is not None:
            cursor = await event_seq(session, starting_after)
            if cursor is None:
                raise BridgeError(
                    "invalid_request",
                    "starting_after names no event",
                    details={"fields": {"starting_after": "no such event"}},
                )
        rows = await events_before(session, before_seq=cursor, where=where, limit=limit + 1)
    return EventPage([dict(row.body) for row in rows[:limit]], len(rows) > limit)


async def get_event(db: async_sessionmaker[AsyncSession], event_id: str) -> dict[str, Any]:
    async with db() as session:
        body = await event_body(session, event_id)
    if body is None:
        raise BridgeError("not_found", "no such event")
    return body


async def redeliver(outbox: Outbox, event_id: str) -> None:
    """Queue the webhook again: the same event, the same id."""
    async with outbox.db.begin() as session:
        queued = await requeue_event(session, event_id, now=outbox.clock.time())
    if not queued:
        raise BridgeError("not_found", "no such event")
    outbox.notify()
