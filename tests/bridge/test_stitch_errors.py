"""Every error body Stitch documents becomes the right exception, with Stitch's own message."""

from __future__ import annotations

import json

import pytest

from bridge.stitch import (
    StitchAccessDenied,
    StitchAlreadyRunning,
    StitchBadRequest,
    StitchError,
    StitchInvalidName,
    StitchInvalidProperties,
    StitchInvalidType,
    StitchNotFound,
    StitchRateLimited,
    StitchUnauthorized,
    StitchUnavailable,
    parse_error,
)
from tests.bridge.test_stitch_support import (
    decode_documented_body,
    response_code_examples,
)

# (resource, method, condition as documented) -> (exception class, Stitch's code)
DOCUMENTED = {
    ("sources", "post", "Invalid source `type`"): (StitchInvalidType, "InvalidType"),
    ("sources", "post", "Source's `display_name` is already in use"): (
        StitchInvalidName,
        "InvalidName",
    ),
    ("sources", "post", "Prohibited arguments"): (StitchBadRequest, "InvalidBody"),
    ("sources", "post", "Invalid `name` property"): (StitchInvalidName, "InvalidName"),
    ("sources", "post", "Non-unique name property"): (StitchInvalidName, "InvalidName"),
    ("sources", "post", "Invalid name property"): (StitchInvalidName, "InvalidDisplayName"),
    ("sources", "post", "Insufficient access to source type"): (
        StitchAccessDenied,
        "AccessDenied",
    ),
    ("sources", "post, put", "Invalid `properties` data"): (
        StitchInvalidProperties,
        "InvalidProperties",
    ),
    ("sources", "post, put", "Insufficient account access to cron scheduling feature"): (
        StitchAccessDenied,
        "AccessDenied",
    ),
    (
        "sources",
        "post, put",
        "Cron expressions can't specify both a day-of-week and day-of-month",
    ): (StitchBadRequest, "InvalidCronExpression"),
    ("sources", "put", "Prohibited arguments"): (StitchBadRequest, "InvalidBody"),
    ("sources", "put", "Invalid display name"): (StitchInvalidName, "InvalidDisplayName"),
    ("sources", "put, delete", "Invalid source ID"): (StitchNotFound, "InvalidId"),
    ("streams", "get", "Invalid stream ID"): (StitchNotFound, None),
    ("streams", "get", "Invalid source ID"): (StitchNotFound, None),
    ("streams", "put", "Missing `tap_stream_id`"): (StitchBadRequest, None),
    ("streams", "put", "Invalid `tap_stream_id`"): (StitchBadRequest, None),
    ("streams", "put", "Request body includes read-only properties"): (StitchBadRequest, None),
    ("streams", "put", "Request body includes unsupported fields"): (StitchBadRequest, None),
    (
        "streams",
        "put",
        "Request body is missing `streams`, `breadcrumb`, and/or `metadata` properties",
    ): (StitchBadRequest, None),
    ("replication-jobs", "post", "Replication job is already in progress"): (
        StitchAlreadyRunning,
        "already_running",
    ),
    ("replication-jobs", "post", "Invalid source ID"): (StitchNotFound, "invalid_source"),
    ("replication-jobs", "post", "Source has been deleted"): (StitchNotFound, "invalid_source"),
    (
        "accounts",
        "post",
        "A Stitch account is already associated with the provided email address.",
    ): (StitchBadRequest, "ExistingUser"),
    ("accounts", "post", "Request body contains malformed data."): (
        StitchBadRequest,
        "BadRequest",
    ),
    ("accounts", "post", "Missing or invalid `partner_id`."): (StitchBadRequest, "BadRequest"),
    ("accounts", "post", "Missing or invalid `partner_secret`."): (
        StitchBadRequest,
        "BadRequest",
    ),
}
RESOURCES = ("sources", "streams", "replication-jobs", "accounts")


def documented_examples() -> list[object]:
    return [
        pytest.param(
            resource, method, condition, status, body, id=f"{resource}:{method}:{condition}"
        )
        for resource in RESOURCES
        for method, condition, status, body in response_code_examples(resource)
    ]


def test_every_documented_error_of_the_resources_we_call_has_an_expectation():
    documented = {
        (resource, method, condition)
        for resource in RESOURCES
        for method, condition, _, _ in response_code_examples(resource)
    }
    assert documented == set(DOCUMENTED)


@pytest.mark.parametrize(
    ("resource", "method", "condition", "status", "raw"), documented_examples()
)
def test_documented_error_body_maps_to_its_exception(resource, method, condition, status, raw):
    expected_class, expected_code = DOCUMENTED[(resource, method, condition)]
    body = decode_documented_body(raw)

    error = parse_error(status, body)

    assert type(error) is expected_class
    assert error.stitch_code == expected_code
    assert error.status == status
    assert error.body == body
    # The message is Stitch's text from the body, not a generic one of ours.
    first_line = error.message.split(" (")[0]
    assert first_line and first_line in json.dumps(body, ensure_ascii=False).replace('\\"', '"')


def test_invalid_properties_carries_the_bad_property_names_and_report_card():
    body = {
        "error": "InvalidProperties",
        "data": {
            "message": "properties do not match schema",
            "bad_properties": ["start_date", "frequency_in_minutes"],
            "report_card": {"type": "platform.hubspot", "current_step": 1, "steps": []},
        },
    }
    error = parse_error(400, body)
    assert isinstance(error, StitchInvalidProperties)
    assert error.message == "properties do not match schema"
    assert error.bad_properties == ["start_date", "frequency_in_minutes"]
    assert error.report_card == body["data"]["report_card"]


def test_2018_top_level_bad_properties_are_invalid_properties():
    error = parse_error(400, {"bad_properties": ["start_date", "frequency_in_minutes"]})
    assert isinstance(error, StitchInvalidProperties)
    assert error.bad_properties == ["start_date", "frequency_in_minutes"]
    assert error.report_card is None
    assert error.stitch_code is None


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('"a source of name hubspot already exists"', StitchInvalidName),
        ('"unable to locate source(12) for client (34) to update"', StitchNotFound),
        ('"Unable to locate source(12) for client (34) to delete"', StitchNotFound),
        ('"POST body may only include a type, a display_name and map of string properties"', None),
        ('"DELETE body must be empty"', None),
    ],
)
def test_2018_bare_string_bodies_map_by_their_wording(body, expected):
    error = parse_error(400, json.loads(body))
    assert type(error) is (expected or StitchBadRequest)
    assert error.message == json.loads(body)


@pytest.mark.parametrize(
    ("status", "body", "expected", "message"),
    [
        (401, None, StitchUnauthorized, "Stitch answered HTTP 401 without an error message"),
        (
            401,
            {"error": "Unauthorized", "data": {"message": "invalid or missing access token"}},
            StitchUnauthorized,
            "invalid or missing access token",
        ),
        (404, {"error": "NotFound", "data": {"message": "no such source"}}, StitchNotFound, None),
        (404, None, StitchNotFound, None),
        (429, None, StitchRateLimited, None),
        (500, {"error": "ServerError", "data": {"message": "oops"}}, StitchUnavailable, "oops"),
        (502, None, StitchUnavailable, None),
        (400, {"error": "invalid_grant"}, StitchBadRequest, "invalid_grant"),
        (
            400,
            {"error": "invalid_grant", "error_description": "code expired"},
            StitchBadRequest,
            "code expired",
        ),
        (401, {"error": "invalid_client"}, StitchUnauthorized, "invalid_client"),
        (400, {"error": "NotFound"}, StitchNotFound, "NotFound"),
        (404, {"status": "NOT FOUND"}, StitchNotFound, "NOT FOUND"),
        (
            400,
            {"error": {"message": {"email_address": "Required. Must be valid email address."}}},
            StitchBadRequest,
            "email_address: Required. Must be valid email address.",
        ),
        (
            200,
            {"error": {"type": "generic", "message": "Could not create job"}},
            StitchBadRequest,
            "Could not create job",
        ),
    ],
)
def test_generic_status_and_undocumented_shapes(status, body, expected, message):
    error = parse_error(status, body)
    assert type(error) is expected
    assert error.message
    if message is not None:
        assert error.message == message


def test_account_errors_keep_the_field_map_in_the_message():
    body = {"code": "BadRequest", "message": "Invalid form data.", "errors": {"email": "required"}}
    error = parse_error(400, body)
    assert error.message == "Invalid form data. (email: required)"
    assert error.stitch_code == "BadRequest"


def test_rate_limited_from_a_body_has_no_retry_after_until_the_client_sets_it():
    error = parse_error(429, {"error": "TooManyRequests"})
    assert isinstance(error, StitchRateLimited)
    assert error.retry_after is None


def test_str_names_status_and_code_and_repr_leaves_the_body_out():
    body = {"error": "InvalidName", "data": {"message": "non-unique name (hubspot)"}}
    error = parse_error(400, body)
    assert str(error) == "HTTP 400 InvalidName: non-unique name (hubspot)"
    assert repr(error) == (
        "StitchInvalidName(status=400, stitch_code='InvalidName', "
        "message='non-unique name (hubspot)')"
    )


def test_secrets_in_a_body_are_redacted_from_message_and_body():
    token = "ac_0123456789abcdef"
    body = {"error": "InvalidId", "data": {"message": f"token {token} has no source 5"}}
    error = parse_error(400, body, secrets=[token])
    assert token not in str(error)
    assert token not in repr(error)
    assert token not in json.dumps(error.body)
    assert "[redacted]" in error.message


def test_every_error_is_a_stitch_error_and_bad_requests_share_a_base():
    for cls in (StitchInvalidProperties, StitchInvalidName, StitchAccessDenied, StitchInvalidType):
        assert issubclass(cls, StitchBadRequest)
    for cls in (StitchBadRequest, StitchNotFound, StitchAlreadyRunning, StitchUnavailable):
        assert issubclass(cls, StitchError)
