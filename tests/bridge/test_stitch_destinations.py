"""The client's destination calls (reference §5.7): what they send, what they return, and that
Stitch's refusals are typed and never quote a property back."""

from __future__ import annotations

import json

import pytest

from bridge.stitch import Destination, StitchDestinationRefused, StitchUnavailable
from tests.bridge.test_stitch_support import Script, make_client, reply

TOKEN = "ac_client_test_token_0123456789"
PASSWORD = "warehouse-secret-0123456789"
PROPERTIES = {"host": "db.example.com", "port": "5432", "password": PASSWORD, "ssl": False}


def destination_json(destination_id: int = 155582, **extra: object) -> dict[str, object]:
    # The documented Destination object (§4.13): credentials are never in `properties`.
    return {
        "id": destination_id,
        "type": "postgres",
        "name": "Staging",
        "description": None,
        "properties": {"host": "db.example.com", "port": "5432", "ssl": "false"},
        "stitch_client_id": 116078,
        "created_at": "2019-05-24T18:03:50Z",
        "updated_at": "2019-05-24T18:04:08Z",
        "deleted_at": None,
        "report_card": {"type": "postgres", "current_step": 2, "steps": []},
        **extra,
    }


async def test_create_posts_type_name_and_properties() -> None:
    script = Script(reply(200, destination_json()))
    async with make_client(script) as client:
        made = await client.account(TOKEN).create_destination(
            type="postgres", properties=PROPERTIES, name="Staging"
        )
    [request] = script.requests
    assert (request.method, request.url.path) == ("POST", "/v4/destinations")
    assert json.loads(request.content) == {
        "type": "postgres",
        "name": "Staging",
        "properties": PROPERTIES,
    }
    assert made == Destination(
        id=155582,
        type="postgres",
        name="Staging",
        created_at="2019-05-24T18:03:50Z",
        updated_at="2019-05-24T18:04:08Z",
        raw={},
    )


async def test_update_puts_the_properties_and_never_a_type() -> None:
    script = Script(reply(200, destination_json(check_job_name=None)))
    async with make_client(script) as client:
        await client.account(TOKEN).update_destination(155582, properties={"password": PASSWORD})
    [request] = script.requests
    assert (request.method, request.url.path) == ("PUT", "/v4/destinations/155582")
    assert json.loads(request.content) == {"properties": {"password": PASSWORD}}


async def test_list_parses_every_destination() -> None:
    script = Script(reply(200, [destination_json(1), destination_json(2, name=None)]))
    async with make_client(script) as client:
        listed = await client.account(TOKEN).list_destinations()
    assert [(d.id, d.name) for d in listed] == [(1, "Staging"), (2, None)]


async def test_the_destination_limit_is_a_typed_refusal() -> None:
    script = Script(reply(400, "you are at your destination limit"))
    async with make_client(script) as client:
        with pytest.raises(StitchDestinationRefused) as caught:
            await client.account(TOKEN).create_destination(type="postgres", properties=PROPERTIES)
    assert caught.value.message == "you are at your destination limit"
    assert len(script.requests) == 1  # a refusal is not retried


async def test_a_refusal_quoting_a_credential_keeps_none_of_it() -> None:
    echo = f"could not log in with password {PASSWORD}"
    script = Script(reply(400, {"error": "Invalid", "data": {"message": echo}}))
    async with make_client(script) as client:
        with pytest.raises(StitchDestinationRefused) as caught:
            await client.account(TOKEN).update_destination(1, properties=PROPERTIES)
    error = caught.value
    for text in (error.message, str(error), repr(error), json.dumps(error.body)):
        assert PASSWORD not in text
    assert error.message.startswith("could not log in with password")


async def test_a_server_error_stays_an_outage_not_a_refusal() -> None:
    script = Script(reply(500, {"error": "Internal"}))
    async with make_client(script) as client:
        with pytest.raises(StitchUnavailable) as caught:
            await client.account(TOKEN).create_destination(type="postgres", properties=PROPERTIES)
    assert not isinstance(caught.value, StitchDestinationRefused)
