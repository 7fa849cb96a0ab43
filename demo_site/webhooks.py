"""Acme's webhook receiver: checks the bridge's signature and remembers what arrived, by event id.

What a SaaS does with `BRIDGE_WEBHOOK_URL`; the events page shows how often each event came.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

MAX_EVENTS = 10_000
MAX_WEBHOOK_BODY = 1024 * 1024
TOLERANCE = 300  # seconds between the signature's time and ours; older is a replay


def signature_valid(
    secret: str, header: str, body: bytes, *, now: float, tolerance: int = TOLERANCE
) -> bool:
    """`Bridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`."""
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name, value)
    stamp, given = fields.get("t", ""), fields.get("v1", "")
    if not stamp.isdigit() or abs(now - int(stamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), f"{stamp}.".encode() + body, hashlib.sha256)
    return hmac.compare_digest(expected.hexdigest(), given)


class Deliveries:
    """Verified deliveries per event id (in memory: a demo, and its tests read it)."""

    def __init__(self) -> None:
        self.by_event: dict[str, int] = {}
        self.rejected = 0

    def add(self, event_id: str) -> None:
        if event_id in self.by_event or len(self.by_event) < MAX_EVENTS:
            self.by_event[event_id] = self.by_event.get(event_id, 0) + 1

    def count(self, event_id: str) -> int:
        return self.by_event.get(event_id, 0)


def webhook_receiver(
    secret: str | None, deliveries: Deliveries, clock: Callable[[], float] = time.time
) -> Callable[[Request], Awaitable[Response]]:
    async def receive(request: Request) -> Response:
        if not secret:
            return Response(status_code=404)
        body = await request.body()
        if len(body) > MAX_WEBHOOK_BODY:
            return Response(status_code=413)
        header = request.headers.get("bridge-signature", "")
        if not signature_valid(secret, header, body, now=clock()):
            # Unsigned or forged: nothing in it is believed, not even its id.
            deliveries.rejected += 1
            return Response(status_code=400)
        try:
            event = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        event_id = event.get("id") if isinstance(event, dict) else None
        if not isinstance(event_id, str):
            return Response(status_code=400)
        deliveries.add(event_id)
        return Response(status_code=204)

    return receive
