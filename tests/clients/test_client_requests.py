"""The client's requests and error handling against `httpx.MockTransport`: what it sends, what
it retries, how long it waits, and which exception an error answer becomes."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

import stitch_bridge_client as sbc
from stitch_bridge_client import AsyncClient, Client

API_KEY = "k" * 40
SOURCE = {"id": 7, "type": "platform.recurly", "status": "connected", "end_user_id": "u 1"}

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A scripted bridge: answers in order, remembers every request."""

    def __init__(self, *answers: httpx.Response) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


def client(handler: Handler, sleeps: list[float] | None = None, **kw: Any) -> Client:
    made = Client("http://bridge.test/", API_KEY, transport=httpx.MockTransport(handler), **kw)
    made._sleep = (sleeps if sleeps is not None else []).append
    return made


def error(status: int, code: str, **headers: str) -> httpx.Response:
    body = {"error": {"code": code, "message": f"{code}!", "details": {"field": "why"}}}
    return httpx.Response(status, json=body, headers=headers)


def test_sessions_create_posts_the_body_with_the_api_key_and_reads_the_answer() -> None:
    bridge = Recorder(
        httpx.Response(
            201, json={"id": "cs_1", "token": "tok", "expires_at": "2030-01-01T00:00:00Z"}
        )
    )
    session = client(bridge).sessions.create(
        end_user={"id": "u1", "email": "u1@example.com"},
        source_types=["platform.hubspot"],
        actions=["sync", "pause"],
        ttl=600,
    )
    assert (session.id, session.token, session.expires_at) == (
        "cs_1",
        "tok",
        "2030-01-01T00:00:00Z",
    )
    (request,) = bridge.requests
    assert (request.method, request.url.path) == ("POST", "/v1/connect-sessions")
    assert request.headers["authorization"] == f"Bearer {API_KEY}"
    assert bridge.bodies() == [
        {
            "end_user": {"id": "u1", "email": "u1@example.com"},
            "source_types": ["platform.hubspot"],
            "ttl": 600,
            "actions": ["sync", "pause"],
        }
    ]
    assert "tok" not in repr(session).replace("ConnectSession", "")


def test_an_end_user_given_as_a_string_is_its_id() -> None:
    bridge = Recorder(httpx.Response(201, json={"id": "cs_1", "token": "t", "expires_at": "x"}))
    client(bridge).sessions.create(end_user="u1")
    assert bridge.bodies() == [{"end_user": {"id": "u1"}}]


def test_a_create_keeps_one_idempotency_key_across_its_retries() -> None:
    bridge = Recorder(
        error(503, "upstream_unavailable"),
        httpx.Response(201, json={"id": "cl_1", "url": "http://b/connect/x", "expires_at": "x"}),
    )
    link = client(bridge).links.create(end_user="u1", return_url="http://app.test/")
    assert link.url == "http://b/connect/x"
    keys = [r.headers.get("idempotency-key") for r in bridge.requests]
    assert len(keys) == 2 and keys[0] and keys[0] == keys[1]


def test_a_caller_may_choose_the_idempotency_key() -> None:
    bridge = Recorder(httpx.Response(201, json={"id": "cs_1", "token": "t", "expires_at": "x"}))
    client(bridge).sessions.create(end_user="u1", idempotency_key="signup-42")
    assert bridge.requests[0].headers["idempotency-key"] == "signup-42"


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_safe_calls_are_retried_on_busy_and_gateway_answers(status: int) -> None:
    bridge = Recorder(
        error(status, "x"), error(status, "x"), httpx.Response(200, json={"data": []})
    )
    sleeps: list[float] = []
    assert client(bridge, sleeps).end_users.sources("u1") == []
    assert len(bridge.requests) == 3 and len(sleeps) == 2


def test_retries_stop_at_max_retries_with_the_last_error() -> None:
    bridge = Recorder(error(503, "upstream_rate_limited", **{"Retry-After": "2"}))
    with pytest.raises(sbc.RateLimitError) as caught:
        client(bridge, max_retries=2).end_users.sources("u1")
    assert len(bridge.requests) == 3
    assert caught.value.retry_after == 2.0 and caught.value.code == "upstream_rate_limited"


def test_the_wait_honours_retry_after() -> None:
    bridge = Recorder(
        error(429, "x", **{"Retry-After": "3"}), httpx.Response(200, json={"data": []})
    )
    sleeps: list[float] = []
    client(bridge, sleeps).end_users.sources("u1")
    assert sleeps and sleeps[0] >= 3.0


def test_a_retry_after_too_long_to_wait_goes_to_the_caller_at_once() -> None:
    bridge = Recorder(error(503, "upstream_rate_limited", **{"Retry-After": "3600"}))
    sleeps: list[float] = []
    with pytest.raises(sbc.RateLimitError) as caught:
        client(bridge, sleeps).end_users.sources("u1")
    assert len(bridge.requests) == 1 and sleeps == [] and caught.value.retry_after == 3600


def test_starting_a_sync_is_not_repeated_on_a_gateway_error() -> None:
    bridge = Recorder(error(502, "upstream_unavailable"))
    with pytest.raises(sbc.UpstreamError):
        client(bridge).end_users.sync("u1", 7)
    assert len(bridge.requests) == 1


def test_redeliver_is_not_repeated_either() -> None:
    bridge = Recorder(error(503, "upstream_unavailable"))
    with pytest.raises(sbc.UpstreamError):
        client(bridge).events.redeliver("evt_1")
    assert len(bridge.requests) == 1


def test_connection_failures_of_safe_calls_are_retried_then_raised() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    sleeps: list[float] = []
    with pytest.raises(sbc.APIConnectionError) as caught:
        client(refuse, sleeps, max_retries=2).events.get("evt_1")
    assert caught.value.code == "connection_error" and len(sleeps) == 2


@pytest.mark.parametrize(
    ("status", "code", "cls"),
    [
        (400, "invalid_request", sbc.InvalidRequestError),
        (422, "bad_properties", sbc.BadPropertiesError),
        (401, "unauthorized", sbc.AuthenticationError),
        (403, "action_not_allowed", sbc.PermissionDeniedError),
        (404, "source_not_found", sbc.NotFoundError),
        (409, "sync_already_running", sbc.ConflictError),
        (409, "source_not_ready", sbc.ConflictError),
        (400, "receipt_invalid", sbc.ReceiptInvalidError),
        (400, "token_used", sbc.TokenError),
        (500, "internal", sbc.InternalError),
        (409, "some_future_code", sbc.ConflictError),
    ],
)
def test_each_error_code_raises_its_family_with_the_answer_s_fields(
    status: int, code: str, cls: type[sbc.BridgeError]
) -> None:
    bridge = Recorder(error(status, code, **{"X-Request-ID": "req-9"}))
    with pytest.raises(cls) as caught:
        client(bridge, max_retries=0).receipts.verify("r")
    found = caught.value
    assert isinstance(found, sbc.BridgeError)
    assert (found.code, found.message, found.status) == (code, f"{code}!", status)
    assert found.details == {"field": "why"} and found.request_id == "req-9"
    assert "req-9" in str(found)


def test_an_answer_without_the_error_body_still_raises_by_status() -> None:
    bridge = Recorder(httpx.Response(404, text="<html>nope</html>"))
    with pytest.raises(sbc.NotFoundError) as caught:
        client(bridge).events.get("evt_1")
    assert caught.value.code == "http_404"


def test_events_list_follows_every_page() -> None:
    pages = {
        None: {
            "data": [{"id": "evt_3", "type": "a"}, {"id": "evt_2", "type": "a"}],
            "has_more": True,
        },
        "evt_2": {"data": [{"id": "evt_1", "type": "a"}], "has_more": False},
    }

    def answer(request: httpx.Request) -> httpx.Response:
        assert request.url.params["end_user_id"] == "u1"
        return httpx.Response(200, json=pages[request.url.params.get("starting_after")])

    events = list(client(answer).events.list(end_user_id="u1", page_size=2))
    assert [e.id for e in events] == ["evt_3", "evt_2", "evt_1"]


def test_ids_are_one_path_segment_each() -> None:
    bridge = Recorder(httpx.Response(204))
    client(bridge).end_users.delete_source("a/../b?x", 7, tenant="t1")
    url = bridge.requests[0].url
    assert url.raw_path == b"/v1/end-users/a%2F..%2Fb%3Fx/sources/7?tenant=t1"


@pytest.mark.parametrize(
    ("method", "args", "verb", "suffix"),
    [
        ("sync", (), "POST", "/sync"),
        ("stop_sync", (), "DELETE", "/sync"),
        ("pause", (), "POST", "/pause"),
        ("unpause", (), "POST", "/unpause"),
    ],
)
def test_after_connect_actions_hit_the_end_user_routes(
    method: str, args: tuple[Any, ...], verb: str, suffix: str
) -> None:
    bridge = Recorder(httpx.Response(202, json={"source": SOURCE}))
    source = getattr(client(bridge).end_users, method)("u1", 7, *args)
    assert isinstance(source, sbc.Source) and source.id == 7 and source.status == "connected"
    request = bridge.requests[0]
    assert (request.method, request.url.path) == (verb, f"/v1/end-users/u1/sources/7{suffix}")


def test_set_schedule_sends_only_what_was_given_and_none_clears() -> None:
    bridge = Recorder(httpx.Response(200, json={"source": SOURCE}))
    made = client(bridge)
    made.end_users.set_schedule("u1", 7, frequency_in_minutes=60)
    made.end_users.set_schedule("u1", 7, cron_expression=None, anchor_time="2030-01-01T00:00:00Z")
    assert [(r.method, r.url.path) for r in bridge.requests] == [
        ("PUT", "/v1/end-users/u1/sources/7/schedule")
    ] * 2
    assert bridge.bodies() == [
        {"frequency_in_minutes": 60},
        {"anchor_time": "2030-01-01T00:00:00Z", "cron_expression": None},
    ]


def test_results_expose_json_fields_as_typed_attributes() -> None:
    raw = {
        **SOURCE,
        "schedule": {"frequency_in_minutes": 60, "next_sync_at": "2030-01-01T00:00:00Z"},
        "sync": {"state": "failed", "error": {"phase": "tap", "message": "boom"}},
        "brand_new_field": "kept",
    }
    bridge = Recorder(httpx.Response(200, json={"data": [raw]}))
    (source,) = client(bridge).end_users.sources("u1")
    assert source.schedule.frequency_in_minutes == 60
    assert source.sync.state == "failed" and source.sync.error == {
        "phase": "tap",
        "message": "boom",
    }
    assert source.brand_new_field == "kept" and source.to_dict() == raw
    with pytest.raises(AttributeError):
        _ = source.no_such_field


def test_receipts_verify_returns_the_receipt() -> None:
    body = {
        "valid": True,
        "source": SOURCE,
        "end_user_id": "u1",
        "tenant": None,
        "completed_at": "x",
    }
    receipt = client(Recorder(httpx.Response(200, json=body))).receipts.verify("r")
    assert receipt.valid and receipt.source.id == 7 and receipt.end_user_id == "u1"


async def test_the_async_client_makes_the_same_calls() -> None:
    pages = [
        httpx.Response(200, json={"data": [{"id": "evt_2", "type": "a"}], "has_more": True}),
        httpx.Response(200, json={"data": [{"id": "evt_1", "type": "a"}], "has_more": False}),
    ]
    bridge = Recorder(error(503, "x"), *pages)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async with AsyncClient(
        "http://bridge.test", API_KEY, transport=httpx.MockTransport(bridge)
    ) as made:
        made._sleep = sleep
        ids = [event.id async for event in made.events.list()]
    assert ids == ["evt_2", "evt_1"] and len(sleeps) == 1
    assert bridge.requests[-1].url.params["starting_after"] == "evt_2"


async def test_the_async_client_raises_the_same_errors() -> None:
    bridge = Recorder(error(409, "sync_already_running"))
    async with AsyncClient(
        "http://bridge.test", API_KEY, transport=httpx.MockTransport(bridge)
    ) as made:
        with pytest.raises(sbc.ConflictError) as caught:
            await made.end_users.sync("u1", 7)
    assert caught.value.code == "sync_already_running"


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(sbc.__all__) == sorted(
        name
        for name in dir(sbc)
        if not name.startswith("_") or name == "__version__"
        if name not in {"annotations"}
    )
