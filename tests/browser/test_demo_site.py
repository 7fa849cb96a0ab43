"""The demo site's backend and the `stitch-bridge demo` command, without a browser."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from bridge.events import encode, signature
from tests.live import free_port


def _page_token(demo_url: str, user: str) -> str:
    page = httpx.get(f"{demo_url}/?user={user}", timeout=10).text
    match = re.search(r'name="acme-user" content="([^"]+)"', page)
    assert match
    return match.group(1)


def test_the_page_carries_a_strict_csp_and_no_inline_script_or_style(stacks: Any) -> None:
    stack = stacks("native")
    answer = httpx.get(f"{stack.demo_url}/", timeout=10)
    csp = answer.headers["content-security-policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert f"script-src 'self' {stack.bridge_url} {stack.emulator_url}" in csp
    assert f"connect-src 'self' {stack.bridge_url}" in csp
    assert "frame-ancestors 'none'" in csp and "report-uri /csp-report" in csp
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    assert "cross-origin-opener-policy" not in answer.headers
    assert not re.search(r"<script(?![^>]*\bsrc=)", answer.text)
    assert "<style" not in answer.text and " style=" not in answer.text


def test_sessions_are_minted_only_for_the_signed_in_user(stacks: Any) -> None:
    stack = stacks("native")
    url = f"{stack.demo_url}/api/stitch-session"
    assert httpx.post(url, json={}, timeout=10).status_code == 401
    assert httpx.post(url, json={}, headers={"X-Acme-User": "bob"}, timeout=10).status_code == 401
    minted = httpx.post(
        url, json={}, headers={"X-Acme-User": _page_token(stack.demo_url, "bob")}, timeout=10
    )
    assert minted.status_code == 200
    session = httpx.get(
        f"{stack.bridge_url}/v1/session",
        headers={"Authorization": f"Bearer {minted.json()['token']}", "Origin": stack.demo_url},
        timeout=10,
    ).json()
    assert session["end_user_id"] == "bob"
    # What the page's connection rows offer: sync now, schedule, pause.
    assert session["actions"] == ["sync", "schedule", "pause"]
    assert httpx.get(f"{stack.demo_url}/?user=../x", timeout=10).status_code == 400


def test_csp_reports_are_recorded_in_both_browser_formats(stacks: Any) -> None:
    stack = stacks("stitchjs", session_ttl=901)  # its own stack: the others must stay at zero
    classic = {"csp-report": {"violated-directive": "script-src", "blocked-uri": "inline"}}
    reporting_api = [{"type": "csp-violation", "body": {"effectiveDirective": "style-src"}}]
    for body in (classic, reporting_api):
        sent = httpx.post(f"{stack.demo_url}/csp-report", json=body, timeout=10)
        assert sent.status_code == 204
    recorded = httpx.get(f"{stack.demo_url}/csp-reports", timeout=10).json()["data"]
    assert recorded == [classic["csp-report"], reporting_api[0]["body"]]


def test_the_demo_command_prints_its_urls_serves_them_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    base = free_port()
    command = [sys.executable, "-m", "bridge", "demo", "--data-dir", str(tmp_path)]
    env = {**os.environ, "BRIDGE_STEP_DRIVER": "stitchjs"}
    with subprocess.Popen(
        [*command, "--port-base", str(base)], stdout=subprocess.PIPE, text=True, env=env
    ) as process:
        try:
            _check_running_demo(process, base, tmp_path)
        finally:
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=20) == 0


def _check_running_demo(process: Any, base: int, data_dir: Path) -> None:
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(4)]
    assert "single-account mode, stitchjs step driver" in lines[0]
    demo_url = f"http://127.0.0.1:{base + 1}"
    assert any(demo_url in line for line in lines)
    assert httpx.get(f"{demo_url}/", timeout=10).status_code == 200
    assert httpx.get(f"http://127.0.0.1:{base}/widget.js", timeout=10).status_code == 200
    assert (data_dir / "bridge.db").exists()


def test_the_webhook_receiver_counts_only_correctly_signed_fresh_deliveries(stacks: Any) -> None:
    stack = stacks("native")
    user = "hooked"
    headers = {"X-Acme-User": _page_token(stack.demo_url, user)}
    minted = httpx.post(f"{stack.demo_url}/api/stitch-session", json={}, headers=headers)
    widget = {"Authorization": f"Bearer {minted.json()['token']}", "Origin": stack.demo_url}
    made = httpx.post(
        f"{stack.bridge_url}/v1/sources", json={"type": "platform.recurly"}, headers=widget
    )
    assert made.status_code == 201, made.text
    listed = httpx.get(f"{stack.demo_url}/api/events", headers=headers, timeout=10).json()
    event = listed["data"][0]

    def deliveries() -> int:
        url = f"{stack.demo_url}/api/events/{event['id']}"
        return int(httpx.get(url, headers=headers, timeout=10).json()["deliveries"])

    for _ in range(100):  # the bridge's outbox sends it to the demo's receiver
        if deliveries() == 1:
            break
        time.sleep(0.05)
    assert deliveries() == 1

    secret = json.loads((stack.data_dir / "secrets.json").read_text())["webhook_secret"]
    body = encode(event)
    now = int(time.time())
    receiver = f"{stack.demo_url}/webhooks/stitch-bridge"
    refused = [
        signature("not-the-webhook-secret-at-all-000", now, body),
        signature(secret, now - 3600, body),  # a replay of an old delivery
        signature(secret, now, body + b" "),  # signed, then changed
        f"t={now}",
        "",
    ]
    for header in refused:
        sent = httpx.post(receiver, content=body, headers={"Bridge-Signature": header})
        assert sent.status_code == 400, header
    assert deliveries() == 1
    signed = httpx.post(
        receiver, content=body, headers={"Bridge-Signature": signature(secret, now, body)}
    )
    assert signed.status_code == 204
    assert deliveries() == 2
