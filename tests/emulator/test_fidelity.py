"""Successful responses compared field by field with the vendor's examples (YAML and reference)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from stitch_emulator import EmulatorBackend

from .conftest import AppClient
from .docs_data import assert_same_shape, load, reference_json_blocks
from .factories import HUBSPOT, IMPORT_API, PG_DESTINATION, POSTGRES, RECURLY, create, select

JOB_NAME = r"^{client}\.{source}\.{mode}\.[0-9a-f]{{8}}-[0-9a-f]{{4}}-1[0-9a-f]{{3}}-[0-9a-f]{{4}}-[0-9a-f]{{12}}$"


def yaml_json(relative: str, *keys: str) -> Any:
    value = load(relative)
    for key in keys:
        value = value[key]
    return json.loads(value.replace("“", '"').replace("”", '"'))


@pytest.mark.parametrize(
    ("heading", "type_name"),
    [
        ("### 11.1", "platform.hubspot"),
        ("### 11.2", "platform.recurly"),
        ("### 11.3", "platform.hp-postgres"),
        ("### 11.4", "import_api"),
    ],
)
def test_source_type_is_the_documented_report_card(
    stitch: AppClient, backend: EmulatorBackend, heading: str, type_name: str
) -> None:
    backend.configure(current_step_hints=False)
    answer = stitch.get(f"/v4/source-types/{type_name}")
    assert answer.status_code == 200
    assert answer.json() == reference_json_blocks(heading)[0]


def test_source_type_list_has_every_seeded_type_with_the_legacy_hint(
    stitch: AppClient,
) -> None:
    cards = stitch.get("/v4/source-types").json()
    assert {c["type"] for c in cards} == {
        "platform.hubspot",
        "platform.recurly",
        "platform.hp-postgres",
        "platform.postgres",
        "import_api",
    }
    hubspot = next(c for c in cards if c["type"] == "platform.hubspot")
    assert hubspot["current_step_hints"] == {
        "api": {"method": "POST", "url": "/v4/sources"},
        "js": {"function": "addSource", "options": {"type": "platform.hubspot"}},
    }
    assert stitch.get("/v4/source-types/platform.nope").status_code == 404


def test_recurly_create_response_matches_the_guide(
    stitch: AppClient, backend: EmulatorBackend
) -> None:
    backend.configure(check_delay=0)
    source = create(stitch, RECURLY)
    # Seed 001 shows the create response after the check finished (§5.2).
    assert source["properties"] == {
        "frequency_in_minutes": "60",
        "image_version": "1.latest",
        "quota_limit": "30",
        "start_date": "2018-01-10T00:00:00Z",
        "subdomain": "stitchdata",
    }
    assert source["schedule"] is None
    assert re.match(
        JOB_NAME.format(client=source["stitch_client_id"], source=source["id"], mode="check"),
        source["check_job_name"],
    )
    expected_keys = {
        "properties",
        "updated_at",
        "schedule",
        "check_job_name",
        "name",
        "type",
        "deleted_at",
        "system_paused_at",
        "stitch_client_id",
        "paused_at",
        "id",
        "display_name",
        "created_at",
        "report_card",
    }
    assert set(source) == expected_keys
    assert (source["name"], source["type"], source["display_name"]) == (
        "recurly",
        "platform.recurly",
        "Recurly",
    )
    assert (source["deleted_at"], source["system_paused_at"], source["paused_at"]) == (
        None,
        None,
        None,
    )
    card = source["report_card"]
    assert (card["current_step"], card["current_step_type"]) == (3, "field_selection")
    assert [s["type"] for s in card["steps"]] == [
        "form",
        "discover_schema",
        "field_selection",
        "fully_configured",
    ]
    provided = {p["name"]: p["provided"] for p in card["steps"][0]["properties"]}
    assert provided == {
        "anchor_time": False,
        "cron_expression": False,
        "frequency_in_minutes": True,
        "image_version": True,
        "start_date": True,
        "api_key": True,
        "subdomain": True,
        "quota_limit": True,
    }
    assert re.match(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$", source["created_at"])


def test_fully_configured_recurly_matches_the_guide(
    stitch: AppClient, backend: EmulatorBackend
) -> None:
    source = create(stitch, RECURLY)
    backend.clock.advance(2)
    selected = stitch.put(f"/v4/sources/{source['id']}/streams/metadata", json=select("accounts"))
    assert selected.json() == {"status": 200}
    found = stitch.get(f"/v4/sources/{source['id']}").json()
    documented_schedule = {
        "type": "interval",
        "unit": "minute",
        "interval": 60.0,
        "next_fire_time": "2020-03-20T19:09:38Z",
    }
    assert_same_shape(found["schedule"], documented_schedule)
    assert found["schedule"]["interval"] == 60.0 and isinstance(
        found["schedule"]["interval"], float
    )
    assert (found["report_card"]["current_step"], found["report_card"]["current_step_type"]) == (
        4,
        "fully_configured",
    )


def test_import_api_source_matches_the_documented_full_object(stitch: AppClient) -> None:
    documented = yaml_json("code-examples/sources.yml", "import-api", "full-object")
    source = create(stitch, IMPORT_API)
    assert_same_shape(source, documented)
    for key in (
        "properties",
        "schedule",
        "name",
        "type",
        "deleted_at",
        "system_paused_at",
        "paused_at",
        "display_name",
        "report_card",
    ):
        assert source[key] == documented[key], key


def test_hubspot_create_carries_the_2018_hint(stitch: AppClient) -> None:
    source = create(stitch, HUBSPOT)
    assert source["check_job_name"] is None
    card = source["report_card"]
    assert (card["current_step"], card["current_step_type"]) == (2, "oauth")
    assert card["current_step_hints"]["js"] == {
        "function": "authorizeSource",
        "options": {"id": source["id"]},
    }
    assert source["properties"] == {
        "frequency_in_minutes": "30",
        "image_version": "2.latest",
        "start_date": "2017-01-01T00:00:00Z",
    }


@pytest.mark.parametrize("state", ["in-progress", "successful", "failed"])
def test_connection_check_matches_the_documented_states(
    stitch: AppClient, backend: EmulatorBackend, state: str
) -> None:
    documented = yaml_json("code-examples/connection-checks.yml", state)
    if state == "failed":
        message = documented["discovery_error_message"]
        stitch.post(
            "/_emulator/checks", json={"outcome": "failure", "discovery_error_message": message}
        )
    source = create(stitch, POSTGRES)
    if state != "in-progress":
        backend.clock.advance(2)
    check = stitch.get(f"/v4/sources/{source['id']}/last-connection-check").json()
    assert_same_shape(check, documented)
    for key in (
        "mode",
        "status",
        "error",
        "check_exit_status",
        "discovery_exit_status",
        "discovery_error_message",
        "tap_exit_status",
        "target_exit_status",
        "tap_error_message",
        "target_error_message",
    ):
        assert check[key] == documented[key], key
    assert (check["completion_time"] is None) == (documented["completion_time"] is None)
    assert re.match(
        JOB_NAME.format(client=source["stitch_client_id"], source=source["id"], mode="check"),
        check["name"],
    )


def test_no_check_yet_is_404(stitch: AppClient) -> None:
    source = create(stitch, HUBSPOT)
    assert stitch.get(f"/v4/sources/{source['id']}/last-connection-check").status_code == 404


def test_saas_streams_have_the_documented_shape(
    stitch: AppClient, backend: EmulatorBackend
) -> None:
    source = create(stitch, RECURLY)
    backend.clock.advance(2)
    streams = stitch.get(f"/v4/sources/{source['id']}/streams").json()
    documented = yaml_json("code-examples/streams.yml", "saas-stream")
    for stream in streams:
        assert_same_shape(stream, documented)
    schema = stitch.get(f"/v4/sources/{source['id']}/streams/{streams[0]['stream_id']}").json()
    documented_schema = yaml_json("code-examples/streams.yml", "saas-stream-schema")
    assert set(schema) == set(documented_schema)
    assert isinstance(json.loads(schema["schema"]), dict)
    assert (
        schema["non-discoverable-metadata-keys"]
        == documented_schema["non-discoverable-metadata-keys"]
    )
    top = next(m for m in schema["metadata"] if m["breadcrumb"] == [])
    assert set(top["metadata"]) == set(
        next(m for m in documented_schema["metadata"] if m["breadcrumb"] == [])["metadata"]
    )
    assert all(set(m) == {"breadcrumb", "metadata"} for m in schema["metadata"])


def test_database_stream_is_the_documented_one(stitch: AppClient, backend: EmulatorBackend) -> None:
    source = create(stitch, POSTGRES)
    backend.clock.advance(2)
    streams = stitch.get(f"/v4/sources/{source['id']}/streams").json()
    documented = yaml_json("code-examples/streams.yml", "database-stream")
    orders = next(s for s in streams if s["tap_stream_id"] == documented["tap_stream_id"])
    assert {k: v for k, v in orders.items() if k != "stream_id"} == {
        k: v for k, v in documented.items() if k != "stream_id"
    }
    customers = next(s for s in streams if s["stream_name"] == "customers")
    schema = stitch.get(f"/v4/sources/{source['id']}/streams/{customers['stream_id']}").json()
    fields = {m["breadcrumb"][1]: m["metadata"] for m in schema["metadata"] if m["breadcrumb"]}
    # The database example of stream-schema-object.md.
    assert fields["age"] == {
        "sql-datatype": "integer",
        "selected-by-default": True,
        "inclusion": "available",
    }
    assert fields["id"] == {
        "sql-datatype": "integer",
        "selected-by-default": True,
        "inclusion": "automatic",
    }
    assert fields["name"] == {
        "sql-datatype": "text",
        "selected-by-default": True,
        "inclusion": "available",
    }
    assert fields["has_magic"] == {
        "sql-datatype": "boolean",
        "selected-by-default": True,
        "inclusion": "available",
    }


def test_documented_metadata_request_bodies_are_accepted(
    stitch: AppClient, backend: EmulatorBackend
) -> None:
    database = create(stitch, POSTGRES)
    saas = create(stitch, RECURLY)
    backend.clock.advance(2)
    body = yaml_json("code-examples/streams.yml", "request-bodies", "database")
    answer = stitch.put(f"/v4/sources/{database['id']}/streams/metadata", json=body)
    assert answer.status_code == 200 and answer.json() == {"status": 200}
    # The SaaS examples name Shopify's custom_collections; Recurly's accounts plays its part.
    text = load("code-examples/field-metadata.yml")["request-bodies"]["saas-field"]
    body = json.loads(text.replace("custom_collections", "accounts"))
    answer = stitch.put(f"/v4/sources/{saas['id']}/streams/metadata", json=body)
    assert answer.json() == {"status": 200}
    found = stitch.get(f"/v4/sources/{database['id']}").json()
    assert found["report_card"]["current_step_type"] == "fully_configured"


def test_sync_answers_as_documented(stitch: AppClient, backend: EmulatorBackend) -> None:
    source = create(stitch, RECURLY)
    backend.clock.advance(2)
    stitch.put(f"/v4/sources/{source['id']}/streams/metadata", json=select("accounts"))
    started = stitch.post(f"/v4/sources/{source['id']}/sync").json()
    assert set(started) == {"job_name"}
    assert re.match(
        JOB_NAME.format(client=source["stitch_client_id"], source=source["id"], mode="sync"),
        started["job_name"],
    )
    stopped = stitch.delete(f"/v4/sources/{source['id']}/sync")
    assert stopped.status_code == 200 and stopped.json() == {"status": 200}
    assert stitch.delete(f"/v4/sources/{source['id']}/sync").json() == {"status": 200}


def test_extractions_and_loads_have_the_documented_objects(
    stitch: AppClient, backend: EmulatorBackend
) -> None:
    source = create(stitch, RECURLY)
    backend.clock.advance(2)
    stitch.put(f"/v4/sources/{source['id']}/streams/metadata", json=select("accounts"))
    stitch.post(f"/v4/sources/{source['id']}/sync")
    backend.clock.advance(30)
    client = source["stitch_client_id"]
    extractions = stitch.get(f"/v4/{client}/extractions").json()
    assert set(extractions) == {"data", "page", "total", "links"} and extractions["links"] == {}
    assert_same_shape(extractions["data"][0], reference_json_blocks("### 4.11")[0])
    assert extractions["data"][0]["source_type"] == "tap-recurly"
    loads = stitch.get(f"/v4/{client}/loads").json()
    assert_same_shape(loads["data"][0], reference_json_blocks("### 4.12")[0])
    assert (loads["data"][0]["source_name"], loads["data"][0]["stream_name"]) == (
        "recurly",
        "accounts",
    )
    logs = stitch.get(f"/v4/{client}/extractions/{extractions['data'][0]['job_name']}")
    assert logs.status_code == 302
    assert stitch.get(logs.headers["location"]).text.startswith(
        extractions["data"][0]["start_time"]
    )


def test_destination_matches_the_documented_object(stitch: AppClient) -> None:
    documented = reference_json_blocks("### 4.13")[0]
    created = stitch.post("/v4/destinations", json=PG_DESTINATION).json()
    assert_same_shape(created, documented, ignore=("properties",))
    assert "password" not in created["properties"]
    assert created["properties"]["ssl"] == "false" and created["properties"]["port"] == "5432"
    assert (
        created["report_card"]["current_step"],
        created["report_card"]["current_step_type"],
    ) == (2, "fully_configured")
    listed = stitch.get("/v4/destinations").json()
    assert [d["id"] for d in listed] == [created["id"]]
    assert stitch.get("/v4/destinations", params={"destination_id": "1"}).json() == []
    updated = (
        stitch.put(f"/v4/destinations/{created['id']}", json={"properties": {"port": "5433"}})
    ).json()
    assert updated["check_job_name"] is None and updated["properties"]["port"] == "5433"


def test_destination_type_matches_the_documented_card(stitch: AppClient) -> None:
    fragment = load("code-examples/destination-report-cards.yml")["postgres"]
    documented = json.loads("{" + fragment + "}")
    card = stitch.get("/v4/destination-types/postgres").json()
    assert card["details"] == documented["details"]
    for ours, theirs in zip(card["steps"], documented["steps"], strict=True):
        assert ours["type"] == theirs["type"]
        for mine, doc in zip(ours["properties"], theirs["properties"], strict=True):
            assert {k: mine[k] for k in doc} == doc
    assert [c["type"] for c in stitch.get("/v4/destination-types").json()] == ["postgres"]


def test_create_account_returns_a_token_and_the_account_id(stitch: AppClient) -> None:
    from .test_errors_accounts_jobs_destinations import OWNER

    answer = stitch.post("/v3/accounts", json={k: v for k, v in OWNER.items() if k != "region"})
    body = answer.json()
    assert set(body) == {"access_token", "stitch_account_id"}
    assert body["access_token"].startswith("ac_") and isinstance(body["stitch_account_id"], int)
    own = stitch.get("/v4/sources", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert own.status_code == 200 and own.json() == []


def test_ephemeral_session_returns_a_token(stitch: AppClient) -> None:
    answer = stitch.post("/v3/sessions/ephemeral")
    assert answer.status_code == 200 and set(answer.json()) == {"ephemeral_token"}
