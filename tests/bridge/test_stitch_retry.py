"""Which calls are tried again, how long the client waits, and that it answers in time."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from bridge.stitch import (
    RetryPolicy,
    StitchBadRequest,
    StitchClient,
    StitchInvalidProperties,
    StitchRateLimited,
    StitchTransportError,
    StitchUnavailable,
)
from bridge.stitch.retry import parse_retry_after
from tests.bridge.test_stitch_support import BASE_URL, Fail, FakeClock, Script, make_client, reply

TOKEN = "ac_retry_test_token_0001"
SOURCE = {
    "id": 9,
    "type": "platform.recurly",
    "display_name": "Recurly",
    "name": "recurly",
    "report_card": {
        "type": "platform.recurly",
        "current_step": 1,
        "current_step_type": "form",
        "steps": [{"type": "form", "properties": []}],
    },
}
UNAVAILABLE = {"error": "ServiceUnavailable", "data": {"message": "try later"}}


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_idempotent_read_is_tried_four_times_on_a_retryable_status(status):
    script = Script(reply(status, UNAVAILABLE))
    clock = FakeClock()
    async with make_client(script, clock) as client:
        with pytest.raises(StitchRateLimited if status == 429 else StitchUnavailable) as caught:
            await client.account(TOKEN).get_source(9)
    assert script.calls == 4
    assert len(clock.sleeps) == 3
    assert caught.value.status == status


@pytest.mark.parametrize("status", [429, 502, 503, 504])
async def test_a_read_that_recovers_returns_the_answer(status):
    script = Script(reply(status, UNAVAILABLE), reply(status, UNAVAILABLE), reply(200, SOURCE))
    async with make_client(script) as client:
        source = await client.account(TOKEN).get_source(9)
    assert source.id == 9
    assert script.calls == 3


async def test_put_and_delete_are_retried_too():
    script = Script(reply(503, UNAVAILABLE), reply(200, SOURCE))
    async with make_client(script) as client:
        await client.account(TOKEN).update_source(9, display_name="R")
    script2 = Script(reply(502, text="<html>bad gateway</html>"), reply(200, SOURCE))
    async with make_client(script2) as client:
        await client.account(TOKEN).delete_source(9)
    assert [r.method for r in script.requests + script2.requests] == ["PUT"] * 2 + ["DELETE"] * 2


async def test_non_json_5xx_is_retried_and_reported_unavailable():
    script = Script(reply(500, text="<html>Internal error</html>"))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable, match="not JSON") as caught:
            await client.account(TOKEN).list_sources()
    assert script.calls == 4
    assert caught.value.status == 500


async def test_non_json_2xx_on_a_read_is_retried_then_unavailable():
    script = Script(reply(200, text="<html>captive portal</html>"))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable):
            await client.account(TOKEN).list_sources()
    assert script.calls == 4


async def test_json_500_is_not_retried():
    script = Script(reply(500, {"error": "Boom", "data": {"message": "internal"}}))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable, match="internal"):
            await client.account(TOKEN).list_sources()
    assert script.calls == 1


async def test_client_errors_are_not_retried():
    bad = {"error": "InvalidProperties", "data": {"message": "m", "bad_properties": ["x"]}}
    script = Script(reply(400, bad))
    async with make_client(script) as client:
        with pytest.raises(StitchInvalidProperties):
            await client.account(TOKEN).update_source(9, properties={"x": "1"})
    assert script.calls == 1


@pytest.mark.parametrize("error", [httpx.ReadTimeout, httpx.ConnectTimeout, httpx.ReadError])
async def test_read_timeouts_and_transport_errors_are_retried(error):
    script = Script(Fail(error))
    clock = FakeClock()
    async with make_client(script, clock) as client:
        with pytest.raises(StitchTransportError) as caught:
            await client.account(TOKEN).list_sources()
    assert script.calls == 4
    assert len(clock.sleeps) == 3
    assert caught.value.status is None
    assert f"({error.__name__}: scripted failure)" in caught.value.message


async def test_backoff_is_exponential_with_full_jitter_under_the_cap():
    script = Script(reply(503, UNAVAILABLE))
    clock = FakeClock()
    policy = RetryPolicy(attempts=6, base=0.2, cap=1.0, deadline=100)
    async with make_client(script, clock, retry=policy, random=lambda: 1.0) as client:
        with pytest.raises(StitchUnavailable):
            await client.account(TOKEN).list_sources()
    assert clock.sleeps == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0])

    halves = FakeClock()
    async with make_client(script, halves, retry=policy, random=lambda: 0.5) as client:
        with pytest.raises(StitchUnavailable):
            await client.account(TOKEN).list_sources()
    assert halves.sleeps == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])


async def test_retry_after_seconds_is_honoured():
    script = Script(reply(429, None, retry_after="3"), reply(503, None, retry_after="1.5"))
    script.answers.append(reply(200, []))
    clock = FakeClock()
    async with make_client(script, clock) as client:
        assert await client.account(TOKEN).list_sources() == []
    assert clock.sleeps == [3.0, 1.5]


async def test_retry_after_http_date_is_measured_from_the_servers_date():
    served = datetime(2030, 1, 1, 12, 0, 0, tzinfo=UTC)
    headers = {
        "retry_after": format_datetime(served + timedelta(seconds=4), usegmt=True),
        "date": format_datetime(served, usegmt=True),
    }
    script = Script(reply(429, None, **headers), reply(200, []))
    clock = FakeClock()
    async with make_client(script, clock) as client:
        await client.account(TOKEN).list_sources()
    assert clock.sleeps == [4.0]


async def test_retry_after_past_the_deadline_answers_at_once_with_it():
    script = Script(reply(429, None, retry_after="60"))
    clock = FakeClock()
    async with make_client(script, clock) as client:
        with pytest.raises(StitchRateLimited) as caught:
            await client.account(TOKEN).list_sources()
    assert script.calls == 1
    assert clock.sleeps == []
    assert caught.value.retry_after == 60.0


async def test_persistent_429_ends_within_the_deadline_with_retry_after():
    script = Script(reply(429, None, retry_after="9"))
    clock = FakeClock()
    async with make_client(script, clock) as client:
        with pytest.raises(StitchRateLimited) as caught:
            await client.account(TOKEN).list_sources()
    assert sum(clock.sleeps) <= RetryPolicy().deadline
    assert clock.sleeps == [9.0, 9.0]  # a third wait would end past 25 s
    assert caught.value.retry_after == 9.0


async def test_backoff_never_sleeps_past_the_deadline():
    script = Script(Fail(httpx.ReadTimeout))
    clock = FakeClock()
    policy = RetryPolicy(attempts=10, base=4.0, cap=10.0, deadline=12.0)
    async with make_client(script, clock, retry=policy) as client:
        with pytest.raises(StitchTransportError):
            await client.account(TOKEN).list_sources()
    assert clock.sleeps == [4.0]  # 4 + 8 would wake at the deadline with no time left to try
    assert script.calls == 2


async def test_create_source_is_not_retried_after_a_503():
    script = Script(reply(503, UNAVAILABLE), reply(200, SOURCE))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable):
            await client.account(TOKEN).create_source(type="platform.recurly", display_name="R")
    assert script.calls == 1


async def test_create_source_is_not_retried_after_a_read_timeout():
    script = Script(Fail(httpx.ReadTimeout), reply(200, SOURCE))
    async with make_client(script) as client:
        with pytest.raises(StitchTransportError, match="timed out"):
            await client.account(TOKEN).create_source(type="platform.recurly", display_name="R")
    assert script.calls == 1


async def test_create_source_is_retried_after_a_429_which_stitch_answers_before_any_work():
    script = Script(reply(429, None, retry_after="1"), reply(200, SOURCE))
    async with make_client(script) as client:
        source = await client.account(TOKEN).create_source(
            type="platform.recurly", display_name="R"
        )
    assert source.id == 9
    assert script.calls == 2


async def test_a_429_on_create_that_persists_is_rate_limited_with_its_retry_after():
    script = Script(*[reply(429, None, retry_after="1") for _ in range(10)])
    async with make_client(script) as client:
        with pytest.raises(StitchRateLimited) as caught:
            await client.account(TOKEN).create_source(type="platform.recurly", display_name="R")
    assert 1 < script.calls <= 4
    assert caught.value.retry_after == 1.0


@pytest.mark.parametrize("error", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout])
async def test_create_source_is_retried_when_the_request_never_left(error):
    script = Script(Fail(error), reply(200, SOURCE))
    async with make_client(script) as client:
        source = await client.account(TOKEN).create_source(
            type="platform.recurly", display_name="R"
        )
    assert source.id == 9
    assert script.calls == 2


async def test_non_json_2xx_on_create_is_not_retried():
    script = Script(reply(200, text="<html>proxy</html>"), reply(200, SOURCE))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable):
            await client.account(TOKEN).create_source(type="platform.recurly", display_name="R")
    assert script.calls == 1


async def test_partner_code_exchange_is_never_repeated_once_sent():
    script = Script(reply(502, None), reply(200, {"access_token": "a", "stitch_account_id": 1}))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable):
            await client.exchange_partner_code(partner_id="oc_p", partner_secret="s", code="c")
    assert script.calls == 1


async def test_a_hanging_server_is_cut_off_at_the_deadline_in_real_time():
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)  # the hanging server under test, cut off by the 0.3 s deadline
        return reply(200, [])

    client = StitchClient(
        BASE_URL,
        transport=httpx.MockTransport(hang),
        retry=RetryPolicy(attempts=3, base=0.01, cap=0.01, deadline=0.3),
    )
    started = time.monotonic()
    async with client:
        with pytest.raises(StitchTransportError, match="timed out"):
            await client.account(TOKEN).list_sources()
    assert time.monotonic() - started < 1.5


async def test_each_attempt_carries_a_timeout_bounded_by_the_deadline():
    script = Script(reply(200, []))
    policy = RetryPolicy(deadline=4.0)
    async with make_client(script, retry=policy, timeout=httpx.Timeout(10.0, connect=2.0)) as c:
        await c.account(TOKEN).list_sources()
    assert script.requests[0].extensions["timeout"] == {
        "connect": 2.0,
        "read": 4.0,
        "write": 4.0,
        "pool": 4.0,
    }


async def test_unsupported_protocol_is_not_retried():
    script = Script(Fail(httpx.UnsupportedProtocol))
    async with make_client(script) as client:
        with pytest.raises(StitchTransportError):
            await client.account(TOKEN).list_sources()
    assert script.calls == 1


def test_policy_refuses_nonsense():
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError):
        RetryPolicy(deadline=0)


def test_only_idempotent_methods_may_be_repeated_after_sending():
    policy = RetryPolicy()
    assert [
        m for m in ("GET", "PUT", "DELETE", "POST", "PATCH") if policy.may_retry_after_sending(m)
    ]
    assert not policy.may_retry_after_sending("POST")
    assert not policy.may_retry_after_sending("PATCH")
    assert all(policy.may_retry_after_sending(m) for m in ("get", "PUT", "DELETE"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("3", 3.0),
        (" 2.5 ", 2.5),
        ("0", 0.0),
        ("-4", 0.0),
        ("Wed, 01 Jan 2031 00:00:10 GMT", 10.0),
        ("Wed, 01 Jan 2031 00:00:00 GMT", 0.0),
        ("Tue, 31 Dec 2030 23:59:00 GMT", 0.0),  # already past
        ("soon", None),
        ("", None),
        (None, None),
        ("nan", None),
    ],
)
def test_parse_retry_after(value, expected):
    now = datetime(2031, 1, 1, tzinfo=UTC).timestamp()
    assert parse_retry_after(value, now=now) == expected


async def test_bad_request_from_a_put_is_final():
    script = Script(reply(400, {"error": "InvalidBody", "data": {"message": "PUT body many"}}))
    async with make_client(script) as client:
        with pytest.raises(StitchBadRequest, match="PUT body many"):
            await client.account(TOKEN).update_source(9, display_name="x")
    assert script.calls == 1


async def test_absurdly_nested_json_is_treated_as_not_json():
    script = Script(reply(200, text="[" * 100_000 + "]" * 100_000))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable, match="not JSON"):
            await client.account(TOKEN).list_sources()
