"""End users spend the SaaS's Stitch account only within the operator's limits (CONTRACT §3,
§4.6): a number of live sources, and the schedules they may choose."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from bridge import Settings
from bridge.errors import BridgeError
from bridge.limits import check_end_user_schedule
from bridge.settings import SettingsError
from tests.bridge.conftest import API_KEY, APP_ORIGIN, RECURLY_PROPERTIES, SECRET_KEY, Stack

LIMIT_3 = pytest.mark.parametrize("bridge_overrides", [{"max_sources_per_end_user": 3}])


def _create(stack: Stack, token: str, key: str, source_type: str = "import_api") -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", "Origin": APP_ORIGIN, "Idempotency-Key": key}
    with stack.http(headers) as client:
        return client.post("/v1/sources", json={"type": source_type})


def _live_stitch_sources(stack: Stack) -> list[dict[str, Any]]:
    return [s for s in stack.emulator_sources() if not s.get("deleted_at")]


@LIMIT_3
def test_concurrent_creations_past_the_limit_make_exactly_the_limit(stack: Stack) -> None:
    token = stack.mint("alice")
    # Six tabs of a type that connects at once, and two other types racing them.
    types = ["import_api"] * 6 + ["platform.recurly", "platform.hp-postgres"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda n: _create(stack, token, f"tab-{n}", types[n]), range(len(types)))
        )
    codes = sorted(answer.status_code for answer in answers)
    assert codes == [201, 201, 201, 409, 409, 409, 409, 409], [a.text for a in answers]
    refusals = [a.json()["error"] for a in answers if a.status_code == 409]
    assert {error["code"] for error in refusals} == {"source_limit_reached"}
    assert len(_live_stitch_sources(stack)) == 3


@LIMIT_3
def test_the_limit_is_per_end_user_and_a_deleted_source_frees_its_place(stack: Stack) -> None:
    alice = stack.mint("alice")
    made = [_create(stack, alice, f"k{n}") for n in range(3)]
    assert [m.status_code for m in made] == [201, 201, 201]
    assert _create(stack, alice, "k3").status_code == 409
    # A replay of an earlier key answers with its source: it is not a new one.
    assert _create(stack, alice, "k0").status_code == 200
    assert _create(stack, stack.mint("bob"), "k0").status_code == 201
    assert _create(stack, stack.mint("alice"), "k4").status_code == 409, "another session too"

    first = made[0].json()["source"]["id"]
    deleted = stack.backend().delete(f"/v1/end-users/alice/sources/{first}")
    assert deleted.status_code in (200, 204), deleted.text
    assert _create(stack, alice, "k5").status_code == 201
    assert _create(stack, alice, "k6").status_code == 409


def test_a_frequency_outside_the_allowed_ones_is_refused_naming_the_property(
    stack: Stack,
) -> None:
    widget = stack.widget(end_user="alice")
    every_minute = {**RECURLY_PROPERTIES, "frequency_in_minutes": "1"}
    refused = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": every_minute}
    )
    assert refused.status_code == 422, refused.text
    error = refused.json()["error"]
    assert error["code"] == "invalid_request"
    assert list(error["details"]["fields"]) == ["properties.frequency_in_minutes"]
    assert stack.emulator_sources() == [], "nothing reaches Stitch"

    cron = {**RECURLY_PROPERTIES, "cron_expression": "* * * * *"}
    refused = widget.post("/v1/sources", json={"type": "platform.recurly", "properties": cron})
    assert refused.status_code == 422
    assert list(refused.json()["error"]["details"]["fields"]) == ["properties.cron_expression"]

    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    assert created.status_code == 201, created.text
    source_id = created.json()["source"]["id"]
    changed = widget.put(
        f"/v1/sources/{source_id}",
        json={"properties": {"frequency_in_minutes": "1", "anchor_time": "2024-01-01T00:00:00Z"}},
    )
    assert changed.status_code == 422
    fields = changed.json()["error"]["details"]["fields"]
    assert set(fields) == {"properties.frequency_in_minutes", "properties.anchor_time"}
    stitch = next(s for s in stack.emulator_sources() if s["id"] == source_id)
    assert stitch["properties"]["frequency_in_minutes"] == "60"


@pytest.mark.parametrize(
    "bridge_overrides", [{"end_user_frequencies": (1, 1440), "end_user_cron": True}]
)
def test_the_operator_chooses_what_end_users_may_set(stack: Stack) -> None:
    widget = stack.widget(end_user="alice")
    properties = {
        **RECURLY_PROPERTIES,
        "frequency_in_minutes": "1",
        "cron_expression": "0 0 12 * * ?",
    }
    created = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": properties}
    )
    assert created.status_code == 201, created.text
    hourly = widget.put(
        f"/v1/sources/{created.json()['source']['id']}",
        json={"properties": {"frequency_in_minutes": "60"}},
    )
    assert hourly.status_code == 422


def _form(stack: Stack, source_type: str) -> dict[str, dict[str, Any]]:
    types = stack.widget().get("/v1/source-types").json()["data"]
    described = next(t for t in types if t["type"] == source_type)
    return {prop["name"]: prop for prop in described["form"]}


def test_the_form_offers_only_the_allowed_schedules(stack: Stack) -> None:
    form = _form(stack, "platform.recurly")
    schema = form["frequency_in_minutes"]["json_schema"]
    assert schema["enum"] == ["30", "60", "360", "720", "1440"]
    assert "cron_expression" not in form and "anchor_time" not in form


@pytest.mark.parametrize(
    "bridge_overrides", [{"end_user_frequencies": (60,), "end_user_cron": True}]
)
def test_the_form_follows_the_operators_choice(stack: Stack) -> None:
    form = _form(stack, "platform.recurly")
    assert form["frequency_in_minutes"]["json_schema"]["enum"] == ["60"]
    assert "cron_expression" in form and "anchor_time" in form


def _settings(**values: Any) -> Settings:
    return Settings(
        api_keys=(API_KEY,),
        secret_keys=(SECRET_KEY,),
        allowed_origins=(APP_ORIGIN,),
        stitch_access_token="ac_" + "t" * 40,
        **values,
    )


@pytest.mark.parametrize(
    ("values", "refused"),
    [
        ({"frequency_in_minutes": 60}, None),
        ({"frequency_in_minutes": "1440", "cron_expression": None}, None),
        ({"frequency_in_minutes": "", "anchor_time": ""}, None),
        ({"display_name": "anything else is not looked at"}, None),
        ({"frequency_in_minutes": 1}, "frequency_in_minutes"),
        ({"frequency_in_minutes": "60.0"}, "frequency_in_minutes"),
        ({"frequency_in_minutes": True}, "frequency_in_minutes"),
        ({"frequency_in_minutes": "６０"}, "frequency_in_minutes"),
        ({"cron_expression": "0 * * * *"}, "cron_expression"),
        ({"anchor_time": "2024-01-01T00:00:00Z"}, "anchor_time"),
    ],
)
def test_the_schedule_rule(values: dict[str, object], refused: str | None) -> None:
    settings = _settings()
    if refused is None:
        check_end_user_schedule(settings, values)
        return
    with pytest.raises(BridgeError) as error:
        check_end_user_schedule(settings, values)
    assert error.value.code == "invalid_request" and error.value.status == 422
    assert error.value.details == {"fields": {refused: error.value.details["fields"][refused]}}
    assert refused in error.value.message


def test_the_limits_are_read_from_the_environment() -> None:
    base = {
        "BRIDGE_API_KEYS": API_KEY,
        "BRIDGE_SECRET_KEYS": SECRET_KEY,
        "BRIDGE_ALLOWED_ORIGINS": APP_ORIGIN,
        "STITCH_ACCESS_TOKEN": "ac_" + "t" * 40,
    }
    defaults = Settings.from_env(base, env_file=None)
    assert defaults.max_sources_per_end_user == 20
    assert defaults.end_user_frequencies == (30, 60, 360, 720, 1440)
    assert not defaults.end_user_cron and not defaults.shared_account_stitchjs
    chosen = Settings.from_env(
        {
            **base,
            "BRIDGE_MAX_SOURCES_PER_END_USER": "5",
            "BRIDGE_END_USER_FREQUENCIES": "60, 1440",
            "BRIDGE_END_USER_CRON": "true",
        },
        env_file=None,
    )
    assert chosen.max_sources_per_end_user == 5
    assert chosen.end_user_frequencies == (60, 1440) and chosen.end_user_cron
    with pytest.raises(SettingsError) as error:
        Settings.from_env(
            {
                **base,
                "BRIDGE_MAX_SOURCES_PER_END_USER": "0",
                "BRIDGE_END_USER_FREQUENCIES": "5,60",
                "BRIDGE_END_USER_CRON": "maybe",
            },
            env_file=None,
        )
    named = " ".join(error.value.problems)
    for name in (
        "BRIDGE_MAX_SOURCES_PER_END_USER",
        "BRIDGE_END_USER_FREQUENCIES",
        "BRIDGE_END_USER_CRON",
    ):
        assert name in named
