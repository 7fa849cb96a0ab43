"""Two bridge replicas on one PostgreSQL database, with requests alternating between them."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from bridge import create_app
from bridge.clock import ManualClock
from bridge.store.schema import create_engine, migrate
from bridge.store.sync_queries import claim_job_event
from bridge.store.sync_tables import SyncLease
from bridge.store.tables import EventRow
from stitch_emulator import EmulatorConfig
from stitch_emulator import create_app as create_emulator
from tests.bridge.conftest import (
    API_KEY,
    APP_ORIGIN,
    RECURLY_PROPERTIES,
    STITCH_TOKEN,
    make_settings,
)
from tests.live import free_port, serve
from tests.waiting import eventually_async

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(180)]

RATE = 20.0  # upstream calls per second, for both replicas together
BURST = 2
JITTER = 0.15
WEBHOOK_SECRET = "whsec_" + "r" * 32


class Arrivals:
    """ASGI wrapper that notes when each Stitch API call reaches the emulator."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.times: list[float] = []
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(("/v3/", "/v4/")):
            with self.lock:
                self.times.append(time.monotonic())
        await self.app(scope, receive, send)


@dataclass
class Receiver:
    event_ids: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def endpoint(self, request: Request) -> Response:
        body = await request.json()
        with self.lock:
            self.event_ids.append(body["id"])
        return JSONResponse({"ok": True})


@dataclass
class Cluster:
    replicas: list[str]
    emulator_url: str
    database_url: str
    arrivals: Arrivals
    receiver: Receiver
    _turn: Iterator[int] = field(default_factory=lambda: itertools.cycle([0, 1]))

    def next_replica(self) -> str:
        """The load balancer: each request goes to the other replica than the last."""
        return self.replicas[next(self._turn)]

    async def mint(self, end_user: str) -> str:
        async with httpx.AsyncClient(base_url=self.next_replica(), timeout=30) as client:
            response = await client.post(
                "/v1/connect-sessions",
                json={"end_user": {"id": end_user}},
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    async def widget(
        self, method: str, path: str, token: str, *, replica: int | None = None, **kwargs: Any
    ) -> httpx.Response:
        base = self.replicas[replica] if replica is not None else self.next_replica()
        headers = {"Authorization": f"Bearer {token}", "Origin": APP_ORIGIN}
        headers.update(kwargs.pop("headers", {}))
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            return await client.request(method, path, headers=headers, **kwargs)

    def stitch_sources(self) -> list[dict[str, Any]]:
        sources = httpx.get(f"{self.emulator_url}/_emulator/state").json()["sources"]
        assert isinstance(sources, list)
        return [s for s in sources if not s.get("deleted_at")]


@pytest.fixture
def cluster_overrides() -> dict[str, Any]:
    """Settings both replicas share beyond the defaults below (parametrize to change)."""
    return {}


@pytest.fixture
def cluster(pg_url: str, tmp_path: Path, cluster_overrides: dict[str, Any]) -> Iterator[Cluster]:
    arrivals = Arrivals(create_emulator(EmulatorConfig(token=STITCH_TOKEN, check_delay=2.0)))
    receiver = Receiver()
    hooks = Starlette(routes=[Route("/hooks", receiver.endpoint, methods=["POST"])])
    with ExitStack() as stack:
        emulator = stack.enter_context(serve(arrivals))
        webhooks = stack.enter_context(serve(hooks))
        urls = []
        # One after the other: each replica migrates the schema as it starts.
        for _ in range(2):
            port = free_port()
            settings = make_settings(
                emulator.url,
                port,
                tmp_path / "unused.db",
                database_url=pg_url,
                webhook_url=f"{webhooks.url}/hooks",
                webhook_secret=WEBHOOK_SECRET,
                upstream_rate=RATE,
                upstream_burst=BURST,
                **cluster_overrides,
            )
            urls.append(stack.enter_context(serve(create_app(settings), port=port)).url)
        yield Cluster(urls, emulator.url, pg_url, arrivals, receiver)


async def create(cluster: Cluster, token: str, key: str, replica: int) -> httpx.Response:
    return await cluster.widget(
        "POST",
        "/v1/sources",
        token,
        replica=replica,
        json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES},
        headers={"Idempotency-Key": key},
    )


async def test_concurrent_creations_on_both_replicas_make_one_source_per_end_user(
    cluster: Cluster,
) -> None:
    users = [f"user-{n}" for n in range(6)]
    tokens = {user: await cluster.mint(user) for user in users}
    # Per end user: a retry with the same key on each replica, and a second tab (another key).
    attempts = [
        (user, key, replica)
        for user in users
        for key, replica in (("attempt-1", 0), ("attempt-1", 1), ("attempt-2", 1))
    ]
    answers = await asyncio.gather(
        *(create(cluster, tokens[user], key, replica) for user, key, replica in attempts)
    )
    by_user: dict[str, list[httpx.Response]] = {}
    for (user, _, _), answer in zip(attempts, answers, strict=True):
        assert answer.status_code in (200, 201), answer.text
        by_user.setdefault(user, []).append(answer)
    for user, replies in by_user.items():
        ids = {reply.json()["source"]["id"] for reply in replies}
        assert len(ids) == 1, (user, [(r.status_code, r.json()["source"]["id"]) for r in replies])
        assert sorted(reply.status_code for reply in replies) == [200, 200, 201], user
    assert len(cluster.stitch_sources()) == len(users)


@pytest.mark.parametrize("cluster_overrides", [{"max_sources_per_end_user": 2}])
async def test_the_source_limit_holds_for_concurrent_creations_on_both_replicas(
    cluster: Cluster,
) -> None:
    # Different types race for real (one type's creations join each other); more keys too.
    users = [f"user-{n}" for n in range(4)]
    tokens = {user: await cluster.mint(user) for user in users}
    attempts = [
        (user, source_type, f"{source_type}-{n}")
        for user in users
        for n, source_type in enumerate(
            ["import_api", "platform.recurly", "platform.hp-postgres", "import_api", "import_api"]
        )
    ]
    answers = await asyncio.gather(
        *(
            cluster.widget(
                "POST",
                "/v1/sources",
                tokens[user],
                replica=n % 2,
                json={"type": source_type},
                headers={"Idempotency-Key": key},
            )
            for n, (user, source_type, key) in enumerate(attempts)
        )
    )
    refused = {a.json()["error"]["code"] for a in answers if a.status_code >= 400}
    assert refused == {"source_limit_reached"}, [a.text for a in answers]
    made = cluster.stitch_sources()
    assert len(made) == 2 * len(users), (
        [(a.status_code, a.text[:150]) for a in answers],
        [s["display_name"] for s in made],
    )


async def test_a_step_token_is_used_once_across_replicas(cluster: Cluster) -> None:
    token = await cluster.mint("alice")
    created = await create(cluster, token, "attempt-1", replica=0)
    assert created.status_code == 201, created.text
    step = created.json()["next_step"]["token"]

    started = await cluster.widget(
        "POST", "/v1/steps/start", token, replica=0, json={"token": step}
    )
    assert started.status_code == 200, started.text
    again = await cluster.widget("POST", "/v1/steps/start", token, replica=1, json={"token": step})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "token_used"

    completions = await asyncio.gather(
        *(
            cluster.widget("POST", "/v1/steps/complete", token, replica=n % 2, json={"token": step})
            for n in range(6)
        )
    )
    codes = sorted(answer.status_code for answer in completions)
    assert codes == [200, 409, 409, 409, 409, 409], [a.text for a in completions]


async def test_replicas_draw_from_one_upstream_budget(cluster: Cluster) -> None:
    token = await cluster.mint("bob")
    created = await create(cluster, token, "attempt-1", replica=1)
    assert created.status_code == 201, created.text
    source_id = created.json()["source"]["id"]
    cluster.arrivals.times.clear()
    reads = await asyncio.gather(
        *(cluster.widget("GET", f"/v1/sources/{source_id}", token) for _ in range(30))
    )
    assert [r.status_code for r in reads] == [200] * 30, [r.text for r in reads if r.is_error]
    times = sorted(cluster.arrivals.times)
    assert len(times) >= 30
    # No stretch of time saw more calls than one budget allows, give or take JITTER seconds of
    # delivery (all servers share this process). Each replica alone would allow this rate, so
    # two separate budgets would let through twice as many.
    for i, j in itertools.combinations(range(len(times)), 2):
        allowed = BURST + RATE * (times[j] - times[i] + JITTER)
        assert j - i + 1 <= allowed, (i, j, times[j] - times[i])
    # ...and the calls past the burst waited for the budget (the first arrival may itself
    # have been delivered up to JITTER late, which shortens the measured stretch).
    assert times[-1] - times[0] >= (len(times) - BURST - 1) / RATE - JITTER


async def test_each_event_is_delivered_once_by_the_replicas_together(cluster: Cluster) -> None:
    users = [f"hooked-{n}" for n in range(4)]
    for n, user in enumerate(users):
        token = await cluster.mint(user)
        created = await create(cluster, token, "attempt-1", replica=n % 2)
        assert created.status_code == 201, created.text
    expected = await _event_ids(cluster.database_url, delivered=None)
    assert len(expected) >= len(users)
    deadline = time.monotonic() + 30
    while await _event_ids(cluster.database_url, delivered=False):
        assert time.monotonic() < deadline, "events were not delivered in time"
        await asyncio.sleep(0.2)
    with cluster.receiver.lock:
        received = Counter(cluster.receiver.event_ids)
    assert set(received) == expected
    assert set(received.values()) == {1}


async def _event_ids(url: str, *, delivered: bool | None) -> set[str]:
    engine = create_engine(url)
    try:
        query = select(EventRow.id)
        if delivered is not None:
            column = EventRow.delivered_at
            query = query.where(column.is_not(None) if delivered else column.is_(None))
        async with engine.connect() as connection:
            return set((await connection.execute(query)).scalars())
    finally:
        await engine.dispose()


@dataclass
class SyncCluster:
    replicas: list[str]
    emulator_url: str
    database_url: str
    clock: ManualClock

    def advance(self, seconds: float) -> None:
        """Both replicas share one clock; the emulator's moves with it."""
        httpx.post(f"{self.emulator_url}/_emulator/clock", json={"advance": seconds})
        self.clock.advance(seconds)


@pytest.fixture
def sync_cluster(pg_url: str, tmp_path: Path) -> Iterator[SyncCluster]:
    clock = ManualClock()
    with ExitStack() as stack:
        emulator = stack.enter_context(
            serve(create_emulator(EmulatorConfig(token=STITCH_TOKEN, check_delay=2.0)))
        )
        urls = []
        for _ in range(2):
            port = free_port()
            settings = make_settings(
                emulator.url, port, tmp_path / "unused.db", database_url=pg_url
            )
            app = create_app(settings, clock=clock)
            urls.append(stack.enter_context(serve(app, port=port)).url)
        yield SyncCluster(urls, emulator.url, pg_url, clock)


async def _sync_events(url: str) -> list[tuple[str, str]]:
    engine = create_engine(url)
    try:
        query = select(EventRow.type, EventRow.body).where(EventRow.type.like("source.sync_%"))
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [(type, body["data"]["job_name"]) for type, body in rows]
    finally:
        await engine.dispose()


async def _polled_since(url: str, now: float) -> bool:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            polled = (await connection.execute(select(SyncLease.polled_at))).scalars().all()
        return bool(polled) and min(polled) >= now
    finally:
        await engine.dispose()


async def test_each_sync_job_is_one_event_of_each_kind_across_replicas(
    sync_cluster: SyncCluster,
) -> None:
    cluster = sync_cluster
    headers = {"Origin": APP_ORIGIN}
    async with httpx.AsyncClient(timeout=30) as client:
        minted = await client.post(
            f"{cluster.replicas[0]}/v1/connect-sessions",
            json={"end_user": {"id": "synced"}},
            headers={"Authorization": f"Bearer {API_KEY}"},
        )
        headers["Authorization"] = f"Bearer {minted.json()['token']}"
        created = await client.post(
            f"{cluster.replicas[0]}/v1/sources",
            json={"type": "platform.recurly", "properties": RECURLY_PROPERTIES},
            headers=headers,
        )
        source_id = created.json()["source"]["id"]
        cluster.advance(3)
        selected = await client.put(
            f"{cluster.replicas[1]}/v1/sources/{source_id}/streams",
            json={"streams": [{"tap_stream_id": "accounts", "selected": True}]},
            headers=headers,
        )
        assert selected.json()["source"]["status"] == "connected", selected.text
        jobs = []
        for round in range(3):
            started = await client.post(
                f"{cluster.replicas[round % 2]}/v1/sources/{source_id}/sync", headers=headers
            )
            assert started.status_code == 202, started.text
            jobs.append(started.json()["source"]["sync"]["job_name"])
            cluster.advance(61)  # the job ends; both replicas' pollers find a round due
            deadline = time.monotonic() + 20
            while ("source.sync_succeeded", jobs[-1]) not in await _sync_events(
                cluster.database_url
            ):
                assert time.monotonic() < deadline, "the job's outcome was not recorded"
                await asyncio.sleep(0.1)
        # One more round, after the last outcome was recorded: it finds every job finished
        # already, and must add nothing twice. It is over once the lease says it polled now.
        cluster.advance(61)
        now = cluster.clock.time()
        await eventually_async(
            lambda: _polled_since(cluster.database_url, now), "another round of the pollers"
        )
    events = Counter(await _sync_events(cluster.database_url))
    expected = {
        (kind, job) for job in jobs for kind in ("source.sync_started", "source.sync_succeeded")
    }
    assert set(events) == expected
    assert set(events.values()) == {1}
    # One poller for the account: a round is one extractions request, not one per replica.
    log = httpx.get(f"{cluster.emulator_url}/_emulator/requests").json()["requests"]
    extractions = [r for r in log if r["path"].endswith("/extractions")]
    # + the round after the last job; + the round when it connected, if it came in time.
    assert len(jobs) + 1 <= len(extractions) <= len(jobs) + 2


async def test_a_job_event_is_claimed_once_among_concurrent_transactions(pg_url: str) -> None:
    engine = create_engine(pg_url)
    try:
        await migrate(engine)
        db = async_sessionmaker(engine, expire_on_commit=False)

        async def claim() -> bool:
            async with db.begin() as session:
                won = await claim_job_event(session, "source.sync_succeeded", "1.2.sync.x", 1.0)
                # Holding the transaction open is the race under test, not a wait for something.
                await asyncio.sleep(0.2)
                return won

        results = await asyncio.gather(*(claim() for _ in range(6)))
        assert sorted(results) == [False] * 5 + [True]
    finally:
        await engine.dispose()
