"""Unit tests of the backend's rules, no HTTP: report cards, selection, names, schedules."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from stitch_emulator.catalogue import load_catalogue
from stitch_emulator.state.cron import BOTH_DAYS, CronError, parse_cron
from stitch_emulator.state.model import Source
from stitch_emulator.state.naming import derive_name, is_valid_name
from stitch_emulator.state.properties import bad_properties
from stitch_emulator.state.report_card import render_type_card, type_properties
from stitch_emulator.state.schedule import next_interval_fire, schedule_for
from stitch_emulator.state.selection import replicated

from .docs_data import load, reference_json_blocks

CATALOGUE = load_catalogue()
T0 = datetime(2020, 3, 20, 16, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("heading", "type_name"),
    [
        ("### 11.1", "platform.hubspot"),
        ("### 11.2", "platform.recurly"),
        ("### 11.3", "platform.hp-postgres"),
        ("### 11.4", "import_api"),
    ],
)
def test_type_card_reproduces_the_reference_card(heading: str, type_name: str) -> None:
    documented = reference_json_blocks(heading)[0]
    assert documented["type"] == type_name
    rendered = render_type_card(CATALOGUE.source_types[type_name], hints=False)
    assert rendered == documented


def test_deprecated_postgres_card_differs_from_hp_postgres_as_documented() -> None:
    old = type_properties(CATALOGUE.source_types["platform.postgres"])
    new = type_properties(CATALOGUE.source_types["platform.hp-postgres"])
    assert set(old) - set(new) == {"debug_lsn", "wal2json_message_format"}
    assert set(new) - set(old) == {"incremental_limit", "replication_slot_name", "socket_timeout"}
    assert old["filter_dbs"]["property_type"] == "user_provided"
    details = CATALOGUE.source_types["platform.postgres"]["details"]
    assert details["access"] is False and details["pipeline_state"] == "deprecated"
    assert CATALOGUE.source_types["platform.postgres"]["upgrade_available"] == {
        "type": "platform.hp-postgres"
    }


def _selection_value(text: str) -> object:
    return {"true": True, "false": False, "null": None}[text]


@pytest.mark.parametrize("row", load("field-selection-rules.yml")["combinations"])
def test_field_replication_follows_the_truth_table(row: dict[str, str]) -> None:
    values = ["true", "false", "null"]
    selected = values if row["selected"] == "*" else [row["selected"]]
    by_default = values if row["selected-by-default"] == "*" else [row["selected-by-default"]]
    for chosen in selected:
        for default in by_default:
            metadata = {
                "inclusion": row["inclusion"],
                "selected": _selection_value(chosen),
                "selected-by-default": _selection_value(default),
            }
            assert replicated(metadata) is row["replicated"], metadata


@pytest.mark.parametrize(
    ("display_name", "name"),
    [
        ("HubSpot", "hubspot"),
        ("Recurly", "recurly"),
        ("Import API", "import_api"),
        ("GitHub", "github"),
        ("MySQL", "mysql"),
        ("DISPLAY_NAME!!!", "display_name"),
        ("####", ""),
        ("Sales - EU  2024", "sales_eu_2024"),
    ],
)
def test_name_derivation_reproduces_the_documented_pairs(display_name: str, name: str) -> None:
    assert derive_name(display_name) == name


@pytest.mark.parametrize(
    ("name", "valid"),
    [("recurly", True), ("_x$1", True), ("3m", False), ("a" * 49, True), ("a" * 50, False)],
)
def test_name_validity(name: str, valid: bool) -> None:
    assert is_valid_name(name) is valid


HUBSPOT_PROPS = type_properties(CATALOGUE.source_types["platform.hubspot"])
POSTGRES_PROPS = type_properties(CATALOGUE.source_types["platform.hp-postgres"])


@pytest.mark.parametrize(
    ("supplied", "bad"),
    [
        ({"start_date": "2017-01-01T00:00:00Z", "frequency_in_minutes": "30"}, []),
        (
            {"start_date": "2017-01-01 00:00:00", "frequency_in_minutes": ""},
            ["start_date", "frequency_in_minutes"],
        ),
        ({"frequency_in_minutes": "45"}, ["frequency_in_minutes"]),
        ({"frequency_in_minutes": 30}, ["frequency_in_minutes"]),
        ({"email_chunk_size": 500}, []),
        ({"email_chunk_size": "500"}, []),
        ({"email_chunk_size": "lots"}, ["email_chunk_size"]),
        ({"image_version": "9.latest"}, ["image_version"]),
        ({"no_such_property": "x"}, ["no_such_property"]),
        ({"anchor_time": "2020-01-01T03:30:00Z"}, []),
        ({"anchor_time": "tomorrow"}, ["anchor_time"]),
        ({"cron_expression": ""}, ["cron_expression"]),
        ({"cron_expression": "0 0 12 ? * MON-FRI *"}, []),
        ({"client_id": "abc", "redirect_uri": "not a uri"}, ["redirect_uri"]),
    ],
)
def test_property_validation(supplied: dict[str, object], bad: list[str]) -> None:
    assert bad_properties(HUBSPOT_PROPS, supplied) == bad


def test_hostnames_ips_and_immutable_properties() -> None:
    assert bad_properties(POSTGRES_PROPS, {"host": "db.example.com", "port": 5432}) == []
    assert bad_properties(POSTGRES_PROPS, {"host": "10.0.0.7"}) == []
    assert bad_properties(POSTGRES_PROPS, {"host": "not a host!"}) == ["host"]
    current = {"include_schemas_in_destination_stream_name": "true"}
    change = {"include_schemas_in_destination_stream_name": "false"}
    assert bad_properties(POSTGRES_PROPS, change, current) == list(change)
    assert bad_properties(POSTGRES_PROPS, current, current) == []


def _source(values: dict[str, object], **extra: object) -> Source:
    return Source(
        id=1,
        account_id=1,
        type="platform.recurly",
        display_name="R",
        name="r",
        values=dict(values),
        created_at=T0,
        updated_at=T0,
        fully_configured_at=T0,
        **extra,  # type: ignore[arg-type]
    )


def test_schedule_is_an_interval_anchored_when_configured() -> None:
    source = _source({"frequency_in_minutes": "60"})
    now = datetime(2020, 3, 20, 17, 30, 0, tzinfo=UTC)
    assert schedule_for(source, "fully_configured", now) == {
        "type": "interval",
        "unit": "minute",
        "interval": 60.0,
        "next_fire_time": "2020-03-20T18:00:00Z",
    }


def test_anchor_scheduling_fires_at_the_documented_times() -> None:
    anchor = datetime(2020, 1, 1, 3, 30, tzinfo=UTC)
    fires = []
    now = datetime(2020, 6, 1, 0, 0, tzinfo=UTC)
    for _ in range(4):
        now = next_interval_fire(anchor, 360, now)
        fires.append(now.strftime("%H:%M"))
    assert fires == ["03:30", "09:30", "15:30", "21:30"]


def test_cron_wins_over_frequency() -> None:
    source = _source({"frequency_in_minutes": "60", "cron_expression": "0 0 12 ? * MON-FRI *"})
    now = datetime(2020, 6, 20, 10, 0, tzinfo=UTC)  # a Saturday
    assert schedule_for(source, "fully_configured", now) == {
        "type": "cron",
        "cron_expression": "0 0 12 ? * MON-FRI *",
        "next_fire_time": "2020-06-22T12:00:00Z",
    }


def test_no_schedule_unless_fully_configured_active_and_live() -> None:
    values = {"frequency_in_minutes": "60"}
    assert schedule_for(_source(values), "field_selection", T0) is None
    assert (
        schedule_for(_source(values, paused_at="2019-06-01T00:00:00Z"), "fully_configured", T0)
        is None
    )
    assert schedule_for(_source(values, deleted_at=T0), "fully_configured", T0) is None


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("* * * * * *", BOTH_DAYS),
        ("0 0 12 ? * ?", "'?' can only be specified for Day-of-Month -OR- Day-of-Week."),
        ("0 0 12 *", "Unexpected end of expression."),
        ("0 61 12 ? * *", "Unexpected character or value: 61"),
    ],
)
def test_cron_expressions_quartz_refuses(expression: str, reason: str) -> None:
    with pytest.raises(CronError) as raised:
        parse_cron(expression)
    assert str(raised.value) == reason
