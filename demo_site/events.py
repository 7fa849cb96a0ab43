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

from demo_site.signin import USER_ID, SignIn, error
from demo_site.webhooks import Deliveries

EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_-]{1,100}$")
DEFAULT_PAGE_SIZE = 10


def _with_deliveries(event: dict[str, Any], deliveries: Deliveries) -> dict[str, Any]:
    return {**event, "deliveries": deliveries.count(str(event.get("id")))}


def event_routes(signin: SignIn, deliveries: Deliveries, page: Template) -> list[Route]:
    async def events_page(request: Request) -> Response:
        user = request.query_params.get("user") or ""
        if not USER_ID.match(user):
            return HTMLResponse("user ids are 1-64 letters, digits, '.', '_' or '-'", 400)
        limit = request.query_params.get("limit", "")
        size = int(limit) if limit.isdigit() and 1 <= int(limit) <= 100 else DEFAULT_PAGE_SIZE
        body = page.substitute(
            user_id=html.escape(user),
            user_name=html.escape(user.capitalize()),
            user_token=html.escape(signin.token(user)),
            home_url=html.escape(f"/?user={quote(user)}"),
            page_size=str(size),
        )
        return HTMLResponse(body, headers={"Cache-Control": "no-store"})

    async def owned_event(request: Request, user: str) -> dict[str, Any] | None:
        event_id = request.path_params["event_id"]
        if not EVENT_ID.match(event_id):
            return None
        answer = await request.state.bridge.get(f"/v1/events/{event_id}")
        if answer.status_code != 200:
            return None
        event: dict[str, Any] = answer.json()
        # The bridge's events are everybody's; this user sees and redelivers only their own.
        return event if (event.get("data") or {}).get("end_user_id") == user else None

    async def list_events(request: Request) -> Response:
        user = signin.user(request)
        if user is None:
            return error(401, "unauthorized", "sign in first")
        params: dict[str, str] = {"end_user_id": user}
        limit = request.query_params.get("limit", str(DEFAULT_PAGE_SIZE))
        if not (limit.isdigit() and 1 <= int(limit) <= 100):
            return error(400, "invalid_request", "limit is a whole number from 1 to 100")
        params["limit"] = limit
        after = request.query_params.get("starting_after")
        if after is not None:
            if not EVENT_ID.match(after):
                return error(400, "invalid_request", "starting_after is an event id")
            params["starting_after"] = after
        answer = await request.state.bridge.get("/v1/events", params=params)
        if answer.status_code != 200:
            return JSONResponse(answer.json(), status_code=answer.status_code)
        listed = answer.json()
        return JSONResponse(
            {
                "data": [_with_deliveries(e, deliveries) for e in listed.get("data", [])],
                "has_more": bool(listed.get("has_more")),
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
        answer = await request.state.bridge.post(f"/v1/events/{event['id']}/redeliver")
        if answer.status_code != 202:
            return JSONResponse(answer.json(), status_code=answer.status_code)
        return JSONResponse({"status": "queued"}, status_code=202)

    return [
        Route("/events", events_page, methods=["GET"]),
        Route("/api/events", list_events, methods=["GET"]),
        Route("/api/events/{event_id}", show_event, methods=["GET"]),
        Route("/api/events/{event_id}/redeliver", redeliver_event, methods=["POST"]),
    ]
