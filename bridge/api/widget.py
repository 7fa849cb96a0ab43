"""Widget-facing routes: the browser, holding only a connect-session token (CONTRACT §4.2)."""

from __future__ import annotations

import re
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bridge import catalogue, flow
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
from bridge.flow import NextStep, SourceAnswer, StepCompletion, StepStart, StitchJsStep
from bridge.resume import resume_flow
from bridge.sources import render_source
from bridge.stitch.models import Stream
from bridge.streams import StreamChoice, list_streams, select_streams
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
    return json_response({"data": await catalogue.for_session(services_of(request), cs)})


def _render_step(step: NextStep | None) -> dict[str, Any] | None:
    if step is None:
        return None
    return {
        "type": step.type,
        "token": step.token,
        "expires_at": iso(step.expires_at),
        "js": step.js,
    }


def _render_answer(answer: SourceAnswer) -> dict[str, Any]:
    body = {"source": render_source(answer.row), "next_step": _render_step(answer.next_step)}
    if answer.connection_check is not None:
        body["connection_check"] = {"status": answer.connection_check}
    return body


def _render_completion(completion: StepCompletion) -> dict[str, Any]:
    body = _render_answer(completion.answer)
    body["step_completed"] = completion.step_completed
    if completion.receipt is not None:
        body["receipt"] = completion.receipt
    return body


def _render_start(start: StepStart) -> dict[str, Any]:
    if isinstance(start, StitchJsStep):
        return {
            "driver": "stitchjs",
            "step": start.step,
            "js": {"function": start.function, "options": start.options},
            "stitch_js_url": start.stitch_js_url,
        }
    body: dict[str, Any] = {"driver": "native", "step": start.step, "action": start.action}
    if start.oauth_url is not None:
        body["oauth_url"] = start.oauth_url
        body["oauth_ticket"] = start.oauth_ticket
    return body


def _render_stream(stream: Stream) -> dict[str, Any]:
    return {
        "stream_id": stream.stream_id,
        "tap_stream_id": stream.tap_stream_id,
        "stream_name": stream.stream_name,
        "selected": bool(stream.selected),
    }


async def post_source(request: Request) -> Response:
    services = services_of(request)
    async with services.admission.enter() as ticket:
        cs = await require_session(request)
        fields = Fields(await json_object(request), ("type", "display_name", "properties"))
        source_type = fields.text("type", required=True, max_length=MAX_ID)
        display_name = fields.text("display_name", max_length=200)
        properties = fields.properties("properties")
        key = request.headers.get("idempotency-key")
        if key is not None and not (0 < len(key) <= 255 and IDEMPOTENCY_KEY.fullmatch(key)):
            fields.problems["Idempotency-Key"] = "must be 1 to 255 visible ASCII characters"
        fields.check()
        assert source_type is not None
        created = await flow.create(
            services,
            cs,
            source_type=source_type,
            display_name=display_name,
            properties=properties,
            idempotency_key=key,
            ticket=ticket,
        )
    status = 201 if created.created else 200
    return json_response(_render_answer(created.answer), status=status, headers=NO_STORE)


async def get_source(request: Request) -> Response:
    cs = await require_session(request)
    answer = await flow.current(services_of(request), cs, path_int(request, "source_id"))
    return json_response(_render_answer(answer), headers=NO_STORE)


async def put_source(request: Request) -> Response:
    cs = await require_session(request)
    source_id = path_int(request, "source_id")
    fields = Fields(await json_object(request), ("display_name", "properties"))
    display_name = fields.text("display_name", max_length=200)
    properties = fields.properties("properties")
    fields.check()
    answer = await flow.update(
        services_of(request), cs, source_id, display_name=display_name, properties=properties
    )
    return json_response(_render_answer(answer), headers=NO_STORE)


async def get_streams(request: Request) -> Response:
    cs = await require_session(request)
    streams = await list_streams(services_of(request), cs, path_int(request, "source_id"))
    return json_response({"data": [_render_stream(s) for s in streams]})


def _stream_choices(body: dict[str, Any]) -> list[StreamChoice]:
    fields = Fields(body, ("streams",))
    streams = body.get("streams")
    wanted: list[StreamChoice] = []
    if not isinstance(streams, list) or not streams or len(streams) > 1000:
        fields.problems["streams"] = "required: a list of 1 to 1000 streams"
        streams = []
    for index, item in enumerate(streams):
        if not isinstance(item, dict):
            fields.problems[f"streams[{index}]"] = "must be an object"
            continue
        entry = Fields(item, ("tap_stream_id", "selected", "fields"))
        tap_stream_id = entry.text("tap_stream_id", required=True, max_length=MAX_ID)
        selected = item.get("selected")
        if not isinstance(selected, bool):
            entry.problems["selected"] = "must be true or false"
        field_names = entry.string_list("fields", max_items=2000)
        fields.problems.update({f"streams[{index}].{k}": v for k, v in entry.problems.items()})
        if not entry.problems and tap_stream_id is not None and isinstance(selected, bool):
            wanted.append(StreamChoice(tap_stream_id, selected, field_names))
    fields.check()
    return wanted


async def put_streams(request: Request) -> Response:
    cs = await require_session(request)
    source_id = path_int(request, "source_id")
    wanted = _stream_choices(await json_object(request))
    selected = await select_streams(services_of(request), cs, source_id, wanted)
    body = _render_answer(selected.answer)
    body["data"] = [_render_stream(s) for s in selected.streams]
    return json_response(body, headers=NO_STORE)


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
    start = await flow.start_step(services, cs, token, origin=origin, return_url=return_url)
    return json_response(_render_start(start), headers=NO_STORE)


async def post_resume(request: Request) -> Response:
    cs = await require_session(request)
    fields = Fields(await json_object(request), ("resume_id",))
    resume_id = fields.text("resume_id", required=True, max_length=100)
    fields.check()
    resumed = await resume_flow(services_of(request), cs, resume_id)
    body = _render_completion(resumed.completion)
    body["outcome"] = resumed.outcome
    if resumed.error is not None:
        body["error"] = resumed.error
    return json_response(body, headers=NO_STORE)


async def post_step_complete(request: Request) -> Response:
    cs = await require_session(request)
    fields = Fields(await json_object(request), ("token", "outcome"))
    token = fields.text("token", required=True, max_length=4096)
    outcome = fields.text("outcome", max_length=20)
    if outcome is not None and outcome not in flow.OUTCOMES:
        fields.problems["outcome"] = f"must be one of {', '.join(flow.OUTCOMES)}"
    fields.check()
    completion = await flow.complete_step(services_of(request), cs, token, outcome)
    return json_response(_render_completion(completion), headers=NO_STORE)


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
