"""Replication jobs, extractions and loads: lifetimes, ordering and §8.2 pagination."""

from __future__ import annotations

import pytest

from stitch_emulator import EmulatorBackend
from stitch_emulator.state.errors import ApiError

from .conftest import AppClient
from .factories import IMPORT_API, RECURLY, fully_configured


def test_extractions_are_paginated_by_100_in_source_order(
    backend: EmulatorBackend, account_id: int
) -> None:
    ids = []
    for index in range(150):
        source = backend.create_source(
            account_id, {**IMPORT_API, "display_name": f"Import {index}"}
        )
        backend.start_replication_job(account_id, source["id"])
        ids.append(source["id"])
    backend.clock.advance(30)
    first = backend.list_extractions(account_id, account_id, 1)
    assert (first["page"], first["total"], len(first["data"])) == (1, 150, 100)
    assert first["links"] == {"next": f"/v4/{account_id}/extractions?page=2"}
    assert [e["source_id"] for e in first["data"]] == ids[:100]
    second = backend.list_extractions(account_id, account_id, 2)
    assert second["links"] == {"previous": f"/v4/{account_id}/extractions?page=1"}
    assert [e["source_id"] for e in second["data"]] == ids[100:]
    beyond = backend.list_extractions(account_id, account_id, 3)
    assert beyond["data"] == [] and beyond["total"] == 150


def test_only_the_last_finished_extraction_per_source_within_60_days(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = backend.create_source(account_id, IMPORT_API)
    backend.start_replication_job(account_id, source["id"])
    assert backend.list_extractions(account_id, account_id, 1)["data"] == []
    backend.clock.advance(30)
    first = backend.list_extractions(account_id, account_id, 1)["data"][0]["job_name"]
    second = backend.start_replication_job(account_id, source["id"])["job_name"]
    backend.clock.advance(30)
    found = backend.list_extractions(account_id, account_id, 1)["data"]
    assert [e["job_name"] for e in found] == [second] and second != first
    backend.clock.advance(61 * 24 * 3600)
    assert backend.list_extractions(account_id, account_id, 1)["total"] == 0


def test_stopped_jobs_are_terminated_extractions_without_loads(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    backend.start_replication_job(account_id, source["id"])
    backend.clock.advance(5)
    assert backend.stop_replication_job(account_id, source["id"]) == {"status": 200}
    extraction = backend.list_extractions(account_id, account_id, 1)["data"][0]
    assert extraction["tap_description"] == "Terminated" and extraction["tap_exit_status"] == 1
    assert backend.list_loads(account_id, account_id, 1)["data"] == []
    assert "job_name" in backend.start_replication_job(account_id, source["id"])


def test_loads_are_per_stream_in_name_order(backend: EmulatorBackend, account_id: int) -> None:
    source = backend.create_source(account_id, RECURLY)
    backend.clock.advance(2)
    body = {
        "streams": [
            {
                "tap_stream_id": name,
                "metadata": [{"breadcrumb": [], "metadata": {"selected": True}}],
            }
            for name in ("transactions", "accounts", "invoices")
        ]
    }
    backend.update_stream_metadata(account_id, source["id"], body)
    backend.start_replication_job(account_id, source["id"])
    backend.clock.advance(30)
    loads = backend.list_loads(account_id, account_id, 1)["data"]
    assert [load["stream_name"] for load in loads] == ["accounts", "invoices", "transactions"]
    assert all(load["error_state"] is None and load["source_name"] == "recurly" for load in loads)


def test_paused_sources_still_sync_and_deleted_ones_stop(
    backend: EmulatorBackend, account_id: int
) -> None:
    source = fully_configured(backend, account_id)
    backend.update_source(account_id, source["id"], {"paused_at": "2019-06-01T00:00:00Z"})
    assert "job_name" in backend.start_replication_job(account_id, source["id"])
    backend.delete_source(account_id, source["id"])
    backend.clock.advance(30)
    job = backend.snapshot()["jobs"][0]
    assert job["stopped"] is True


def test_jobs_endpoints_refuse_another_client_id(backend: EmulatorBackend, account_id: int) -> None:
    with pytest.raises(ApiError) as raised:
        backend.list_loads(account_id, account_id + 1, 1)
    assert raised.value.status == 401


def test_page_parameter_over_http(
    stitch: AppClient, backend: EmulatorBackend, account_id: int
) -> None:
    for index in range(101):
        source = backend.create_source(account_id, {**IMPORT_API, "display_name": f"I{index}"})
        backend.start_replication_job(account_id, source["id"])
    backend.clock.advance(30)
    page = stitch.get(f"/v4/{account_id}/extractions", params={"page": 2}).json()
    assert len(page["data"]) == 1 and page["page"] == 2
    assert stitch.get(f"/v4/{account_id}/extractions", params={"page": "x"}).json()["page"] == 1
