"""The client against the emulator (in process, through httpx.ASGITransport): the same calls
the bridge makes against Stitch, with the emulator's frozen clock deciding when checks finish."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bridge.stitch import (
    RetryPolicy,
    StitchAccount,
    StitchAlreadyRunning,
    StitchBadRequest,
    StitchClient,
    StitchInvalidName,
    StitchInvalidProperties,
    StitchInvalidType,
    StitchNotFound,
    StitchRateLimited,
    StitchTransportError,
    StitchUnauthorized,
    StitchUnavailable,
)
from stitch_emulator import Clock, EmulatorConfig, create_app
from tests.bridge.test_stitch_support import FakeClock

TOKEN = "ac_" + "e" * 40
PARTNER_ID = "oc_partner_id_for_client_tests"
PARTNER_SECRET = "oc_partner_secret_for_client_tests"
REDIRECT_URI = "http://bridge.test/v1/oauth/stitch/callback"
BASE = "http://emulator.test"
RECURLY = {
    "start_date": "2018-01-10T00:00:00Z",
    "api_key": "recurly-api-key",
    "frequency_in_minutes": "60",
    "quota_limit": "30",
    "subdomain": "stitchdata",
}
HUBSPOT_FORM = {"start_date": "2024-01-01T00:00:00Z", "frequency_in_minutes": "30"}


@dataclass
class Emulator:
    client: StitchClient
    control: httpx.AsyncClient
    transport: httpx.ASGITransport
    waits: FakeClock
    config: EmulatorConfig

    @property
    def account(self) -> StitchAccount:
        return self.client.account(TOKEN)

    async def advance(self, seconds: float) -> None:
        (await self.control.post("/_emulator/clock", json={"advance": seconds})).raise_for_status()

    async def fault(self, **spec: object) -> None:
        (await self.control.post("/_emulator/faults", json=spec)).raise_for_status()

    async def requests(self, method: str, path: str) -> list[dict[str, object]]:
        log = (await self.control.get("/_emulator/requests")).json()["requests"]
        return [r for r in log if r["method"] == method and r["path"] == path]


@pytest.fixture
async def emulator() -> AsyncIterator[Emulator]:
    config = EmulatorConfig(
        token=TOKEN,
        partner_id=PARTNER_ID,
        partner_secret=PARTNER_SECRET,
        partner_redirect_uris=(REDIRECT_URI,),
    )
    transport = httpx.ASGITransport(app=create_app(config, clock=Clock.frozen_at()))
    waits = FakeClock()
    client = StitchClient(
        BASE, transport=transport, sleep=waits.sleep, clock=waits, random=lambda: 1.0
    )
    control = httpx.AsyncClient(transport=transport, base_url=BASE)
    async with client, control:
        yield Emulator(client, control, transport, waits, config)


async def test_form_only_source_goes_from_create_to_a_running_sync(emulator):
    account = emulator.account
    source = await account.create_source(
        type="platform.recurly", display_name="Recurly", properties=RECURLY
    )
    assert source.report_card.current_step_type == "discover_schema"
    assert source.check_job_name
    assert "api_key" not in source.properties

    check = await account.last_connection_check(source.id)
    assert check is not None and check.running
    await emulator.advance(emulator.config.check_delay + 1)
    check = await account.last_connection_check(source.id)
    assert check is not None and check.succeeded
    assert check.name == source.check_job_name

    source = await account.get_source(source.id)
    assert source.report_card.current_step_type == "field_selection"
    streams = await account.list_streams(source.id)
    assert streams and all(s.selected is None for s in streams)
    schema = await account.get_stream_schema(source.id, streams[0].stream_id)
    assert isinstance(json.loads(schema["schema"]), dict)
    assert "selected" in schema["non-discoverable-metadata-keys"]

    await account.update_stream_metadata(
        source.id,
        [
            {
                "tap_stream_id": streams[0].tap_stream_id,
                "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
            }
        ],
    )
    assert (await account.list_streams(source.id))[0].selected is True
    source = await account.get_source(source.id)
    assert source.report_card.current_step_type == "fully_configured"

    job_name = await account.start_sync(source.id)
    assert job_name.startswith(f"{source.stitch_client_id}.{source.id}.sync.")
    with pytest.raises(StitchAlreadyRunning):
        await account.start_sync(source.id)


async def test_oauth_source_waits_at_oauth_with_an_authorize_hint(emulator):
    account = emulator.account
    source = await account.create_source(
        type="platform.hubspot", display_name="HubSpot", properties=HUBSPOT_FORM
    )
    card = source.report_card
    assert (card.current_step, card.current_step_type) == (2, "oauth")
    assert card.hints is not None
    assert card.hints["js"] == {"function": "authorizeSource", "options": {"id": source.id}}
    assert await account.last_connection_check(source.id) is None

    await emulator.control.post(f"/_emulator/sources/{source.id}/authorize")
    source = await account.get_source(source.id)
    assert source.report_card.current_step_type == "discover_schema"


async def test_update_pause_and_delete(emulator):
    account = emulator.account
    source = await account.create_source(type="import_api", display_name="Import API")
    assert source.report_card.current_step_type == "fully_configured"

    renamed = await account.update_source(source.id, display_name="Renamed")
    assert renamed.display_name == "Renamed"
    assert renamed.name == source.name  # the schema name never changes
    paused = await account.update_source(source.id, paused_at="2019-06-01T00:00:00Z")
    assert paused.paused_at is not None and paused.is_paused
    resumed = await account.update_source(source.id, paused_at=None)
    assert resumed.paused_at is None

    deleted = await account.delete_source(source.id)
    assert deleted.is_deleted
    assert (await account.get_source(source.id)).is_deleted  # a soft delete
    assert source.id in [s.id for s in await account.list_sources()]


async def test_source_types_come_with_report_cards(emulator):
    types = {t.type: t for t in await emulator.account.list_source_types()}
    assert {"platform.hubspot", "platform.recurly", "import_api"} <= set(types)
    hubspot = await emulator.account.get_source_type("platform.hubspot")
    assert hubspot.report_card is not None
    assert hubspot.report_card.step_types[:2] == ("form", "oauth")
    with pytest.raises(StitchNotFound):
        await emulator.account.get_source_type("platform.nope")


async def test_stitch_refusals_arrive_as_typed_errors(emulator):
    account = emulator.account
    await account.create_source(type="platform.recurly", display_name="Recurly", properties=RECURLY)
    with pytest.raises(StitchInvalidType):
        await account.create_source(type="platform.nope", display_name="Nope")
    with pytest.raises(StitchInvalidName):
        await account.create_source(type="platform.recurly", display_name="Recurly")
    with pytest.raises(StitchInvalidProperties) as caught:
        await account.create_source(
            type="platform.recurly", display_name="Other", properties={"start_date": "soon"}
        )
    assert caught.value.bad_properties == ["start_date"]
    with pytest.raises(StitchNotFound):
        await account.update_source(999999, display_name="x")
    with pytest.raises(StitchNotFound):
        await account.get_stream_schema(999999, 1)
    with pytest.raises(StitchUnauthorized):
        await emulator.client.account("ac_not_a_token_of_this_emulator").list_sources()


async def test_ephemeral_tokens_are_fresh_each_time(emulator):
    first = await emulator.account.create_ephemeral_token()
    second = await emulator.account.create_ephemeral_token()
    assert first and second and first != second


async def test_partner_creates_an_account_whose_token_works(emulator):
    token, account_id = await emulator.client.create_account(
        partner_id=PARTNER_ID,
        partner_secret=PARTNER_SECRET,
        first_name="Ada",
        last_name="Lovelace",
        company="Acme",
        email="ada@acme.test",
    )
    assert account_id > 0
    assert await emulator.client.account(token).list_sources() == []
    with pytest.raises(StitchBadRequest) as caught:
        await emulator.client.create_account(
            partner_id=PARTNER_ID,
            partner_secret=PARTNER_SECRET,
            first_name="Ada",
            last_name="Lovelace",
            company="Acme",
            email="ada@acme.test",
        )
    assert caught.value.stitch_code == "ExistingUser"
    with pytest.raises(StitchBadRequest) as caught:
        await emulator.client.create_account(
            partner_id=PARTNER_ID,
            partner_secret="oc_wrong_secret_123",
            first_name="B",
            last_name="C",
            company="D",
            email="b@acme.test",
        )
    assert "oc_wrong_secret_123" not in str(caught.value)


# The emulator's authlib glue raises an AuthlibDeprecationWarning (a DeprecationWarning) on
# /oauth/token; it is the emulator's to fix, not this client's.
@pytest.mark.filterwarnings("ignore::DeprecationWarning")
async def test_partner_code_exchange_gives_a_working_token_once(emulator):
    consent = await emulator.control.post(
        "/oauth/authorization",
        data={
            "client_id": PARTNER_ID,
            "redirect_uri": REDIRECT_URI,
            "state": "csrf-state",
            "email": "linked@acme.test",
            "decision": "approve",
        },
    )
    assert consent.status_code == 302
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    code = query["code"][0]
    token, account_id = await emulator.client.exchange_partner_code(
        partner_id=PARTNER_ID, partner_secret=PARTNER_SECRET, code=code, redirect_uri=REDIRECT_URI
    )
    assert account_id > 0
    assert await emulator.client.account(token).list_sources() == []
    with pytest.raises(StitchBadRequest) as caught:
        await emulator.client.exchange_partner_code(
            partner_id=PARTNER_ID, partner_secret=PARTNER_SECRET, code=code
        )
    assert code not in str(caught.value)


async def test_reads_ride_out_injected_503s(emulator):
    await emulator.fault(method="GET", path="/v4/sources", status=503, count=2)
    assert await emulator.account.list_sources() == []
    assert len(await emulator.requests("GET", "/v4/sources")) == 3
    assert len(emulator.waits.sleeps) == 2


async def test_retry_after_from_the_emulator_is_honoured(emulator):
    await emulator.fault(method="GET", path="/v4/sources/*", status=429, retry_after=3)
    source = await emulator.account.create_source(type="import_api", display_name="Imp")
    assert (await emulator.account.get_source(source.id)).id == source.id
    assert emulator.waits.sleeps == [3.0]


async def test_persistent_429_ends_as_rate_limited(emulator):
    await emulator.fault(method="GET", path="/v4/sources", status=429, count=None, retry_after=2)
    with pytest.raises(StitchRateLimited) as caught:
        await emulator.account.list_sources()
    assert caught.value.retry_after == 2.0
    assert len(await emulator.requests("GET", "/v4/sources")) == 4


async def test_html_gateway_errors_are_retried_then_unavailable(emulator):
    await emulator.fault(
        method="GET",
        path="/v4/sources",
        status=502,
        count=None,
        body="<html><body>Bad gateway</body></html>",
        content_type="text/html",
    )
    with pytest.raises(StitchUnavailable, match="not JSON"):
        await emulator.account.list_sources()
    assert len(await emulator.requests("GET", "/v4/sources")) == 4


async def test_a_create_whose_answer_was_lost_is_not_repeated(emulator):
    await emulator.fault(method="POST", path="/v4/sources", status=503, after=True)
    with pytest.raises(StitchUnavailable):
        await emulator.account.create_source(type="import_api", display_name="Lost answer")
    assert len(await emulator.requests("POST", "/v4/sources")) == 1
    # The work was done: the caller reconciles by listing, and finds exactly one source.
    names = [s.display_name for s in await emulator.account.list_sources()]
    assert names == ["Lost answer"]


async def test_a_slow_emulator_is_cut_off_at_the_deadline(emulator):
    await emulator.fault(method="GET", path="/v4/sources", status=None, delay=5, count=None)
    policy = RetryPolicy(attempts=2, base=0.01, cap=0.01, deadline=0.3)
    started = time.monotonic()
    async with StitchClient(BASE, transport=emulator.transport, retry=policy) as client:
        with pytest.raises(StitchTransportError, match="timed out"):
            await client.account(TOKEN).list_sources()
    assert time.monotonic() - started < 2.0
