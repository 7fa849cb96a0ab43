"""Every error code of the README's list is reached, with the documented body, never a bare 500."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from bridge.errors import ERROR_STATUS, TOKEN_ERRORS
from tests.bridge.conftest import APP_ORIGIN, RECURLY_PROPERTIES, Stack

ROOT = Path(__file__).resolve().parents[2]


def assert_error(response: httpx.Response, code: str, status: int | None = None) -> dict[str, Any]:
    assert response.status_code == (status or ERROR_STATUS[code]), response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert set(body["error"]) <= {"code", "message", "details"}
    assert response.headers["x-request-id"]
    return body["error"]


def codes_the_code_emits() -> set[str]:
    """Every code literal a `BridgeError(...)` is raised or built with, anywhere in bridge/, and
    every code a token failure becomes."""
    pattern = re.compile(r'BridgeError\(\s*"([a-z_]+)"')
    literals = {
        code
        for path in (ROOT / "bridge").rglob("*.py")
        for code in pattern.findall(path.read_text(encoding="utf-8"))
    }
    return literals | {code for code, _ in TOKEN_ERRORS.values()}


def test_every_code_the_bridge_emits_is_in_its_table_and_vice_versa() -> None:
    # `upstream_rate_limited` is built from an upstream 429, `payload_too_large` by the
    # middleware; both through BridgeError like the rest.
    assert codes_the_code_emits() == set(ERROR_STATUS)


def test_the_readme_lists_exactly_the_codes_of_the_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Errors")[1].split("\n#")[0]
    # The list runs from "a stable code:" to the end of its sentence; each code comes first in
    # its item (an item may explain itself in brackets, naming fields such as `details`).
    codes = section.split("stable code:")[1].split(". ")[0]
    listed = {re.findall(r"`([a-z_]+)`", item)[0] for item in re.split(r",\s(?![^()]*\))", codes)}
    assert listed == set(ERROR_STATUS)


def test_openapi_error_schema_enumerates_exactly_the_codes(stack: Stack) -> None:
    spec = stack.http().get("/openapi.json").json()
    enum = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert set(enum["enum"]) == set(ERROR_STATUS)


def test_malformed_json_is_invalid_json(stack: Stack) -> None:
    response = stack.backend().post(
        "/v1/connect-sessions",
        content=b'{"end_user": ',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, "invalid_json")


def test_wrong_types_are_listed_per_field(stack: Stack) -> None:
    response = stack.backend().post(
        "/v1/connect-sessions",
        json={"end_user": {"id": 7}, "ttl": "long", "source_types": "hubspot", "extra": 1},
    )
    error = assert_error(response, "invalid_request", 422)
    assert set(error["details"]["fields"]) == {"end_user.id", "ttl", "source_types", "extra"}


def test_a_ttl_out_of_range_is_refused(stack: Stack) -> None:
    for ttl in (0, 86_401):
        response = stack.backend().post(
            "/v1/connect-sessions", json={"end_user": {"id": "u"}, "ttl": ttl}
        )
        assert_error(response, "invalid_request", 422)


def test_a_body_that_is_not_an_object_is_invalid_request(stack: Stack) -> None:
    response = stack.backend().post("/v1/connect-sessions", json=[1, 2])
    assert_error(response, "invalid_request")


def test_deeply_nested_json_is_refused(stack: Stack) -> None:
    body = "[" * 5000 + "]" * 5000
    response = stack.backend().post(
        "/v1/connect-sessions", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code in (400, 422)
    assert response.json()["error"]["code"] in ("invalid_json", "invalid_request")


@pytest.mark.parametrize(("containers", "refused"), [(31, False), (32, True)])
def test_nesting_is_refused_from_the_thirty_third_level_exactly(
    stack: Stack, containers: int, refused: bool
) -> None:
    # The body object is level 1; its value "x" holds containers - 1 more lists around a number.
    inner = "[" * (containers - 1) + "1" + "]" * (containers - 1)
    body = '{"x": ' + inner + "}"  # exactly `containers` brackets: no shortcut may skip it
    response = stack.backend().post(
        "/v1/connect-sessions", content=body, headers={"Content-Type": "application/json"}
    )
    error = response.json()["error"]
    assert error["code"] == "invalid_request"  # too deep, or else the fields are wrong
    assert ("nests deeper than 32 levels" in error["message"]) is refused, error


def test_oversize_bodies_are_refused(stack: Stack) -> None:
    big = b'{"end_user": {"id": "' + b"x" * (1024 * 1024) + b'"}}'
    assert_error(stack.backend().post("/v1/connect-sessions", content=big), "payload_too_large")


def test_oversize_bodies_that_hide_their_length_are_refused(stack: Stack) -> None:
    def chunks() -> Any:
        for _ in range(20):
            yield b"x" * 100_000

    response = stack.backend().post("/v1/connect-sessions", content=chunks())
    assert_error(response, "payload_too_large")


def test_missing_or_wrong_api_keys_are_unauthorized(stack: Stack) -> None:
    assert_error(stack.http().get("/v1/end-users/u/sources"), "unauthorized")
    response = stack.http().get(
        "/v1/end-users/u/sources",
        headers={"Authorization": "Bearer " + "z" * 45},
    )
    assert_error(response, "unauthorized")


def test_a_session_token_is_not_an_api_key_and_back(stack: Stack) -> None:
    token = stack.mint()
    response = stack.http().get(
        "/v1/end-users/user-1/sources",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_error(response, "unauthorized")
    assert_error(stack.widget(token=stack.settings.api_keys[0]).get("/v1/session"), "unauthorized")


def test_an_expired_session_is_session_expired(stack: Stack) -> None:
    widget = stack.widget(ttl=5)
    assert widget.get("/v1/session").status_code == 200
    stack.clock.advance(6)
    assert_error(widget.get("/v1/session"), "session_expired")


def test_a_foreign_origin_is_refused_before_anything_happens(stack: Stack) -> None:
    token = stack.mint()
    response = stack.http().post(
        "/v1/sources",
        json={"type": "platform.recurly"},
        headers={"Authorization": f"Bearer {token}", "Origin": "https://evil.example"},
    )
    assert_error(response, "origin_not_allowed")
    assert "access-control-allow-origin" not in response.headers
    assert stack.emulator_sources() == []


def test_an_allowed_origin_gets_exact_cors_headers(stack: Stack) -> None:
    preflight = stack.http().options(
        "/v1/sources",
        headers={
            "Origin": APP_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, idempotency-key",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == APP_ORIGIN
    assert "access-control-allow-credentials" not in preflight.headers
    assert "Idempotency-Key" in preflight.headers["access-control-allow-headers"]
    response = stack.widget().get("/v1/session")
    assert response.headers["access-control-allow-origin"] == APP_ORIGIN


def test_a_type_outside_the_session_is_source_type_not_allowed(stack: Stack) -> None:
    widget = stack.widget(source_types=["platform.recurly"])
    response = widget.post("/v1/sources", json={"type": "platform.hubspot"})
    assert_error(response, "source_type_not_allowed")
    assert stack.emulator_sources() == []


def test_a_type_stitch_refuses_is_source_type_not_allowed(stack: Stack) -> None:
    widget = stack.widget()
    assert_error(
        widget.post("/v1/sources", json={"type": "platform.postgres"}), "source_type_not_allowed"
    )
    assert_error(
        widget.post("/v1/sources", json={"type": "platform.nope"}), "source_type_not_allowed"
    )


def test_step_token_errors(stack: Stack) -> None:
    widget = stack.widget()
    created = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()
    token = created["next_step"]["token"]
    assert_error(widget.post("/v1/steps/start", json={"token": "nope"}), "token_invalid")
    assert_error(
        widget.post("/v1/steps/start", json={"token": token[:-3] + "abc"}), "token_invalid"
    )
    assert widget.post("/v1/steps/start", json={"token": token}).status_code == 200
    assert_error(widget.post("/v1/steps/start", json={"token": token}), "token_used")
    assert widget.post("/v1/steps/complete", json={"token": token}).status_code == 200
    assert_error(widget.post("/v1/steps/complete", json={"token": token}), "token_used")


def test_an_expired_step_token_is_token_expired(stack: Stack) -> None:
    widget = stack.widget(ttl=3600)
    created = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()
    stack.clock.advance(stack.settings.step_ttl + 1)
    response = widget.post("/v1/steps/start", json={"token": created["next_step"]["token"]})
    assert_error(response, "token_expired")


def test_another_users_source_is_source_not_found_on_every_route(stack: Stack) -> None:
    owner = stack.widget(end_user="owner")
    created = owner.post("/v1/sources", json={"type": "platform.recurly"}).json()
    source_id = created["source"]["id"]
    intruder = stack.widget(end_user="intruder")
    for method, path, body in [
        ("GET", f"/v1/sources/{source_id}", None),
        ("PUT", f"/v1/sources/{source_id}", {"display_name": "mine now"}),
        ("GET", f"/v1/sources/{source_id}/streams", None),
        (
            "PUT",
            f"/v1/sources/{source_id}/streams",
            {"streams": [{"tap_stream_id": "a", "selected": True}]},
        ),
        ("GET", "/v1/sources/999999999", None),
        ("GET", "/v1/sources/not-a-number", None),
    ]:
        assert_error(intruder.request(method, path, json=body), "source_not_found")
    # Their step token is no good to the intruder, and stays good for the owner.
    token = created["next_step"]["token"]
    assert_error(intruder.post("/v1/steps/start", json={"token": token}), "token_invalid")
    assert owner.post("/v1/steps/start", json={"token": token}).status_code == 200
    backend = stack.backend()
    assert_error(backend.delete(f"/v1/end-users/intruder/sources/{source_id}"), "source_not_found")
    assert owner.get(f"/v1/sources/{source_id}").json()["source"]["display_name"] == "Recurly"


def test_a_session_scoped_to_one_source_sees_only_it(stack: Stack) -> None:
    widget = stack.widget(end_user="carol")
    first = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"]["id"]
    second = widget.post("/v1/sources", json={"type": "platform.hp-postgres"}).json()["source"][
        "id"
    ]
    scoped = stack.widget(end_user="carol", source_id=first)
    assert scoped.get(f"/v1/sources/{first}").status_code == 200
    assert_error(scoped.get(f"/v1/sources/{second}"), "source_not_found")
    assert_error(scoped.post("/v1/sources", json={"type": "platform.recurly"}), "invalid_request")
    response = stack.backend().post(
        "/v1/connect-sessions", json={"end_user": {"id": "dave"}, "source_id": first}
    )
    assert_error(response, "source_not_found")


def test_bad_properties_carry_stitchs_names(stack: Stack) -> None:
    widget = stack.widget()
    response = widget.post(
        "/v1/sources",
        json={
            "type": "platform.recurly",
            "properties": {
                **RECURLY_PROPERTIES,
                "start_date": "2017-01-01 00:00:00",
                "frequency_in_minutes": "",
            },
        },
    )
    error = assert_error(response, "bad_properties")
    assert sorted(error["details"]["bad_properties"]) == ["frequency_in_minutes", "start_date"]
    assert set(error["details"]["properties"]) == {"frequency_in_minutes", "start_date"}
    assert stack.emulator_sources() == []


def test_a_name_stitch_refuses_is_duplicate_name(stack: Stack) -> None:
    stack.fault(
        method="POST",
        path="/v4/sources",
        status=400,
        count=1,
        body={"error": "InvalidName", "data": {"message": "non-unique name (recurly)"}},
    )
    assert_error(
        stack.widget().post("/v1/sources", json={"type": "platform.recurly"}), "duplicate_name"
    )


def test_upstream_429_that_persists_is_upstream_rate_limited(stack: Stack) -> None:
    widget = stack.widget()
    source_id = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"]["id"]
    stack.fault(method="GET", path="/v4/sources/*", status=429, count=50, retry_after=0)
    response = widget.get(f"/v1/sources/{source_id}")
    assert_error(response, "upstream_rate_limited")
    assert int(response.headers["retry-after"]) >= 1


def test_upstream_5xx_or_html_that_persists_is_upstream_unavailable(stack: Stack) -> None:
    widget = stack.widget()
    source_id = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"]["id"]
    stack.fault(
        method="GET", path="/v4/sources/*", status=502, count=50, body="<html>bad gateway</html>"
    )
    assert_error(widget.get(f"/v1/sources/{source_id}"), "upstream_unavailable")


def test_each_second_status_the_contract_allows_belongs_to_one_situation(stack: Stack) -> None:
    """502 is Stitch failing, 504 Stitch not answering in time, 503 (with Retry-After) the
    bridge's own database; 422 is a request whose named fields are refused."""
    from sqlalchemy.exc import OperationalError

    from bridge import create_app
    from bridge.errors import BridgeError, from_upstream
    from bridge.stitch.errors import StitchTransportError, StitchUnavailable
    from tests.live import free_port, serve

    assert from_upstream(StitchUnavailable("down")).status == 502
    assert from_upstream(StitchTransportError("timed out")).status == 504
    with pytest.raises(ValueError):
        BridgeError("not_found", "a code without a second status", variant="fields")

    def outage(request: Any) -> Any:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    app = create_app(stack.settings)
    app.router.routes.append(Route("/outage", outage))
    with serve(app, port=free_port()) as server:
        response = httpx.get(f"{server.url}/outage")
    assert_error(response, "upstream_unavailable", 503)
    assert response.headers["retry-after"] == "2"
    assert "connection refused" not in response.text


def test_upstream_blips_are_retried_away(stack: Stack) -> None:
    widget = stack.widget()
    source_id = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"]["id"]
    stack.fault(method="GET", path="/v4/sources/*", status=503, count=2)
    assert widget.get(f"/v1/sources/{source_id}").status_code == 200


def test_unknown_routes_and_methods(stack: Stack) -> None:
    assert_error(stack.http().get("/v1/nothing-here"), "not_found")
    assert_error(stack.widget().delete("/v1/session"), "method_not_allowed")


def test_receipts_that_are_not_ours_are_receipt_invalid(stack: Stack) -> None:
    response = stack.backend().post("/v1/receipts/verify", json={"receipt": "forged.receipt"})
    assert_error(response, "receipt_invalid")


def test_a_bug_is_internal_with_the_request_id_and_no_detail(stack: Stack) -> None:
    from bridge import create_app
    from tests.live import free_port, serve

    def boom(request: Any) -> Any:
        raise RuntimeError("secret detail " + stack.settings.secret_keys[0])

    port = free_port()
    app = create_app(stack.settings)
    app.router.routes.append(Route("/boom", boom))
    with serve(app, port=port) as server:
        response = httpx.get(f"{server.url}/boom", headers={"X-Request-ID": "trace-123"})
    error = assert_error(response, "internal")
    assert response.headers["x-request-id"] == "trace-123"
    assert "trace-123" in error["message"]
    assert "secret" not in response.text


@pytest.mark.parametrize("request_id", ["abc\r\nInjected: 1", "x" * 500, "<script>"])
def test_a_hostile_request_id_is_replaced(stack: Stack, request_id: str) -> None:
    response = stack.http().get(
        "/healthz", headers={"X-Request-ID": request_id.replace("\r\n", " ")}
    )
    assert response.headers["x-request-id"] != request_id
    assert response.headers["x-request-id"].startswith("req_")


def test_metrics_count_requests_per_route_and_upstream_retries(stack: Stack) -> None:
    widget = stack.widget()
    source_id = widget.post("/v1/sources", json={"type": "platform.recurly"}).json()["source"]["id"]
    stack.fault(method="GET", path="/v4/sources/*", status=503, count=1)
    assert widget.get(f"/v1/sources/{source_id}").status_code == 200
    text = stack.http().get("/metrics").text
    assert (
        'bridge_http_requests_total{method="GET",route="/v1/sources/{source_id}",status="200"} 1.0'
        in text
    )
    assert 'bridge_upstream_retries_total{method="GET"} 1.0' in text
    assert 'bridge_upstream_calls_total{method="POST",outcome="2xx"}' in text
    assert "bridge_outbox_backlog" in text
    assert "bridge_http_request_seconds_bucket" in text


def test_readiness_follows_the_database_and_health_does_not(stack: Stack) -> None:
    assert stack.http().get("/healthz").json() == {"status": "ok"}
    assert stack.http().get("/readyz").status_code == 200


# Routes /openapi.json leaves out on purpose: pages and files for a browser, not an API.
UNDOCUMENTED = {
    "/connect/{secret}",  # the hosted link's page and the calls only that page makes
    "/connect/{secret}/claim",
    "/connect/{secret}/session",
    "/connect/{secret}/complete",
    "/hosted.css",
    "/hosted.js",
    "/oauth/begin",  # the popup page and its scripts around POST /v1/oauth/begin
    "/oauth/begin.js",
    "/oauth/oauth_callback.js",
    "/docs",  # the description itself
    "/docs.css",
    "/openapi.json",
    "/widget.css",
}


def _operations_of(app: Any) -> set[tuple[str, str]]:
    return {
        (route.path, method.lower())
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }


def test_docs_describe_every_route_with_its_errors(stack: Stack) -> None:
    from bridge import create_app

    spec = stack.http().get("/openapi.json").json()
    documented = {(path, method) for path, ops in spec["paths"].items() for method in ops}
    routes = _operations_of(create_app(stack.settings))
    # Every route (every /v1 route, the ops routes, the widget's files) is documented, but
    # the browser pages named above; and nothing documented is missing from the app.
    assert {(p, m) for p, m in routes if p not in UNDOCUMENTED} == documented
    assert {p for p, _ in routes} >= UNDOCUMENTED, "a route named undocumented is gone"
    for path, operations in spec["paths"].items():
        if path.startswith("/v1/"):
            for method, operation in operations.items():
                errors = [s for s in operation["responses"] if s.startswith(("4", "5"))]
                assert errors, f"{method} {path} documents no error"
    page = stack.http().get("/docs")
    assert page.status_code == 200 and "/v1/steps/complete" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"
