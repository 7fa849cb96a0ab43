"""Connect a source server-side, without a browser: the widget's API calls for each step, and the
emulator's controls where an end user would act in Stitch's popup (OAuth consent) or where time
must pass (the connection check)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

# Properties the emulator's catalogue accepts for its source types (none of them real).
SAMPLE_PROPERTIES: dict[str, dict[str, str]] = {
    "platform.recurly": {
        "start_date": "2020-01-01T00:00:00Z",
        "api_key": "test-recurly-api-key",
        "subdomain": "example",
        "quota_limit": "30",
    },
    "platform.hubspot": {"start_date": "2020-01-01T00:00:00Z"},
    "platform.hp-postgres": {
        "host": "db.example.com",
        "port": "5432",
        "user": "reader",
        "password": "test-password",
        "dbname": "app",
    },
    "platform.postgres": {
        "host": "db.example.com",
        "port": "5432",
        "user": "reader",
        "password": "test-password",
        "dbname": "app",
    },
}
# form, oauth, discover_schema, field_selection, then done: a few more for re-reads.
MAX_STEPS = 12


def _ok(response: httpx.Response, doing: str) -> dict[str, Any]:
    if response.status_code >= 400:
        raise AssertionError(f"{doing}: {response.status_code} {response.text[:500]}")
    body: dict[str, Any] = response.json() if response.content else {}
    return body


class SourceConnector:
    """Walks one source through its steps with the widget's session token."""

    def __init__(self, bridge_url: str, emulator_url: str, token: str, origin: str) -> None:
        headers = {"Authorization": f"Bearer {token}", "Origin": origin}
        self.widget = httpx.Client(base_url=bridge_url, headers=headers, timeout=30)
        self.emulator = httpx.Client(base_url=emulator_url, timeout=30)

    def close(self) -> None:
        self.widget.close()
        self.emulator.close()

    def connect(
        self,
        type: str,
        *,
        properties: Mapping[str, Any] | None,
        display_name: str | None,
        streams: Sequence[str] | None,
        check_delay: float,
    ) -> dict[str, Any]:
        """Create the source and finish every step; returns `{"source", "receipt"}`."""
        body: dict[str, Any] = {"type": type}
        body["properties"] = dict(
            SAMPLE_PROPERTIES.get(type, {}) if properties is None else properties
        )
        if display_name is not None:
            body["display_name"] = display_name
        answer = _ok(self.widget.post("/v1/sources", json=body), f"creating a {type} source")
        source_id = int(answer["source"]["id"])
        for _ in range(MAX_STEPS):
            step = answer.get("next_step")
            if step is None:
                if answer["source"].get("current_step_type") == "fully_configured":
                    return answer
                answer = self._read(source_id)
                continue
            answer = self._run(source_id, step, streams, check_delay)
        raise AssertionError(f"source {source_id} was not connected after {MAX_STEPS} steps")

    def _read(self, source_id: int) -> dict[str, Any]:
        return _ok(self.widget.get(f"/v1/sources/{source_id}"), f"reading source {source_id}")

    def _complete(self, step: Mapping[str, Any]) -> dict[str, Any]:
        done = self.widget.post(
            "/v1/steps/complete", json={"token": step["token"], "outcome": "completed"}
        )
        return _ok(done, f"completing the {step['type']} step")

    def _run(
        self,
        source_id: int,
        step: Mapping[str, Any],
        streams: Sequence[str] | None,
        check_delay: float,
    ) -> dict[str, Any]:
        kind = step["type"]
        if kind == "form":
            raise AssertionError(
                f"source {source_id} still needs its form: pass properties= that Stitch accepts"
            )
        if kind == "oauth":
            # The end user's consent in Stitch's popup, as the emulator's control plays it.
            _ok(self.emulator.post(f"/_emulator/sources/{source_id}/authorize"), "authorizing")
            return self._complete(step)
        if kind == "discover_schema":
            _ok(self.emulator.post("/_emulator/clock", json={"advance": check_delay + 1}), "clock")
            return self._read(source_id)
        if kind == "field_selection":
            self._select(source_id, streams)
            return self._complete(step)
        raise AssertionError(f"source {source_id}: no way to finish a {kind!r} step server-side")

    def _select(self, source_id: int, streams: Sequence[str] | None) -> None:
        path = f"/v1/sources/{source_id}/streams"
        found = _ok(self.widget.get(path), "listing streams")["data"]
        wanted = set(streams) if streams is not None else {s["tap_stream_id"] for s in found}
        chosen = [{"tap_stream_id": name, "selected": True} for name in sorted(wanted)]
        _ok(self.widget.put(path, json={"streams": chosen}), "selecting streams")
