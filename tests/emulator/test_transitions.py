"""Each report-card transition of §9.3, driven through the backend without HTTP."""

from __future__ import annotations

import pytest

from stitch_emulator import EmulatorBackend
from stitch_emulator.state.errors import ApiError
from stitch_emulator.state.model import CheckScript

from .factories import HUBSPOT, IMPORT_API, POSTGRES, RECURLY, fully_configured, select


def step(source: dict) -> tuple[int, str]:
    card = source["report_card"]
    return card["current_step"], card["current_step_type"]


def test_creation_lands_on_the_first_incomplete_step(
    backend: EmulatorBackend, account_id: int
) -> None:
    bare = backend.create_source(account_id, {"type": "platform.recurly", "display_name": "R1"})
    assert step(bare) == (1, "form")
    assert bare["check_job_name"] is None
    hubspot = backend.create_source(account_id, HUBSPOT)
    assert step(hubspot) == (2, "oauth")
    assert hubspot["check_job_name"] is None
    imported = backend.create_source(account_id, IMPORT_API)
    assert step(imported) == (2, "fully_configured")
    assert "check_job_name" not in imported
    assert imported["properties"] == {} and imported["schedule"] is None


def test_system_fills_read_only_and_default_schedule_properties(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, {"type": "platform.hubspot", "display_name": "H"})
    assert source["properties"] == {"image_version": "2.latest", "frequency_in_minutes": "30"}
    form = source["report_card"]["steps"][0]["properties"]
    provided = {p["name"]: p["provided"] for p in form}
    assert provided["image_version"] is True and provided["start_date"] is False


def test_form_completed_by_put_enters_discovery_and_starts_a_check(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, {"type": "platform.recurly", "display_name": "R"})
    updated = backend.update_source(account_id, source["id"], {"properties": RECURLY["properties"]})
    assert step(updated) == (2, "discover_schema")
    assert updated["check_job_name"].startswith(f"{account_id}.{source['id']}.check.")
    check = backend.get_last_connection_check(account_id, source["id"])
    assert check["status"] == "running"


def test_stitch_managed_oauth_provides_every_oauth_property(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, HUBSPOT)
    authorized = backend.authorize_source(account_id, source["id"])
    assert step(authorized) == (3, "discover_schema")
    oauth = authorized["report_card"]["steps"][1]["properties"]
    assert all(p["provided"] for p in oauth)
    assert not {"client_id", "client_secret", "refresh_token", "redirect_uri"} & set(
        authorized["properties"]
    )
    assert authorized["check_job_name"] is not None


def test_partner_managed_oauth_properties_in_a_put_complete_the_step(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, HUBSPOT)
    oauth = {
        "client_id": "partner-client",
        "client_secret": "partner-secret",
        "redirect_uri": "https://partner.example/hubspot/callback",
        "refresh_token": "refresh",
    }
    updated = backend.update_source(account_id, source["id"], {"properties": oauth})
    assert step(updated) == (3, "discover_schema")


def test_oauth_properties_may_come_with_the_form_in_one_post(
    backend: EmulatorBackend, account_id: int
) -> None:
    body = {
        **HUBSPOT,
        "properties": {
            **HUBSPOT["properties"],
            "client_id": "c",
            "client_secret": "s",
            "redirect_uri": "https://partner.example/cb",
            "refresh_token": "r",
        },
    }
    assert step(backend.create_source(account_id, body)) == (3, "discover_schema")


def test_successful_check_moves_to_field_selection_with_streams(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, RECURLY)
    assert step(source) == (2, "discover_schema")
    assert backend.list_streams(account_id, source["id"]) == []
    backend.clock.advance(1.9)
    assert step(backend.get_source(account_id, source["id"])) == (2, "discover_schema")
    backend.clock.advance(0.1)
    assert step(backend.get_source(account_id, source["id"])) == (3, "field_selection")
    streams = backend.list_streams(account_id, source["id"])
    assert {s["tap_stream_id"] for s in streams} >= {"accounts", "invoices", "transactions"}
    assert all(s["selected"] is None for s in streams)


def test_failed_check_stays_until_a_put_starts_a_check_that_succeeds(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, POSTGRES)
    backend.script_check(
        CheckScript("failure", 'FATAL:  password authentication failed for user "x"')
    )
    backend.clock.advance(2)
    failed = backend.get_last_connection_check(account_id, source["id"])
    assert failed["status"] == "failed" and failed["discovery_exit_status"] == 1
    assert step(backend.get_source(account_id, source["id"])) == (2, "discover_schema")
    backend.clock.advance(60)
    assert step(backend.get_source(account_id, source["id"])) == (2, "discover_schema")
    updated = backend.update_source(account_id, source["id"], {"properties": {"password": "right"}})
    assert updated["check_job_name"] != failed["name"]
    backend.clock.advance(2)
    assert step(backend.get_source(account_id, source["id"])) == (3, "field_selection")


def test_selecting_a_stream_completes_field_selection_and_schedules(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, RECURLY)
    backend.clock.advance(2)
    assert backend.get_source(account_id, source["id"])["schedule"] is None
    backend.update_stream_metadata(account_id, source["id"], select("accounts"))
    done = backend.get_source(account_id, source["id"])
    assert step(done) == (4, "fully_configured")
    assert done["schedule"]["type"] == "interval" and done["schedule"]["interval"] == 60.0


def test_fully_configured_never_moves_back(backend: EmulatorBackend, account_id: int) -> None:
    source = fully_configured(backend, account_id)
    backend.script_check(CheckScript("failure", "boom", source_id=source["id"]))
    updated = backend.update_source(account_id, source["id"], {"properties": {"quota_limit": "50"}})
    assert updated["check_job_name"] != source["check_job_name"]
    backend.clock.advance(2)
    after = backend.get_source(account_id, source["id"])
    assert backend.get_last_connection_check(account_id, source["id"])["status"] == "failed"
    assert step(after) == (4, "fully_configured")
    backend.update_stream_metadata(
        account_id,
        source["id"],
        {
            "streams": [
                {
                    "tap_stream_id": "accounts",
                    "metadata": [{"breadcrumb": [], "metadata": {"selected": False}}],
                }
            ]
        },
    )
    assert step(backend.get_source(account_id, source["id"])) == (4, "fully_configured")


def test_pause_and_unpause_keep_the_card_and_drop_the_schedule(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    paused = backend.update_source(account_id, source["id"], {"paused_at": "2019-06-01T00:00:00Z"})
    assert paused["paused_at"] == "2019-06-01T00:00:00Z" and paused["schedule"] is None
    assert step(paused) == (4, "fully_configured")
    resumed = backend.update_source(account_id, source["id"], {"paused_at": None})
    assert resumed["paused_at"] is None and resumed["schedule"] is not None


def test_delete_is_soft_and_frees_the_name(backend: EmulatorBackend, account_id: int) -> None:
    source = fully_configured(backend, account_id)
    deleted = backend.delete_source(account_id, source["id"])
    assert deleted["deleted_at"] is not None and deleted["schedule"] is None
    assert step(deleted) == (4, "fully_configured")
    assert [s["id"] for s in backend.list_sources(account_id)] == [source["id"]]
    again = backend.create_source(
        account_id, {"type": "platform.recurly", "display_name": "Recurly"}
    )
    assert again["name"] == "recurly"
    with pytest.raises(ApiError) as raised:
        backend.update_source(account_id, source["id"], {"display_name": "X"})
    assert raised.value.body["error"] == "InvalidId"


def test_changing_display_name_keeps_the_name(backend: EmulatorBackend, account_id: int) -> None:
    source = backend.create_source(account_id, RECURLY)
    renamed = backend.update_source(account_id, source["id"], {"display_name": "Billing"})
    assert (renamed["display_name"], renamed["name"]) == ("Billing", "recurly")


def test_hints_follow_the_step_and_can_be_switched_off(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, HUBSPOT)
    sid = source["id"]
    assert source["report_card"]["current_step_hints"] == {
        "api": {"method": "PUT", "url": f"/v4/sources/{sid}"},
        "js": {"function": "authorizeSource", "options": {"id": sid}},
    }
    authorized = backend.authorize_source(account_id, sid)
    assert authorized["report_card"]["current_step_hints"]["js"] == {
        "function": "displayDiscoveryOutputForSource",
        "options": {"id": sid, "discovery_job_name": authorized["check_job_name"]},
    }
    backend.clock.advance(2)
    hint = backend.get_source(account_id, sid)["report_card"]["current_step_hints"]
    assert hint["js"] == {"function": "selectStreamsForSource", "options": {"id": sid}}
    backend.configure(current_step_hints=False)
    assert "current_step_hints" not in backend.get_source(account_id, sid)["report_card"]


def test_form_hint_names_edit_source(backend: EmulatorBackend, account_id: int) -> None:
    source = backend.create_source(account_id, {"type": "platform.recurly", "display_name": "R"})
    assert source["report_card"]["current_step_hints"]["js"] == {
        "function": "editSource",
        "options": {"id": source["id"]},
    }


def test_fully_configured_sources_carry_no_hint(backend: EmulatorBackend, account_id: int) -> None:
    assert "current_step_hints" not in fully_configured(backend, account_id)["report_card"]


def test_sources_of_another_account_are_invisible(
    backend: EmulatorBackend, account_id: int
) -> None:
    other = backend.add_account(
        {"email": "o@example.com", "first_name": "O", "last_name": "T", "company": "C"}
    )
    source = backend.create_source(account_id, RECURLY)
    assert backend.list_sources(other.id) == []
    with pytest.raises(ApiError) as raised:
        backend.get_source(other.id, source["id"])
    assert raised.value.status == 404
    same_name = backend.create_source(other.id, RECURLY)
    assert same_name["name"] == "recurly"


def test_database_views_need_view_keys_and_incremental_needs_a_key(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, POSTGRES)
    backend.clock.advance(2)
    sid = source["id"]
    for body, message in [
        (select("demni2mf59dt10-public-customers"), "replication-method is required"),
        (
            select("demni2mf59dt10-public-customers", **{"replication-method": "INCREMENTAL"}),
            "replication-key is required",
        ),
        (
            select(
                "demni2mf59dt10-public-customers",
                **{"replication-method": "INCREMENTAL", "replication-key": "name"},
            ),
            "invalid replication-key",
        ),
        (
            select("demni2mf59dt10-public-customer_view", **{"replication-method": "FULL_TABLE"}),
            "view-key-properties are required",
        ),
    ]:
        with pytest.raises(ApiError) as raised:
            backend.update_stream_metadata(account_id, sid, body)
        assert message in raised.value.body["invalid_fields"]
    view = select(
        "demni2mf59dt10-public-customer_view",
        **{"replication-method": "FULL_TABLE", "view-key-properties": ["id"]},
    )
    assert backend.update_stream_metadata(account_id, sid, view) == {"status": 200}
    assert step(backend.get_source(account_id, sid)) == (4, "fully_configured")


def test_fields_can_be_selected_once_their_stream_is(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, RECURLY)
    backend.clock.advance(2)
    sid = source["id"]
    field = {"breadcrumb": ["properties", "email"], "metadata": {"selected": True}}
    with pytest.raises(ApiError):
        backend.update_stream_metadata(
            account_id, sid, {"streams": [{"tap_stream_id": "accounts", "metadata": [field]}]}
        )
    both = select("accounts")
    both["streams"][0]["metadata"].append(field)
    backend.update_stream_metadata(account_id, sid, both)
    stream = next(
        s for s in backend.list_streams(account_id, sid) if s["tap_stream_id"] == "accounts"
    )
    schema = backend.get_stream_schema(account_id, sid, stream["stream_id"])
    email = next(m for m in schema["metadata"] if m["breadcrumb"] == ["properties", "email"])
    company = next(m for m in schema["metadata"] if m["breadcrumb"] == ["properties", "company"])
    assert email["metadata"]["selected"] is True and company["metadata"]["selected"] is False
