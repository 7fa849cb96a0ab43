"""Step payloads and sessions are signed, expire, rotate keys and never serve another purpose."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeSerializer

from bridge.clock import ManualClock
from bridge.errors import from_token
from bridge.tokens import (
    SESSION_SALT,
    ConnectSession,
    OAuthState,
    Purpose,
    TokenError,
    TokenExpired,
    TokenInvalid,
    Tokens,
)

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=!~"
OLD_KEY = "old-key-" + "o" * 32
NEW_KEY = "new-key-" + "n" * 32


def _session(clock: ManualClock, **overrides: object) -> ConnectSession:
    values: dict[str, object] = {
        "id": "cs_test",
        "tenant": None,
        "end_user_id": "user-1",
        "end_user_name": None,
        "end_user_email": None,
        "source_types": ("platform.hubspot",),
        "source_id": None,
        "expires_at": clock.time() + 900,
    }
    values.update(overrides)
    return ConnectSession(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_800_000_000.0)


@pytest.fixture
def tokens(clock: ManualClock) -> Tokens:
    return Tokens((NEW_KEY, OLD_KEY), clock)


def test_a_session_token_round_trips_every_binding(tokens: Tokens, clock: ManualClock) -> None:
    cs = _session(clock, tenant="acme", source_id=42, end_user_email="a@example.com")
    assert tokens.read_session(tokens.mint_session(cs)) == cs


def test_a_session_token_expires_on_the_injected_clock(tokens: Tokens, clock: ManualClock) -> None:
    token = tokens.mint_session(_session(clock))
    clock.advance(899)
    tokens.read_session(token)
    clock.advance(2)
    with pytest.raises(TokenError) as raised:
        tokens.read_session(token)
    assert from_token(raised.value).code == "session_expired"


def test_a_step_token_lives_its_own_ttl_so_a_renewed_session_can_finish_the_step(
    tokens: Tokens, clock: ManualClock
) -> None:
    cs = _session(clock, expires_at=clock.time() + 30)
    token, claim = tokens.mint_step(cs, 7, "oauth", ttl=600)
    assert claim.expires_at == clock.time() + 600
    clock.advance(31)
    assert tokens.read_step(token).end_user_id == cs.end_user_id
    clock.advance(570)
    with pytest.raises(TokenError) as raised:
        tokens.read_step(token)
    assert from_token(raised.value).code == "token_expired"


def test_tokens_signed_with_an_old_key_still_verify_after_rotation(clock: ManualClock) -> None:
    before = Tokens((OLD_KEY,), clock)
    token = before.mint_session(_session(clock))
    after = Tokens((NEW_KEY, OLD_KEY), clock)
    assert after.read_session(token).id == "cs_test"
    # New tokens are signed with the newest key: a bridge that only knows the old key refuses them.
    fresh = after.mint_session(_session(clock))
    with pytest.raises(TokenError):
        before.read_session(fresh)


def test_a_retired_key_no_longer_verifies(clock: ManualClock) -> None:
    token = Tokens((OLD_KEY,), clock).mint_session(_session(clock))
    with pytest.raises(TokenError) as raised:
        Tokens((NEW_KEY,), clock).read_session(token)
    assert from_token(raised.value).code == "unauthorized"


def test_each_step_token_has_its_own_id(tokens: Tokens, clock: ManualClock) -> None:
    cs = _session(clock)
    ids = {tokens.mint_step(cs, 7, "form", ttl=60)[1].id for _ in range(50)}
    assert len(ids) == 50


def test_tokens_carry_no_secret(tokens: Tokens, clock: ManualClock) -> None:
    token, _ = tokens.mint_step(_session(clock), 7, "oauth", ttl=60)
    # Signed, not encrypted: anyone can read the payload, so nothing secret may go in.
    _, payload = URLSafeSerializer("any key").loads_unsafe(token)
    assert payload["uid"] == "user-1" and payload["stp"] == "oauth"
    assert not {NEW_KEY, OLD_KEY} & {str(v) for v in payload.values()}


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_change_to_a_tokens_bytes_is_rejected(
    tokens: Tokens, clock: ManualClock, data: st.DataObject
) -> None:
    kind = data.draw(st.sampled_from(["session", "step", "receipt"]))
    cs = _session(clock)
    if kind == "session":
        token = tokens.mint_session(cs)
    elif kind == "step":
        token = tokens.mint_step(cs, 7, "form", ttl=60)[0]
    else:
        token = tokens.mint_receipt(7, "user-1", None, clock.time())
    # Draw the same number of values whatever the token's length (ids make lengths vary).
    position = data.draw(st.integers(min_value=0, max_value=10_000)) % len(token)
    alphabet = ALPHABET if token[position] in ALPHABET else ALPHABET + token[position]
    offset = data.draw(st.integers(min_value=1, max_value=len(ALPHABET) - 1))
    replacement = alphabet[(alphabet.index(token[position]) + offset) % len(alphabet)]
    tampered = token[:position] + replacement + token[position + 1 :]
    truncated = token[: data.draw(st.integers(min_value=0, max_value=10_000)) % len(token)]
    for bad in (tampered, truncated):
        with pytest.raises(TokenError) as raised:
            if kind == "session":
                tokens.read_session(bad)
            elif kind == "step":
                tokens.read_step(bad)
            else:
                tokens.read_receipt(bad)
        assert from_token(raised.value).code in {"unauthorized", "token_invalid", "receipt_invalid"}


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(end_user=st.text(min_size=1, max_size=40), source_id=st.integers(1, 2**40))
def test_a_token_of_one_purpose_is_refused_for_every_other(
    tokens: Tokens, clock: ManualClock, end_user: str, source_id: int
) -> None:
    cs = _session(clock, end_user_id=end_user)
    session_token = tokens.mint_session(cs)
    step_token = tokens.mint_step(cs, source_id, "form", ttl=60)[0]
    receipt = tokens.mint_receipt(source_id, end_user, None, clock.time())
    for token in (step_token, receipt):
        with pytest.raises(TokenError) as raised:
            tokens.read_session(token)
        assert from_token(raised.value).code == "unauthorized"
    for token in (session_token, receipt):
        with pytest.raises(TokenError) as raised:
            tokens.read_step(token)
        assert from_token(raised.value).code == "token_invalid"
    for token in (session_token, step_token):
        with pytest.raises(TokenError) as raised:
            tokens.read_receipt(token)
        assert from_token(raised.value).code == "receipt_invalid"


@pytest.mark.parametrize("junk", ["", "x", "a.b", "." * 10, "é" * 5, 42, None, "a" * 5000])
def test_junk_is_a_clear_refusal_not_a_crash(tokens: Tokens, junk: object) -> None:
    with pytest.raises(TokenError) as raised:
        tokens.read_step(junk)
    assert from_token(raised.value).code == "token_invalid"


def test_a_session_carries_its_actions_and_older_tokens_default_to_sync(
    tokens: Tokens, clock: ManualClock
) -> None:
    minted = tokens.mint_session(_session(clock, actions=("sync", "pause")))
    assert tokens.read_session(minted).actions == ("sync", "pause")
    # A token minted before sessions carried actions (no "act" in its payload) still verifies.
    old = Purpose((NEW_KEY,), SESSION_SALT).dumps(
        {
            "sid": "cs_old",
            "ten": None,
            "uid": "u",
            "typ": None,
            "src": None,
            "exp": int(clock.time() + 60),
        }
    )
    assert tokens.read_session(old).actions == ("sync",)


def test_token_failures_name_their_purpose_and_kind_so_the_api_maps_them_in_one_table(
    tokens: Tokens, clock: ManualClock
) -> None:
    session = tokens.mint_session(_session(clock))
    step = tokens.mint_step(_session(clock), 7, "form", ttl=60)[0]
    clock.advance(901)
    with pytest.raises(TokenExpired) as expired:
        tokens.read_session(session)
    assert expired.value.purpose == "session"
    with pytest.raises(TokenExpired) as expired:
        tokens.read_step(step)
    assert expired.value.purpose == "step"
    with pytest.raises(TokenInvalid) as invalid:
        tokens.read_receipt(step)
    assert invalid.value.purpose == "receipt"
    assert from_token(invalid.value).status == 400


def test_an_oauth_state_round_trips_expires_and_serves_no_other_purpose(
    tokens: Tokens, clock: ManualClock
) -> None:
    state = OAuthState("oa_1", "provider", "tag", expires_at=clock.time() + 60)
    token = tokens.oauth_state.dumps(state)
    assert tokens.oauth_state.loads(token) == state
    with pytest.raises(TokenInvalid):
        tokens.oauth_state.loads(tokens.mint_session(_session(clock)))
    with pytest.raises(TokenInvalid):
        tokens.read_session(token)
    clock.advance(61)
    with pytest.raises(TokenExpired) as expired:
        tokens.oauth_state.loads(token)
    assert expired.value.reason == "expired"
