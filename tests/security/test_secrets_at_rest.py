"""No plaintext secret at rest or in transit to a browser: after every partner-mode flow (new
account, linked account, white-label OAuth, failures included), the SQLite files, the bridge's
logs and everything the bridge answered hold none of the tokens, secrets and codes involved."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog

from bridge.crypto import SecretBox
from tests.bridge.conftest import API_KEY, SECRET_KEY
from tests.bridge.partner_stack import (
    APP_CLIENT_SECRET,
    HUBSPOT,
    HUBSPOT_FORM,
    PARTNER_SECRET,
    PartnerStack,
    consent_at_provider,
    consent_at_stitch,
    page_data,
    partner_stack,
    query_of,
    with_query,
)


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[PartnerStack]:
    # On loopback servers: the bridge's log records are told from the emulator's by thread.
    with partner_stack(tmp_path, live=True) as stack:
        yield stack


def _every_flow(stack: PartnerStack) -> dict[str, list[str]]:
    """Run every flow that handles a secret; returns the codes and URLs the flows produced."""
    codes: list[str] = []
    built: list[str] = []
    backend = stack.backend()

    # A new tenant with a new Stitch account.
    stack.create_tenant("acme")
    # A tenant linked to an existing account by partner OAuth; then a replayed code.
    backend.post("/v1/tenants", json={"id": "beta", "link": True}).raise_for_status()
    url = stack.bind(backend.post("/v1/tenants/beta/authorize-url").json()["ticket"])
    built.append(url)
    callback = consent_at_stitch(url, "owner@emulator.stitch.invalid")
    codes.append(query_of(callback)["code"])
    assert page_data(stack.land(callback).text, "tenant-link")["outcome"] == "linked"
    again = stack.bind(backend.post("/v1/tenants/beta/authorize-url").json()["ticket"])
    replayed = with_query(callback, state=query_of(again)["state"])
    assert page_data(stack.land(replayed).text, "tenant-link")["error"]

    # White-label OAuth of a HubSpot source: refused once by the provider, then granted.
    widget = stack.widget(tenant="acme", end_user="alice")
    created = widget.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM})
    step = created.json()["next_step"]
    ticket = widget.post("/v1/steps/start", json={"token": step["token"]}).json()["oauth_ticket"]
    oauth_url = stack.bind(ticket)
    built.append(oauth_url)
    refused = consent_at_provider(oauth_url)
    codes.append(query_of(refused)["code"])
    stack.provider_config(token_error="invalid_grant")
    assert page_data(stack.land(refused).text, "oauth-result")["outcome"] == "failed"
    stack.provider_config(token_error=None)
    retry = widget.post("/v1/steps/complete", json={"token": step["token"]}).json()["next_step"]
    ticket = widget.post("/v1/steps/start", json={"token": retry["token"]}).json()["oauth_ticket"]
    oauth_url = stack.bind(ticket)
    built.append(oauth_url)
    granted = consent_at_provider(oauth_url)
    codes.append(query_of(granted)["code"])
    assert page_data(stack.land(granted).text, "oauth-result")["outcome"] == "completed"
    widget.post("/v1/steps/complete", json={"token": retry["token"]}).raise_for_status()
    # The same code again, with a fresh state: refused, and logged as such.
    bob = stack.widget(tenant="acme", end_user="bob")
    other = bob.post("/v1/sources", json={"type": HUBSPOT, "properties": HUBSPOT_FORM}).json()
    fresh = bob.post("/v1/steps/start", json={"token": other["next_step"]["token"]}).json()
    fresh_url = stack.bind(fresh["oauth_ticket"])
    built.append(fresh_url)
    stolen = with_query(granted, state=query_of(fresh_url)["state"])
    assert page_data(stack.land(stolen).text, "oauth-result")["error"]
    return {"codes": codes, "built": built}


def _secrets(stack: PartnerStack, codes: list[str]) -> dict[str, str]:
    found = {
        "partner secret": PARTNER_SECRET,
        "OAuth client secret": APP_CLIENT_SECRET,
        "API key": API_KEY,
        "secret key": SECRET_KEY,
    }
    for account in stack.accounts():
        for n, token in enumerate(account["access_tokens"]):
            found[f"Stitch token {n} of account {account['id']}"] = token
    for source in stack.backend_state.world.sources:
        if "refresh_token" in source.values:
            found[f"refresh token of source {source.id}"] = source.values["refresh_token"]
    provider = stack.backend_state.provider
    for n, token in enumerate(list(provider._tokens)):
        found[f"provider access token {n}"] = token
    for n, code in enumerate(codes):
        found[f"code {n}"] = code
    with sqlite3.connect(stack.database) as db:
        verifiers = [row[0] for row in db.execute("SELECT code_verifier FROM oauth_attempts")]
    for n, stored in enumerate(verifiers):
        found[f"PKCE verifier {n}"] = SecretBox((SECRET_KEY,)).decrypt(stored)
    return found


def _database_bytes(database: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(database.parent.glob(database.name + "*")))


def test_no_secret_reaches_the_database_the_logs_or_a_browser(
    stack: PartnerStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The bridge's records: its server thread and its database threads. The test's own clients
    # (main thread) and the emulator (its server thread) handle the secrets by design.
    elsewhere = {"MainThread", f"uvicorn-{httpx.URL(stack.emulator_url).port}"}
    with structlog.testing.capture_logs() as structured:
        produced = _every_flow(stack)
    secrets = _secrets(stack, produced["codes"])
    assert len(secrets) >= 15, sorted(secrets)  # the flows really handled them

    records = [r for r in caplog.records if r.threadName not in elsewhere]
    assert any(r.name == "aiosqlite" for r in records)  # database threads are included
    assert any(r.name == "bridge.oauth" for r in records)  # the failures were logged
    logged = "\n".join(f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in records) + repr(
        structured
    )
    database = _database_bytes(stack.database)
    answered = [(str(r.request.url), r.text, str(r.headers)) for r in stack.seen]
    for name, value in secrets.items():
        assert value.encode() not in database, f"{name} is in the database file"
        assert value not in logged, f"{name} is in the bridge's logs"
        for url in produced["built"]:
            assert value not in url, f"{name} is in a URL the bridge built"
        for url, body, headers in answered:
            if name == "API key":
                continue  # the SaaS backend sent it; the bridge never echoes it (body below)
            assert value not in body and value not in headers, f"{name} in the answer to {url}"
    for _, body, _ in answered:
        assert API_KEY not in body


def test_the_database_keeps_only_ciphertext_after_shutdown(tmp_path: Path) -> None:
    with partner_stack(tmp_path, live=True) as stack:
        produced = _every_flow(stack)
        secrets = _secrets(stack, produced["codes"])
        database = stack.database
    content = _database_bytes(database)  # the WAL is checkpointed into the file by now
    assert content
    leaked = [name for name, value in secrets.items() if value.encode() in content]
    assert leaked == []


def test_destination_credentials_go_to_stitch_and_nowhere_else(
    stack: PartnerStack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    elsewhere = {"MainThread", f"uvicorn-{httpx.URL(stack.emulator_url).port}"}
    passwords = ["dest-password-" + "d" * 20, "rotated-password-" + "r" * 20]
    properties = {"host": "db.example.com", "port": "5432", "username": "loader"}
    backend = stack.backend()
    path = "/v1/tenants/acme/destination"
    with structlog.testing.capture_logs() as structured:
        stack.create_tenant("acme")
        for password in passwords:  # created, then updated
            body = {"type": "postgres", "properties": {**properties, "password": password}}
            assert backend.put(path, json=body).status_code == 200
        # Refusals: one quoting the credential back, one failing upstream, one invalid body.
        stack.fault(
            method="PUT",
            path="/v4/destinations/*",
            status=400,
            count=1,
            body=json.dumps(f"password {passwords[1]} refused"),
            content_type="application/json",
        )
        stack.fault(method="PUT", path="/v4/destinations/*", status=500, count=10, after=True)
        body = {"type": "postgres", "properties": {**properties, "password": passwords[1]}}
        assert backend.put(path, json=body).status_code == 422
        assert backend.put(path, json=body).status_code == 502
        bad = {"type": "postgres", "properties": {"password": [passwords[0]]}}
        assert backend.put(path, json=bad).status_code == 422
        assert backend.get("/v1/tenants/acme").json()["destination"]["type"] == "postgres"
    [stored] = stack.backend_state.world.destinations
    assert stored.values["password"] == passwords[1]  # it did reach Stitch

    records = [r for r in caplog.records if r.threadName not in elsewhere]
    assert any(r.name == "bridge.stitch" for r in records)  # the calls were logged
    logged = "\n".join(f"{r.getMessage()} {r.__dict__} {r.exc_text or ''}" for r in records)
    logged += repr(structured)
    database = _database_bytes(stack.database)
    for password in passwords:
        assert password.encode() not in database
        assert password not in logged
        for response in stack.seen:
            assert password not in response.text, str(response.request.url)
