"""Request bodies from the reference (§9.5, §11) and helpers that drive a source along."""

from __future__ import annotations

from typing import Any

from stitch_emulator import EmulatorBackend

from .conftest import AppClient

RECURLY = {
    "type": "platform.recurly",
    "display_name": "Recurly",
    "properties": {
        "start_date": "2018-01-10T00:00:00Z",
        "api_key": "[RECURLY_API_KEY]",
        "frequency_in_minutes": "60",
        "quota_limit": "30",
        "subdomain": "stitchdata",
    },
}
HUBSPOT = {
    "type": "platform.hubspot",
    "display_name": "HubSpot",
    "properties": {"start_date": "2017-01-01T00:00:00Z", "frequency_in_minutes": "30"},
}
POSTGRES = {
    "type": "platform.hp-postgres",
    "display_name": "Heroku",
    "properties": {
        "host": "db.example.com",
        "port": "5432",
        "user": "stitch",
        "password": "[PASSWORD]",
        "dbname": "demni2mf59dt10",
    },
}
IMPORT_API = {"type": "import_api", "display_name": "Import API"}
PG_DESTINATION = {
    "type": "postgres",
    "name": "Staging",
    "description": "Postgres database for the staging environment.",
    "properties": {
        "host": "db.example.com",
        "port": "5432",
        "username": "stitch",
        "database": "demni2mf59dt10",
        "password": "<PASSWORD>",
        "encryption_type": "none",
        "ssl": False,
    },
}


def select(tap_stream_id: str, **stream_metadata: Any) -> dict[str, Any]:
    """A metadata PUT body selecting one stream (the docs' `saas` request body)."""
    metadata = {"selected": True, **stream_metadata}
    return {
        "streams": [
            {"tap_stream_id": tap_stream_id, "metadata": [{"breadcrumb": [], "metadata": metadata}]}
        ]
    }


def create(stitch: AppClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = stitch.post("/v4/sources", json=body)
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def fully_configured(
    backend: EmulatorBackend, account_id: int, body: dict[str, Any] = RECURLY
) -> dict[str, Any]:
    """A source taken through every step with the backend (no HTTP)."""
    source = backend.create_source(account_id, body)
    if source["report_card"]["current_step_type"] == "oauth":
        backend.authorize_source(account_id, source["id"])
    backend.clock.advance(backend.config.check_delay)
    streams = backend.list_streams(account_id, source["id"])
    if streams:
        first = streams[0]
        extra = {}
        if "forced-replication-method" not in first["metadata"]:
            extra["replication-method"] = "FULL_TABLE"
        backend.update_stream_metadata(
            account_id, source["id"], select(first["tap_stream_id"], **extra)
        )
    found = backend.get_source(account_id, source["id"])
    assert found["report_card"]["current_step_type"] == "fully_configured"
    return found
