"""No secret in a log line, a response a browser sees, or an exception message."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
import structlog

from bridge.logs import REDACTED, configure_logging
from tests.bridge.conftest import RECURLY_PROPERTIES, Stack


@pytest.fixture
def bridge_overrides() -> dict[str, Any]:
    return {
        "step_driver": "stitchjs",
        "shared_account_stitchjs": True,
        "webhook_url": "http://127.0.0.1:9/hooks",
        "webhook_secret": "whsec_" + "q" * 30,
    }


def test_a_whole_flow_logs_no_secret(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    widget = stack.widget(end_user="logged")
    session_token = widget.headers["authorization"].split()[1]
    created = widget.post(
        "/v1/sources",
        json={"type": "platform.hubspot", "properties": {"start_date": "2017-01-01T00:00:00Z"}},
    ).json()
    step = created["next_step"]
    started = widget.post("/v1/steps/start", json={"token": step["token"]}).json()
    ephemeral = started["js"]["options"]["ephemeral_token"]
    stack.authorize(created["source"]["id"])
    widget.post("/v1/steps/complete", json={"token": step["token"]})
    recurly = widget.post(
        "/v1/sources", json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES}
    )
    assert recurly.status_code == 201
    stack.fault(method="GET", path="/v4/sources/*", status=500, count=10, body="<html>oops</html>")
    widget.get(f"/v1/sources/{created['source']['id']}")  # errors get logged too

    text = "\n".join(
        record.getMessage() + " " + json.dumps(record.__dict__, default=str)
        for record in caplog.records
    )
    assert caplog.records, "the flow should have logged something"
    secrets = {
        *stack.settings.secrets,
        session_token,
        step["token"],
        ephemeral,
        RECURLY_PROPERTIES["api_key"],
    }
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"secrets in logs: {[s[:6] + '…' for s in leaked]}"
    # And nothing a browser received carries a bridge secret.
    for body in (created, started, recurly.json()):
        dumped = json.dumps(body)
        assert not any(s in dumped for s in stack.settings.secrets)


def test_the_production_log_pipeline_redacts_every_configured_secret() -> None:
    stream = io.StringIO()
    secret = "ac_super_secret_stitch_token_123"
    configure_logging("json", [secret])
    root = logging.getLogger()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        logging.getLogger("bridge.test").warning("upstream said %s", f"Bearer {secret}")
        structlog.get_logger("bridge.test").info("event", token=secret, nested={"x": [secret]})
        try:
            raise RuntimeError(f"boom {secret}")
        except RuntimeError:
            logging.getLogger("bridge.test").exception("failed")
    finally:
        root.handlers[:] = []
        structlog.reset_defaults()
    output = stream.getvalue()
    assert secret not in output
    assert output.count(REDACTED) >= 4
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert all("timestamp" in line and "level" in line for line in lines)
