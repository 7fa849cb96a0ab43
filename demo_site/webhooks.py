"""Acme's webhook receiver: checks the bridge's signature and remembers what arrived, by event id.

What a SaaS does with `BRIDGE_WEBHOOK_URL`; the events page shows how often each event came.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from stitch_bridge_client import SignatureVerificationError, Webhook

MAX_EVENTS = 10_000
MAX_WEBHOOK_BODY = 1024 * 1024
TOLERANCE = 300  # seconds between the signature's time and ours; older is a replay


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
        try:
            event = Webhook.verify(body, header, secret, TOLERANCE, now=clock())
        except SignatureVerificationError:
            # Unsigned, forged, replayed or malformed: nothing in it is believed, not even its id.
            deliveries.rejected += 1
            return Response(status_code=400)
        event_id = event.get("id")
        if not isinstance(event_id, str):
            return Response(status_code=400)
        deliveries.add(event_id)
        return Response(status_code=204)

    return receive
