"""A tiny SaaS backend, as a customer of stitch-bridge would write it: it mints connect sessions
for its signed-in user, verifies the bridge's webhooks and shows each user their connections.

It uses only the Python client (`stitch_bridge_client`); `test_saas.py` tests it with the
stitch-bridge pytest plugin, offline.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from stitch_bridge_client import AsyncClient, BridgeError, SignatureVerificationError, Webhook


def create_app(bridge: AsyncClient, webhook_secret: str) -> Starlette:
    """`bridge` is the client for your bridge; `webhook_secret` its BRIDGE_WEBHOOK_SECRET."""
    # What the webhooks said, per end user: {source id: status}. A real SaaS uses its database.
    connections: dict[str, dict[int, str]] = {}
    seen: set[str] = set()

    def signed_in_user(request: Request) -> str:
        return request.headers.get("x-user", "")  # stands in for your own sign-in

    async def stitch_session(request: Request) -> Response:
        try:
            session = await bridge.sessions.create(end_user={"id": signed_in_user(request)})
        except BridgeError as exc:
            return JSONResponse({"error": exc.code}, status_code=502)
        return JSONResponse({"token": session.token, "expires_at": session.expires_at})

    async def webhook(request: Request) -> Response:
        body = await request.body()
        try:
            event = Webhook.verify(
                body, request.headers.get("bridge-signature", ""), webhook_secret
            )
        except SignatureVerificationError:
            return Response(status_code=400)
        if event["id"] in seen:  # delivered at least once: the same id may come again
            return Response(status_code=204)
        seen.add(event["id"])
        data = event["data"]
        status = {"source.connected": "connected", "source.deleted": "deleted"}.get(event["type"])
        if status:
            connections.setdefault(data["end_user_id"], {})[data["source"]["id"]] = status
        return Response(status_code=204)

    async def my_connections(request: Request) -> Response:
        mine = connections.get(signed_in_user(request), {})
        return JSONResponse({"connected": sorted(i for i, s in mine.items() if s == "connected")})

    return Starlette(
        routes=[
            Route("/api/stitch-session", stitch_session, methods=["POST"]),
            Route("/webhooks/stitch-bridge", webhook, methods=["POST"]),
            Route("/api/connections", my_connections, methods=["GET"]),
        ]
    )
