"""Widget-facing routes: the browser, holding only a connect-session token (CONTRACT §4.2)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge import catalogue
from bridge.api.common import (
    MAX_ID,
    NO_STORE,
    Fields,
    json_object,
    json_response,
    path_int,
    require_session,
    services_of,
)
from bridge.clock import iso
from bridge.creation import create_source
from bridge.flow import OUTCOMES, complete_step, source_answer, start_step
from bridge.limits import check_end_user_schedule
from bridge.resume import resume_flow
from bridge.sources import read_through, update_source
from bridge.streams import list_streams, update_streams
from bridge.urls import safe_return_url

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]+")


async def get_session(request: Request) -> Response:
    cs = await require_session(request)
    return json_response(
        {
            "id": cs.id,
            "end_user_id": cs.end_user_id,
            "tenant": cs.tenant,
            "source_types": list(cs.source_types) if cs.source_types is not None else None,
            "source_id": cs.source_id,
            "expires_at": iso(cs.expires_at),
            "actions": list(cs.actions),
            # The widget must know in the click, before any await, whether it opens a popup.
            "step_driver": services_of(request).settings.driver,
        },
        headers=NO_STORE,
    )


async def get_source_types(request: Request) -> Response:
    cs = await require_session(request)
    services = services_of(request)
    account = await services.account_for(cs.tenant)
    types = await services.source_types.get(cs.tenant or "", account)
    data = catalogue.offered(services.settings, types, cs.source_types)
    return json_response({"data": data})


async def post_source(request: Request) -> Response:
    cs = await require_session(request)
    services = services_of(request)
    fields = Fields(await json_object(request), ("type", "display_name", "properties"))
    source_type = fields.text("type", required=True, max_length=MAX_ID)
    display_name = fields.text("display_name", max_length=200)
    properties = fields.properties("properties")
    key = request.headers.get("idempotency-key")
    if key is not None and not (0 < len(key) <= 255 and IDEMPOTENCY_KEY.fullmatch(key)):
        fields.problems["Idempotency-Key"] = "must be 1 to 255 visible ASCII characters"
    fields.check()
    assert source_type is not None
    check_end_user_schedule(services.settings, properties or {}, prefix="properties.")
    created = await create_source(
        services,
        cs,
        source_type=source_type,
        display_name=display_name,
        properties=properties,
        idempotency_key=key,
    )
    if created.upstream is not None:
        answer = source_answer(services, cs, created.row, created.upstream)
    else:
        row, upstream, _ = await read_through(services, cs, created.row.id)
        answer = source_answer(services, cs, row, upstream)
    return json_response(answer, status=201 if created.created else 200, headers=NO_STORE)


async def _source_answer(request: Request, source_id: int) -> dict[str, Any]:
    cs = await require_session(request)
    services = services_of(request)
    row, upstream, failed = await read_through(services, cs, source_id)
    answer = source_answer(services, cs, row, upstream)
    if upstream.report_card.current_step_type == "discover_schema":
        answer["connection_check"] = {"status": "failed" if failed else "running"}
    return answer


async def get_source(request: Request) -> Response:
    answer = await _source_answer(request, path_int(request, "source_id"))
    return json_response(answer, headers=NO_STORE)


async def put_source(request: Request) -> Response:
    cs = await require_session(request)
    services = services_of(request)
    source_id = path_int(request, "source_id")
    fields = Fields(await json_object(request), ("display_name", "properties"))
    display_name = fields.text("display_name", max_length=200)
    properties = fields.properties("properties")
    fields.check()
    check_end_user_schedule(services.settings, properties or {}, prefix="properties.")
    row, upstream, _ = await update_source(
        services, cs, source_id, display_name=display_name, properties=properties
    )
    return json_response(source_answer(services, cs, row, upstream), headers=NO_STORE)


async def get_streams(request: Request) -> Response:
    cs = await require_session(request)
    data = await list_streams(services_of(request), cs, path_int(request, "source_id"))
    return json_response({"data": data})


async def put_streams(request: Request) -> Response:
    cs = await require_session(request)
    services = services_of(request)
    source_id = path_int(request, "source_id")
    body = await json_object(request)
    fields = Fields(body, ("streams",))
    streams = body.get("streams")
    wanted: list[dict[str, Any]] = []
    if not isinstance(streams, list) or not streams or len(streams) > 1000:
        fields.problems["streams"] = "required: a list of 1 to 1000 streams"
    else:
        for index, item in enumerate(streams):
            entry = Fields(
                item if isinstance(item, dict) else {}, ("tap_stream_id", "selected", "fields")
            )
            if not isinstance(item, dict):
                fields.problems[f"streams[{index}]"] = "must be an object"
                continue
            tap_stream_id = entry.text("tap_stream_id", required=True, max_length=MAX_ID)
            selected = item.get("selected")
            if not isinstance(selected, bool):
                entry.problems["selected"] = "must be true or false"
            field_names = entry.string_list("fields", max_items=2000)
            fields.problems.update({f"streams[{index}].{k}": v for k, v in entry.problems.items()})
            if not entry.problems:
                wanted.append(
                    {"tap_stream_id": tap_stream_id, "selected": selected, "fields": field_names}
                )
    fields.check()
    await update_streams(services, cs, source_id, wanted)
    row, upstream, _ = await read_through(services, cs, source_id)
    answer = source_answer(services, cs, row, upstream)
    answer["data"] = await list_streams(services, cs, source_id)
    return json_response(answer, headers=NO_STORE)


async def post_step_start(request: Request) -> Response:
    cs = await require_session(request)
    services = services_of(request)
    fields = Fields(await json_object(request), ("token", "return_url"))
    token = fields.text("token", required=True, max_length=4096)
    return_url = fields.text("return_url", max_length=2048)
    if return_url is not None and not safe_return_url(
        return_url, services.settings.allowed_origins
    ):
        fields.problems["return_url"] = "must be an http(s) URL on one of BRIDGE_ALLOWED_ORIGINS"
    fields.check()
    origin = request.headers.get("origin")  # where an OAuth popup reports back to
    answer = await start_step(services, cs, token, origin=origin, return_url=return_url)
    return json_response(answer, headers=NO_STORE)


async def post_resume(request: Request) -> Response:
    cs = await require_session(request)
    fields = Fields(await json_object(request), ("resume_id",))
    resume_id = fields.text("resume_id", required=True, max_length=100)
    fields.check()
    return json_response(await resume_flow(services_of(request), cs, resume_id), headers=NO_STORE)


async def post_step_complete(request: Request) -> Response:
    cs = await require_session(request)
    fields = Fields(await json_object(request), ("token", "outcome"))
    token = fields.text("token", required=True, max_length=4096)
    outcome = fields.text("outcome", max_length=20)
    if outcome is not None and outcome not in OUTCOMES:
        fields.problems["outcome"] = f"must be one of {', '.join(OUTCOMES)}"
    fields.check()
    answer = await complete_step(services_of(request), cs, token, outcome)
    return json_response(answer, headers=NO_STORE)


routes = [
    Route("/v1/session", get_session, methods=["GET"]),
    Route("/v1/source-types", get_source_types, methods=["GET"]),
    Route("/v1/sources", post_source, methods=["POST"]),
    Route("/v1/sources/{source_id}", get_source, methods=["GET"]),
    Route("/v1/sources/{source_id}", put_source, methods=["PUT"]),
    Route("/v1/sources/{source_id}/streams", get_streams, methods=["GET"]),
    Route("/v1/sources/{source_id}/streams", put_streams, methods=["PUT"]),
    Route("/v1/steps/start", post_step_start, methods=["POST"]),
    Route("/v1/steps/complete", post_step_complete, methods=["POST"]),
    Route("/v1/resume", post_resume, methods=["POST"]),
]
