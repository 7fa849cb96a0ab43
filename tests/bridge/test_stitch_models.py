"""The models parse the vendor's documented Source, report card, stream and check examples."""

from __future__ import annotations

import pytest

from bridge.stitch import (
    ConnectionCheck,
    ReportCard,
    Source,
    SourceType,
    StitchUnavailable,
    Stream,
)
from bridge.stitch.models import parse_access_grant, parse_many, parse_one
from tests.bridge.test_stitch_support import docs_json, parse_example, seed_000, seed_001_captures


def test_import_api_source_is_fully_configured_at_step_two():
    source = Source.from_json(docs_json("code-examples/sources.yml", "import-api", "full-object"))
    assert source.id == 126890
    assert source.type == "import_api"
    assert source.name == "import_api"
    assert source.display_name == "Import API"
    assert source.stitch_client_id == 116078
    assert source.created_at == "2020-01-02T15:49:27Z"
    assert source.check_job_name is None  # the example omits the key
    assert source.schedule is None
    assert source.report_card.current_step == 2
    assert source.report_card.current_step_type == "fully_configured"
    assert source.report_card.step_types == ("form", "fully_configured")
    assert source.report_card.hints is None
    assert not source.is_deleted and not source.is_paused


def test_mysql_source_without_step_type_derives_it_from_the_one_based_step():
    data = docs_json("code-examples/sources.yml", "mysql", STEP=3)
    source = Source.from_json(data)
    card = source.report_card
    assert "current_step_type" not in data["report_card"]
    assert card.current_step == 3
    assert card.current_step_type == card.steps[2].type
    assert source.check_job_name == "116078.123903.check.cc8e9583-2026-11e9-b0e4-0e61abdd375a"
    assert source.properties["port"] == "3306"
    form = card.steps[0]
    assert form.type == "form"
    assert {p["name"] for p in form.properties} >= {"frequency_in_minutes", "anchor_time"}


def test_hubspot_type_report_card_lists_its_five_steps():
    card = ReportCard.from_json(docs_json("code-examples/source-report-cards.yml", "hubspot"))
    assert card.type == "platform.hubspot"
    assert card.current_step == 1
    assert card.current_step_type == "form"
    assert card.step_types == (
        "form",
        "oauth",
        "discover_schema",
        "field_selection",
        "fully_configured",
    )
    oauth = card.steps[1]
    assert all(p["is_credential"] for p in oauth.properties)


def test_system_paused_shopify_source_is_paused():
    data = docs_json("code-examples/source-report-cards.yml", "shopify", STEP_NUMBER=5, SHOP="s")
    source = Source.from_json(data)
    assert source.system_paused_at == "2019-01-23T00:00:00Z"
    assert source.paused_at is None
    assert source.is_paused
    assert source.properties["cron_expression"] is None


def test_2018_created_hubspot_source_carries_the_authorize_hint():
    response = next(e for e in seed_000()["examples"] if e["type"] == "response")
    source = Source.from_json(parse_example(response["code"], ACCOUNT_ID=116078, SOURCE_ID=4512))
    assert source.id == 4512
    assert source.report_card.current_step == 2
    assert source.report_card.current_step_type == "oauth"
    assert source.report_card.hints == {
        "js": {"function": "authorizeSource", "options": {"id": 4512}}
    }
    assert source.raw["report_card"]["current_step_hints"] == source.report_card.hints


def test_recurly_guide_type_card_and_sources_parse():
    type_card, created, configured = (parse_example(block) for block in seed_001_captures()[:3])

    source_type = SourceType.from_json(type_card)
    assert source_type.type == "platform.recurly"
    assert source_type.access is True
    assert source_type.upgrade_available is None
    assert source_type.report_card is not None
    assert source_type.report_card.current_step_type == "form"

    after_create = Source.from_json(created)
    assert after_create.id == 233312
    assert after_create.check_job_name == "116078.233312.check.bc876980-6ac4-11ea-9197-0ee6b2399f9b"
    assert after_create.report_card.current_step_type == "field_selection"
    assert "api_key" not in after_create.properties  # credentials never come back

    done = Source.from_json(configured)
    assert done.report_card.current_step == 4
    assert done.report_card.current_step_type == "fully_configured"
    assert done.schedule == {
        "type": "interval",
        "unit": "minute",
        "interval": 60.0,
        "next_fire_time": "2020-03-20T19:09:38Z",
    }


def test_legacy_source_type_without_steps_has_no_report_card():
    entry = {"type": "adroll", "details": {"access": False}, "upgrade_available": None}
    source_type = SourceType.from_json(entry)
    assert source_type.report_card is None
    assert source_type.access is False


def test_superseded_type_names_its_upgrade():
    entry = {
        "type": "platform.postgres",
        "current_step": 1,
        "current_step_type": "form",
        "steps": [{"type": "form", "properties": []}],
        "details": {"access": False, "pipeline_state": "deprecated"},
        "upgrade_available": {"type": "platform.hp-postgres"},
    }
    assert SourceType.from_json(entry).upgrade_available == {"type": "platform.hp-postgres"}


def test_saas_streams_parse_with_never_selected_as_none():
    streams = [Stream.from_json(s) for s in docs_json("code-examples/streams.yml", "saas-streams")]
    assert len(streams) > 3
    first = streams[0]
    assert first.stream_id == 2288757
    assert first.tap_stream_id == "abandoned_checkouts"
    assert first.selected is None
    assert "table-key-properties" in first.metadata


def test_database_stream_and_selected_view():
    stream = Stream.from_json(docs_json("code-examples/streams.yml", "database-stream"))
    assert stream.tap_stream_id == "demni2mf59dt10-heroku-orders"
    assert stream.stream_name == "orders"
    assert stream.metadata["row-count"] == 447
    view = Stream.from_json(docs_json("code-examples/streams.yml", "database-view"))
    assert view.selected is True
    assert view.metadata["view-key-properties"] == ["id"]


@pytest.mark.parametrize(
    ("key", "status", "succeeded", "error"),
    [("in-progress", "running", False, False), ("successful", "succeeded", True, False)]
    + [("failed", "failed", False, True)],
)
def test_connection_check_examples(key, status, succeeded, error):
    check = ConnectionCheck.from_json(docs_json("code-examples/connection-checks.yml", key))
    assert check.status == status
    assert check.succeeded is succeeded
    assert check.error is error
    assert check.running is (status == "running")
    assert check.mode == "check"
    assert ".check." in check.name


def test_failed_check_keeps_the_discovery_error():
    check = ConnectionCheck.from_json(docs_json("code-examples/connection-checks.yml", "failed"))
    assert check.discovery_exit_status == 1
    assert check.discovery_error_message.startswith("FATAL:  password authentication failed")
    assert check.completion_time == "2019-01-16T16:01:36Z"


@pytest.mark.parametrize(
    "broken",
    [
        {"type": "x", "report_card": {"type": "x", "current_step": 1, "steps": []}},  # no id
        {"id": "7", "type": "x", "report_card": {}},  # id not an int
        {"id": 7, "type": "x"},  # no report card
        {"id": True, "type": "x", "report_card": {}},  # a bool is not an id
        {"id": 7, "type": "x", "report_card": {"type": "x", "current_step": 3, "steps": []}},
    ],
)
def test_a_source_missing_what_the_bridge_relies_on_is_refused(broken):
    with pytest.raises(ValueError):
        Source.from_json(broken)
    with pytest.raises(StitchUnavailable, match="unexpected source from Stitch"):
        parse_one(broken, Source.from_json, "source")


def test_parse_many_wants_an_array():
    with pytest.raises(StitchUnavailable, match="not a JSON array"):
        parse_many({"data": []}, Stream.from_json, "streams")


def test_access_grant_needs_both_token_and_account_id_and_never_echoes_them():
    assert parse_access_grant({"access_token": "ac_x", "stitch_account_id": 5}) == ("ac_x", 5)
    with pytest.raises(StitchUnavailable) as caught:
        parse_access_grant({"access_token": "ac_secret_value", "stitch_account_id": "5"})
    assert "ac_secret_value" not in str(caught.value)


def test_raw_is_kept_but_left_out_of_repr():
    data = docs_json("code-examples/sources.yml", "import-api", "full-object")
    source = Source.from_json(data)
    assert source.raw == data
    assert "raw=" not in repr(source)
