"""Ephemeral tokens (§2.5) and the web sessions they are exchanged for."""

from __future__ import annotations

import pytest

from stitch_emulator import EmulatorBackend

from .conftest import AppClient


def test_ephemeral_token_is_exchanged_once_for_a_session_token(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    ephemeral = stitch.post("/v3/sessions/ephemeral").json()["ephemeral_token"]
    session = backend.exchange_ephemeral_token(ephemeral)
    assert session != ephemeral
    account = backend.account_for_token(session)
    assert account is not None and account.id == account_id
    with pytest.raises(KeyError):
        backend.exchange_ephemeral_token(ephemeral)


def test_session_tokens_authenticate_the_public_api(
    anonymous: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    session = backend.exchange_ephemeral_token(backend.create_ephemeral_token(account_id))
    headers = {"Authorization": f"Bearer {session}"}
    assert anonymous.get("/v4/sources", headers=headers).status_code == 200
    assert anonymous.post("/v3/sessions/ephemeral", headers=headers).status_code == 200
    backend.clock.advance(12 * 3600)
    assert anonymous.get("/v4/sources", headers=headers).status_code == 401


def test_ephemeral_tokens_expire_after_an_hour(backend: EmulatorBackend, account_id: int) -> None:
    fresh = backend.create_ephemeral_token(account_id)
    stale = backend.create_ephemeral_token(account_id)
    backend.clock.advance(3599)
    assert backend.exchange_ephemeral_token(fresh)
    backend.clock.advance(1)
    with pytest.raises(KeyError):
        backend.exchange_ephemeral_token(stale)
    with pytest.raises(KeyError):
        backend.exchange_ephemeral_token("never-issued")


def test_ephemeral_tokens_are_not_access_tokens(
    anonymous: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    ephemeral = backend.create_ephemeral_token(account_id)
    answer = anonymous.get("/v4/sources", headers={"Authorization": f"Bearer {ephemeral}"})
    assert answer.status_code == 401
