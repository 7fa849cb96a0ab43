"""`Webhook.verify`: what a SaaS's webhook handler relies on to believe a delivery."""

from __future__ import annotations

import json

import pytest

from bridge.events import signature
from stitch_bridge_client import SignatureVerificationError, Webhook

SECRET = "whsec-" + "s" * 32
NOW = 1_800_000_000
BODY = json.dumps(
    {"id": "evt_1", "type": "source.connected", "data": {"end_user_id": "u"}}
).encode()


def reason(payload: bytes | str, header: str, secret: str | list[str] = SECRET, **kw: int) -> str:
    with pytest.raises(SignatureVerificationError) as caught:
        Webhook.verify(payload, header, secret, now=NOW, **kw)
    return caught.value.reason


def test_a_delivery_signed_by_the_bridge_verifies_to_the_event() -> None:
    event = Webhook.verify(BODY, signature(SECRET, NOW, BODY), SECRET, now=NOW)
    assert event["id"] == "evt_1" and event["type"] == "source.connected"


def test_sign_makes_the_header_the_bridge_makes() -> None:
    assert Webhook.sign(BODY, SECRET, timestamp=NOW) == signature(SECRET, NOW, BODY)


def test_a_str_payload_is_its_utf8_bytes() -> None:
    text = BODY.decode()
    assert Webhook.verify(text, signature(SECRET, NOW, BODY), SECRET, now=NOW)["id"] == "evt_1"


def test_an_altered_body_is_a_signature_mismatch() -> None:
    header = signature(SECRET, NOW, BODY)
    assert reason(BODY.replace(b"evt_1", b"evt_2"), header) == "signature_mismatch"


def test_another_secret_is_a_signature_mismatch() -> None:
    assert reason(BODY, signature("other-" + "x" * 32, NOW, BODY)) == "signature_mismatch"


@pytest.mark.parametrize("skew", [301, -301, 10_000])
def test_a_timestamp_outside_the_window_is_refused_even_when_signed(skew: int) -> None:
    header = signature(SECRET, NOW + skew, BODY)
    assert reason(BODY, header) == "timestamp_outside_tolerance"


def test_the_window_is_the_tolerance_given() -> None:
    header = signature(SECRET, NOW - 50, BODY)
    assert Webhook.verify(BODY, header, SECRET, tolerance=60, now=NOW)["id"] == "evt_1"
    assert reason(BODY, header, tolerance=40) == "timestamp_outside_tolerance"


@pytest.mark.parametrize(
    "stamp", ["\xb2", "1\xb2", "\u0661\u0662", "+1800000000", "-5", " 1", "1e9", "", "1.5"]
)
def test_a_timestamp_that_is_not_ascii_digits_is_malformed_not_a_crash(stamp: str) -> None:
    mac = signature(SECRET, NOW, BODY).split("v1=")[1]
    assert reason(BODY, f"t={stamp},v1={mac}") == "malformed_header"


@pytest.mark.parametrize("header", ["", "garbage", "t", "t=1,t=2,v1=" + "0" * 64])
def test_a_header_that_is_not_t_and_v1_is_malformed(header: str) -> None:
    assert reason(BODY, header) == "malformed_header"


def test_no_timestamp_and_no_signature_are_named() -> None:
    mac = signature(SECRET, NOW, BODY).split("v1=")[1]
    assert reason(BODY, f"v1={mac}") == "no_timestamp"
    assert reason(BODY, f"t={NOW}") == "no_signature"
    assert reason(BODY, f"t={NOW},v1=NOT-HEX") == "no_signature"


def test_any_of_several_v1_values_may_match_during_rotation() -> None:
    good = signature(SECRET, NOW, BODY).split("v1=")[1]
    header = f"t={NOW},v1={'0' * 64},v1={good}"
    assert Webhook.verify(BODY, header, SECRET, now=NOW)["id"] == "evt_1"


def test_any_of_several_secrets_may_match_during_rotation() -> None:
    old = "old-secret-" + "o" * 32
    header = signature(old, NOW, BODY)
    assert Webhook.verify(BODY, header, [SECRET, old], now=NOW)["id"] == "evt_1"


def test_a_signed_body_that_is_not_a_json_object_is_refused() -> None:
    for body in (b"[1, 2]", b"not json"):
        assert reason(body, signature(SECRET, NOW, body)) == "invalid_payload"


def test_an_empty_secret_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        Webhook.verify(BODY, signature(SECRET, NOW, BODY), "", now=NOW)
