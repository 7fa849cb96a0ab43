"""Each call sends what the reference documents and returns typed objects; no secret leaks."""

from __future__ import annotations

import inspect
import json
import logging
from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs

import httpx
import pytest

import bridge.stitch as package
from bridge.stitch import (
    UNSET,
    ConnectionCheck,
    Source,
    SourceType,
    StitchAlreadyRunning,
    StitchBadRequest,
    StitchClient,
    StitchError,
    StitchNotFound,
    StitchTransportError,
    StitchUnauthorized,
    StitchUnavailable,
    Stream,
    errors,
)
from tests.bridge.test_stitch_support import BASE_URL, Fail, Script, make_client, reply

TOKEN = "ac_client_test_token_0123456789"
PARTNER_SECRET = "oc_partner_secret_9876543210"
CODE = "stitch_oauth_code_5555555555"


def source_json(source_id: int = 7, **extra: object) -> dict[str, object]:
    return {
        "id": source_id,
        "type": "platform.hubspot",
        "display_name": "HubSpot",
        "name": "hubspot",
        "properties": {"start_date": "2024-01-01T00:00:00Z"},
        "stitch_client_id": 116078,
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "deleted_at": None,
        "paused_at": None,
        "system_paused_at": None,
        "check_job_name": None,
        "schedule": None,
        "report_card": {
            "type": "platform.hubspot",
            "current_step": 2,
            "current_step_type": "oauth",
            "steps": [{"type": "form", "properties": []}, {"type": "oauth", "properties": []}],
            "current_step_hints": {"js": {"function": "authorizeSource", "options": {"id": 7}}},
        },
        **extra,
    }


def assert_bearer_json(request: httpx.Request) -> None:
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["user-agent"].startswith("stitch-bridge/")


async def test_create_source_posts_type_display_name_and_properties():
    script = Script(reply(200, source_json()))
    async with make_client(script) as client:
        source = await client.account(TOKEN).create_source(
            type="platform.hubspot",
            display_name="HubSpot",
            properties={"frequency_in_minutes": "30"},
        )
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v4/sources")
    assert_bearer_json(request)
    assert request.headers["content-type"] == "application/json"
    assert script.json_body() == {
        "type": "platform.hubspot",
        "display_name": "HubSpot",
        "properties": {"frequency_in_minutes": "30"},
    }
    assert isinstance(source, Source)
    assert source.report_card.hints == {"js": {"function": "authorizeSource", "options": {"id": 7}}}


async def test_create_source_without_properties_omits_the_key():
    script = Script(reply(200, source_json()))
    async with make_client(script) as client:
        await client.account(TOKEN).create_source(type="import_api", display_name="Import")
    assert script.json_body() == {"type": "import_api", "display_name": "Import"}


async def test_list_and_get_sources():
    script = Script(reply(200, [source_json(1), source_json(2)]), reply(200, source_json(2)))
    async with make_client(script) as client:
        account = client.account(TOKEN)
        sources = await account.list_sources()
        one = await account.get_source(2)
    assert [s.id for s in sources] == [1, 2]
    assert one.id == 2
    assert [(r.method, r.url.path) for r in script.requests] == [
        ("GET", "/v4/sources"),
        ("GET", "/v4/sources/2"),
    ]
    assert all(r.content == b"" for r in script.requests)


async def test_update_source_sends_only_the_keys_given():
    script = Script(reply(200, source_json()))
    async with make_client(script) as client:
        account = client.account(TOKEN)
        await account.update_source(7, properties={"refresh_token": "r"})
        await account.update_source(7, display_name="New name")
        await account.update_source(7, paused_at=None)
        await account.update_source(7, paused_at="2019-06-01T00:00:00Z")
        await account.update_source(
            7, paused_at=datetime(2024, 5, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
        )
        await account.update_source(7, paused_at=UNSET)
    bodies = [json.loads(r.content) for r in script.requests]
    assert bodies == [
        {"properties": {"refresh_token": "r"}},
        {"display_name": "New name"},
        {"paused_at": None},
        {"paused_at": "2019-06-01T00:00:00Z"},
        {"paused_at": "2024-05-01T12:00:00Z"},
        {},
    ]
    assert {(r.method, r.url.path) for r in script.requests} == {("PUT", "/v4/sources/7")}


async def test_update_source_refuses_a_naive_pause_time():
    async with make_client(Script(reply(200, source_json()))) as client:
        with pytest.raises(ValueError):
            await client.account(TOKEN).update_source(7, paused_at=datetime(2024, 1, 1))


async def test_delete_source_returns_the_soft_deleted_source():
    deleted = source_json(deleted_at="2024-02-02T00:00:00Z")
    script = Script(reply(200, deleted))
    async with make_client(script) as client:
        source = await client.account(TOKEN).delete_source(7)
    assert (script.requests[0].method, script.requests[0].url.path) == ("DELETE", "/v4/sources/7")
    assert source.is_deleted


async def test_unknown_source_on_update_is_not_found():
    body = {"error": "InvalidId", "data": {"message": "source not found (99)"}}
    async with make_client(Script(reply(400, body))) as client:
        with pytest.raises(StitchNotFound, match=r"source not found \(99\)"):
            await client.account(TOKEN).update_source(99, display_name="x")


async def test_source_types_list_and_one_quoted_in_the_path():
    card = {
        "type": "platform.hp-postgres",
        "current_step": 1,
        "current_step_type": "form",
        "steps": [{"type": "form", "properties": []}],
        "details": {"access": True, "protocol": "platform.hp-postgres"},
        "upgrade_available": None,
    }
    legacy = {"type": "adroll", "details": {"access": False}, "upgrade_available": None}
    script = Script(reply(200, [card, legacy]), reply(200, card))
    async with make_client(script) as client:
        account = client.account(TOKEN)
        types = await account.list_source_types()
        one = await account.get_source_type("platform.hp-postgres")
        with pytest.raises(TypeError):
            await account.get_source("7")  # type: ignore[arg-type]
    assert [t.type for t in types] == ["platform.hp-postgres", "adroll"]
    assert types[1].report_card is None
    assert isinstance(one, SourceType) and one.access
    assert script.requests[1].url.raw_path == b"/v4/source-types/platform.hp-postgres"
    assert script.calls == 2


async def test_source_type_names_cannot_escape_their_path_segment():
    script = Script(reply(404, None))
    async with make_client(script) as client:
        with pytest.raises(StitchNotFound):
            await client.account(TOKEN).get_source_type("../sources?x=1")
    assert script.requests[0].url.raw_path == b"/v4/source-types/..%2Fsources%3Fx%3D1"


async def test_last_connection_check_or_none():
    check = {"name": "1.7.check.x", "status": "running", "error": False, "mode": "check"}
    script = Script(reply(200, check), reply(404, {"error": "NotFound"}))
    async with make_client(script) as client:
        account = client.account(TOKEN)
        found = await account.last_connection_check(7)
        missing = await account.last_connection_check(7)
    assert isinstance(found, ConnectionCheck) and found.running
    assert missing is None
    assert script.requests[0].url.path == "/v4/sources/7/last-connection-check"


async def test_last_connection_check_of_an_unknown_source_id_still_raises():
    body = {"error": "InvalidId", "data": {"message": "source not found (7)"}}
    async with make_client(Script(reply(400, body))) as client:
        with pytest.raises(StitchNotFound):
            await client.account(TOKEN).last_connection_check(7)


async def test_streams_schema_and_metadata_update():
    stream = {
        "stream_id": 11,
        "tap_stream_id": "contacts",
        "stream_name": "contacts",
        "selected": None,
        "metadata": {"selected": None},
    }
    schema = {"schema": "{}", "metadata": [], "non-discoverable-metadata-keys": ["selected"]}
    script = Script(reply(200, [stream]), reply(200, schema), reply(200, {"status": 200}))
    streams = [{"tap_stream_id": "contacts", "metadata": [{"breadcrumb": [], "metadata": {}}]}]
    async with make_client(script) as client:
        account = client.account(TOKEN)
        listed = await account.list_streams(7)
        got = await account.get_stream_schema(7, 11)
        assert await account.update_stream_metadata(7, streams) is None
    assert listed == [Stream.from_json(stream)]
    assert got == schema
    assert [(r.method, r.url.path) for r in script.requests] == [
        ("GET", "/v4/sources/7/streams"),
        ("GET", "/v4/sources/7/streams/11"),
        ("PUT", "/v4/sources/7/streams/metadata"),
    ]
    assert script.json_body(2) == {"streams": streams}


async def test_stream_metadata_update_accepts_an_empty_answer():
    async with make_client(Script(httpx.Response(200))) as client:
        await client.account(TOKEN).update_stream_metadata(7, [])


async def test_invalid_stream_id_is_not_found():
    async with make_client(Script(reply(400, "invalid stream-id: 11"))) as client:
        with pytest.raises(StitchNotFound, match="invalid stream-id: 11"):
            await client.account(TOKEN).get_stream_schema(7, 11)


async def test_start_sync_returns_the_job_name_or_already_running():
    running = {"error": {"type": "already_running", "message": "Did not create job"}}
    script = Script(reply(200, {"job_name": "1.7.sync.abc"}), reply(200, running))
    async with make_client(script) as client:
        account = client.account(TOKEN)
        assert await account.start_sync(7) == "1.7.sync.abc"
        with pytest.raises(StitchAlreadyRunning, match="Did not create job") as caught:
            await account.start_sync(7)
    assert caught.value.status == 200
    assert script.requests[0].url.path == "/v4/sources/7/sync"
    assert script.requests[0].method == "POST"


async def test_ephemeral_token():
    script = Script(reply(200, {"ephemeral_token": "eph_1"}))
    async with make_client(script) as client:
        assert await client.account(TOKEN).create_ephemeral_token() == "eph_1"
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v3/sessions/ephemeral")
    assert request.content == b""
    assert_bearer_json(request)


async def test_create_account_sends_partner_credentials_in_the_body_without_bearer():
    script = Script(reply(200, {"access_token": "ac_new", "stitch_account_id": 136715}))
    async with make_client(script) as client:
        answer = await client.create_account(
            partner_id="oc_partner",
            partner_secret=PARTNER_SECRET,
            first_name="Ada",
            last_name="Lovelace",
            company="Acme",
            email="ada@example.com",
        )
    assert answer == ("ac_new", 136715)
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/v3/accounts")
    assert "authorization" not in request.headers
    assert script.json_body() == {
        "partner_id": "oc_partner",
        "partner_secret": PARTNER_SECRET,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company": "Acme",
        "email": "ada@example.com",
        "region": "us-east-1",
    }


async def test_exchange_partner_code_is_form_encoded():
    answer = {"token_type": "bearer", "access_token": "ac_x", "stitch_account_id": 116078}
    script = Script(reply(200, answer))
    async with make_client(script) as client:
        result = await client.exchange_partner_code(
            partner_id="oc_partner",
            partner_secret=PARTNER_SECRET,
            code=CODE,
            redirect_uri="https://bridge.test/v1/oauth/stitch/callback",
        )
    assert result == ("ac_x", 116078)
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/oauth/token")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "authorization" not in request.headers
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "client_id": ["oc_partner"],
        "client_secret": [PARTNER_SECRET],
        "code": [CODE],
        "redirect_uri": ["https://bridge.test/v1/oauth/stitch/callback"],
    }


@pytest.mark.parametrize(
    ("body", "call"),
    [
        ({"id": 7}, "get_source"),
        ({"sources": []}, "list_sources"),
        ({}, "create_ephemeral_token"),
        ({"status": "ok"}, "start_sync"),
        ([], "get_stream_schema"),
    ],
)
async def test_answers_of_the_wrong_shape_are_unavailable(body, call):
    args = {"get_source": (7,), "start_sync": (7,), "get_stream_schema": (7, 1)}.get(call, ())
    async with make_client(Script(reply(200, body))) as client:
        with pytest.raises(StitchUnavailable, match="unexpected"):
            await getattr(client.account(TOKEN), call)(*args)


def test_base_url_must_be_http_and_tokens_non_empty():
    with pytest.raises(ValueError):
        StitchClient("api.stitchdata.com")
    client = StitchClient(BASE_URL)
    with pytest.raises(ValueError):
        client.account("  ")


async def test_base_url_with_a_path_prefix_is_kept():
    script = Script(reply(200, []))
    client = StitchClient("http://127.0.0.1:9/stitch/", transport=httpx.MockTransport(script))
    async with client:
        await client.account(TOKEN).list_sources()
    assert str(script.requests[0].url) == "http://127.0.0.1:9/stitch/v4/sources"


# ---- secrets ------------------------------------------------------------------------------


async def test_no_secret_reaches_logs_errors_or_reprs(caplog):
    caplog.set_level(logging.DEBUG)
    echo = {"error": "invalid_grant", "error_description": f"bad code {CODE} for {PARTNER_SECRET}"}
    script = Script(
        reply(200, [source_json()]),  # list_sources
        reply(503, None),  # create_source: not retried
        Fail(httpx.ReadTimeout, f"timed out sending {TOKEN}"),  # get_source, 4 attempts
        Fail(httpx.ReadTimeout, f"timed out sending {TOKEN}"),
        Fail(httpx.ReadTimeout, f"timed out sending {TOKEN}"),
        Fail(httpx.ReadTimeout, f"timed out sending {TOKEN}"),
        reply(400, echo),  # exchange_partner_code
        reply(401, {"error": "invalid_client", "error_description": PARTNER_SECRET}),
        reply(200, {"ephemeral_token": "eph"}),
    )
    errors: list[StitchError] = []
    async with make_client(script, secrets=("app_signing_key_abcdefgh",)) as client:
        account = client.account(TOKEN)
        await account.list_sources()
        for call in (
            account.create_source(type="platform.hubspot", display_name="H"),
            account.get_source(7),
            client.exchange_partner_code(
                partner_id="oc_p", partner_secret=PARTNER_SECRET, code=CODE
            ),
            client.create_account(
                partner_id="oc_p",
                partner_secret=PARTNER_SECRET,
                first_name="a",
                last_name="b",
                company="c",
                email="e@x.test",
            ),
        ):
            with pytest.raises(StitchError) as caught:
                await call
            errors.append(caught.value)
        await account.create_ephemeral_token()
        texts = [repr(client), repr(account)]
    assert [type(e) for e in errors] == [
        StitchUnavailable,
        StitchTransportError,
        StitchBadRequest,
        StitchUnauthorized,
    ]
    for error in errors:
        texts += [str(error), repr(error), error.message, json.dumps(error.body)]
        assert error.__cause__ is None
    for record in caplog.records:
        texts += [record.getMessage(), json.dumps(record.__dict__, default=str)]
    assert len(caplog.records) >= 8  # one line per attempt
    blob = "\n".join(texts)
    for secret in (TOKEN, PARTNER_SECRET, CODE):
        assert secret not in blob
    assert "[redacted]" in blob


async def test_each_attempt_is_logged_with_method_path_status_attempt_and_elapsed(caplog):
    caplog.set_level(logging.DEBUG, logger="bridge.stitch")
    script = Script(reply(503, None), reply(200, []))
    async with make_client(script) as client:
        await client.account(TOKEN).list_sources()
    records = [r for r in caplog.records if r.name == "bridge.stitch"]
    assert [(r.method, r.path, r.status, r.attempt) for r in records] == [
        ("GET", "/v4/sources", 503, 1),
        ("GET", "/v4/sources", 200, 2),
    ]
    assert all(isinstance(r.elapsed, float) for r in records)
    assert [r.levelno for r in records] == [logging.WARNING, logging.DEBUG]


def test_the_package_exports_exactly_its_public_names():
    error_classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, StitchError)
    }
    assert error_classes <= set(package.__all__)
    assert set(package.__all__) == error_classes | {
        "UNSET",
        "ConnectionCheck",
        "Destination",
        "ReportCard",
        "ReportCardStep",
        "RetryPolicy",
        "Source",
        "SourceType",
        "StitchAccount",
        "StitchClient",
        "Stream",
        "TokenBucketBudget",
        "UnlimitedBudget",
        "UpstreamBudget",
        "parse_error",
    }
    assert all(hasattr(package, name) for name in package.__all__)
