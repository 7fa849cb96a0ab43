"""The events page: the signed-in user's recent bridge events, read through the bridge's events
API by this backend (the API key never reaches the browser), with a redeliver button each."""

from __future__ import annotations

import html
import re
from string import Template
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from demo_site.signin import USER_ID, SignIn, bridge_error, error
from demo_site.webhooks import Deliveries
from stitch_bridge_client import AsyncClient, BridgeError, Event

EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_-]{1,100}$")
DEFAULT_PAGE_SIZE = 10


def _with_deliveries(event: Event, deliveries: Deliveries) -> dict[str, Any]:
    return {**event.to_dict(), "deliveries": deliveries.count(event.id)}


def event_routes(signin: SignIn, deliveries: Deliveries, page: Template) -> list[Route]:
    async def events_page(request: Request) -> Response:
        user = request.query_params.get("user") or ""
        if not USER_ID.match(user):
            return HTMLResponse("user ids are 1-64 letters, digits, '.', '_' or '-'", 400)
        limit = request.query_params.get("limit", "")
        size = (
            int(limit)
            if limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 100
            else DEFAULT_PAGE_SIZE
        )
        body = page.substitute(
            user_id=html.escape(user),
            user_name=html.escape(user.capitalize()),
            user_token=html.escape(signin.token(user)),
            home_url=html.escape(f"/?user={quote(user)}"),
            page_size=str(size),
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    async def owned_event(request: Request, user: str) -> Event | None:
        event_id = request.path_params["event_id"]
        if not EVENT_ID.match(event_id):
            return None
        bridge: AsyncClient = request.state.bridge
        try:
            event = await bridge.events.get(event_id)
        except BridgeError:
            return None
        # The bridge's events are everybody's; this user sees and redelivers only their own.
        return event if event.end_user_id == user else None

    async def list_events(request: Request) -> Response:
        user = signin.user(request)
        if user is None:
            return error(401, "unauthorized", "sign in first")
        limit = request.query_params.get("limit", str(DEFAULT_PAGE_SIZE))
        if not (limit.isascii() and limit.isdigit() and 1 <= int(limit) <= 100):
            return error(400, "invalid_request", "limit is a whole number from 1 to 100")
        after = request.query_params.get("starting_after")
        if after is not None and not EVENT_ID.match(after):
            return error(400, "invalid_request", "starting_after is an event id")
        bridge: AsyncClient = request.state.bridge
        try:
            page = await bridge.events.list_page(
                end_user_id=user, limit=int(limit), starting_after=after
            )
        except BridgeError as exc:
            return bridge_error(exc)
        return JSONResponse(
            {
                "data": [_with_deliveries(e, deliveries) for e in page.data],
                "has_more": page.has_more,
            }
        )

    async def show_event(request: Request) -> Response:
        user = signin.user(request)
        if user is None:
            return error(401, "unauthorized", "sign in first")
        event = await owned_event(request, user)
        if event is None:
            return error(404, "not_found", "no such event")
        return JSONResponse(_with_deliveries(event, deliveries))

    async def redeliver_event(request: Request) -> Response:
        user = signin.user(request)
        if user is None:
            return error(401, "unauthorized", "sign in first")
        event = await owned_event(request, user)
        if event is None:
            return error(404, "not_found", "no such event")
        bridge: AsyncClient = request.state.bridge
        try:
            await bridge.events.redeliver(event.id)
        except BridgeError as exc:
            return bridge_error(exc)
        return JSONResponse({"status": "queued"}, status_code=202)

    return [
        Route("/events", events_page, methods=["GET"]),
        Route("/api/events", list_events, methods=["GET"]),
        Route("/api/events/{event_id}", show_event, methods=["GET"]),
        Route("/api/events/{event_id}/redeliver", redeliver_event, methods=["POST"]),
    ]
