"""Partner mode after connecting: one sync poller per tenant's Stitch account, and the backend's
routes act within the tenant named."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bridge.partner_stack import PartnerStack, partner_stack
from tests.bridge.sync_helpers import POLL, advance_and_poll, connect, wait_for

# Rounds of the sync poller are waited for, one after another: each comes at once.
pytestmark = pytest.mark.usefixtures("fast_sync_poller")


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[PartnerStack]:
    with partner_stack(tmp_path) as stack:
        yield stack


def test_each_tenants_account_is_polled_for_its_own_sources(partner: PartnerStack) -> None:
    accounts = {t: partner.create_tenant(t)["stitch_account_id"] for t in ("acme", "rival")}
    sources = {t: connect(partner, end_user="sam", tenant=t)[1] for t in accounts}
    backend = partner.backend()
    for tenant, source_id in sources.items():
        started = backend.post(
            f"/v1/end-users/sam/sources/{source_id}/sync", params={"tenant": tenant}
        )
        assert started.status_code == 202, started.text
    # The same end user id in the other tenant has no such source.
    refused = backend.post(
        f"/v1/end-users/sam/sources/{sources['acme']}/pause", params={"tenant": "rival"}
    )
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "source_not_found"
    assert backend.post(f"/v1/end-users/sam/sources/{sources['acme']}/sync").status_code == 400

    wait_for(lambda: _leases(partner) == 2, "a lease per tenant account")
    advance_and_poll(partner, POLL + 1)
    for tenant in sources:
        listed = backend.get("/v1/end-users/sam/sources", params={"tenant": tenant}).json()
        assert [s["sync"]["state"] for s in listed["data"]] == ["succeeded"]
    log = partner.emulator_http().get("/_emulator/requests").json()["requests"]
    polled = {
        int(m.group(1)) for r in log if (m := re.match(r"^/v4/(\d+)/extractions$", r["path"]))
    }
    assert polled == set(accounts.values())


def _leases(stack: PartnerStack) -> int:
    with sqlite3.connect(stack.database) as db:
        return int(db.execute("SELECT count(*) FROM sync_leases").fetchone()[0])
