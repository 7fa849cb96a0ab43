"""Secrets at rest: Fernet keys derived from BRIDGE_SECRET_KEYS, newest first, with rotation."""

from __future__ import annotations

import base64

import pytest

from bridge.crypto import SecretBox, SecretUnreadable, fernet_key

OLD = "old-secret-key-" + "o" * 32
NEW = "new-secret-key-" + "n" * 32


def test_the_encryption_key_is_derived_not_the_configured_secret() -> None:
    key = base64.urlsafe_b64decode(fernet_key(OLD))
    assert len(key) == 32
    assert key != OLD.encode()[:32]
    assert fernet_key(OLD) == fernet_key(OLD) != fernet_key(NEW)


def test_a_value_round_trips_and_the_ciphertext_hides_it() -> None:
    box = SecretBox((OLD,))
    sealed = box.encrypt("ac_plaintext_token")
    assert "ac_plaintext_token" not in sealed
    assert box.decrypt(sealed) == "ac_plaintext_token"
    assert box.encrypt("same") != box.encrypt("same")  # random IV each time


def test_a_new_key_in_front_still_reads_old_values_and_writes_with_the_new_one() -> None:
    sealed = SecretBox((OLD,)).encrypt("token")
    rotated_box = SecretBox((NEW, OLD))
    assert rotated_box.decrypt(sealed) == "token"
    assert not rotated_box.is_current(sealed)
    fresh = rotated_box.encrypt("token")
    assert rotated_box.is_current(fresh)
    assert SecretBox((NEW,)).decrypt(fresh) == "token"


def test_rotate_moves_a_value_to_the_newest_key() -> None:
    sealed = SecretBox((OLD,)).encrypt("token")
    moved = SecretBox((NEW, OLD)).rotate(sealed)
    assert SecretBox((NEW,)).decrypt(moved) == "token"
    with pytest.raises(SecretUnreadable):
        SecretBox((OLD,)).decrypt(moved)


@pytest.mark.parametrize(
    "bad", ["", "not-fernet", base64.urlsafe_b64encode(b"k" * 32).decode(), "é"]
)
def test_values_no_key_opens_are_refused_without_detail(bad: str) -> None:
    box = SecretBox((OLD,))
    with pytest.raises(SecretUnreadable) as raised:
        box.decrypt(bad)
    assert bad not in str(raised.value) or not bad
    with pytest.raises(SecretUnreadable):
        box.rotate(bad)


def test_a_tampered_ciphertext_is_refused() -> None:
    box = SecretBox((OLD,))
    sealed = box.encrypt("token")
    flipped = sealed[:20] + ("A" if sealed[20] != "A" else "B") + sealed[21:]
    with pytest.raises(SecretUnreadable):
        box.decrypt(flipped)


def test_a_box_needs_a_key_and_shows_none() -> None:
    with pytest.raises(ValueError):
        SecretBox(())
    assert OLD not in repr(SecretBox((OLD,)))
