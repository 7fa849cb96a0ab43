"""`Client`: the blocking client for a SaaS backend (API key, server to server)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import TypeVar

import httpx

from stitch_bridge_client import _calls as calls
from stitch_bridge_client._calls import NOT_GIVEN, EndUser, _NotGiven
from stitch_bridge_client._http import (
    DEFAULT_MAX_RETRIES,
    DEFAULT_TIMEOUT,
    Call,
    backoff,
    client_headers,
    connection_error,
    error_from,
    result,
    retry_after_seconds,
    should_retry,
)
from stitch_bridge_client._models import (
    ConnectLink,
    ConnectSession,
    Event,
    EventPage,
    Receipt,
    Source,
)

T = TypeVar("T")


class Client:
    """Talks to the bridge with an API key (`BRIDGE_API_KEYS`).

    Safe calls are retried up to `max_retries` times on timeouts, connection failures and
    429/502/503/504, with jittered exponential backoff that honours `Retry-After`; creates carry
    one `Idempotency-Key` across their attempts. Use it as a context manager, or `close()` it.
    `transport` replaces the network (tests: `httpx.MockTransport`); `headers` are added to
    every request (e.g. a fixed `X-Request-ID`).
    """

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        transport: httpx.BaseTransport | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.max_retries = max_retries
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=client_headers(api_key, headers),
            timeout=timeout,
            transport=transport,
        )
        self._sleep: Callable[[float], None] = time.sleep
        self.sessions = Sessions(self)
        self.links = Links(self)
        self.end_users = EndUsers(self)
        self.events = Events(self)
        self.receipts = Receipts(self)

    def close(self) -> None:
        """Close the connections this client holds."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _run(self, call: Call[T]) -> T:
        attempt = 0
        while True:
            try:
                response: httpx.Response | None = self._http.request(
                    call.method,
                    call.path,
                    params=call.params,
                    json=call.json,
                    headers=call.request_headers(),
                )
            except httpx.TransportError as exc:
                if not should_retry(call, None, attempt, self.max_retries):
                    raise connection_error(exc) from exc
                response = None
            if response is not None and not should_retry(call, response, attempt, self.max_retries):
                return result(call, response)
            wait = backoff(attempt, retry_after_seconds(response) if response else None)
            if wait is None:
                assert response is not None
                raise error_from(response)
            self._sleep(wait)
            attempt += 1


class _Resource:
    def __init__(self, client: Client) -> None:
        self._client = client


class Sessions(_Resource):
    """Connect sessions: what the widget's `fetchSession` hands to the browser."""

    def create(
        self,
        *,
        end_user: EndUser,
        tenant: str | None = None,
        source_types: Sequence[str] | None = None,
        source_id: int | None = None,
        ttl: int | None = None,
        actions: Sequence[str] | None = None,
        idempotency_key: str | None = None,
    ) -> ConnectSession:
        """Mint a session for `end_user` (an id, or `{"id", "name"?, "email"?}`).

        `tenant` is required in partner mode; `source_types` limits what may be connected;
        `source_id` scopes it to reconnecting that source; `ttl` is its lifetime in seconds;
        `actions` is what the end user may do after connecting (`sync`, `schedule`, `pause`).
        """
        call = calls.create_session(
            end_user, tenant, source_types, source_id, ttl, actions, idempotency_key
        )
        return self._client._run(call)


class Links(_Resource):
    """Hosted connect links: a URL the end user opens on any device."""

    def create(
        self,
        *,
        end_user: EndUser,
        tenant: str | None = None,
        source_types: Sequence[str] | None = None,
        source_id: int | None = None,
        return_url: str | None = None,
        expires_in: int | None = None,
        idempotency_key: str | None = None,
    ) -> ConnectLink:
        """Make a link; `return_url` (on an allowed origin) gets `stitch_bridge_receipt`."""
        call = calls.create_link(
            end_user, tenant, source_types, source_id, return_url, expires_in, idempotency_key
        )
        return self._client._run(call)


class EndUsers(_Resource):
    """An end user's sources, and what the SaaS may do with them after connecting (§4.8)."""

    def sources(self, end_user_id: str, tenant: str | None = None) -> list[Source]:
        """Every source of the end user, as Stitch has it now (deleted ones included)."""
        return self._client._run(calls.list_sources(end_user_id, tenant))

    def delete_source(self, end_user_id: str, source_id: int, tenant: str | None = None) -> None:
        """Delete the source, in Stitch too."""
        self._client._run(calls.delete_source(end_user_id, source_id, tenant))

    def sync(self, end_user_id: str, source_id: int, tenant: str | None = None) -> Source:
        """Start a replication job now; `ConflictError` (`sync_already_running`,
        `source_not_ready`) when it cannot."""
        return self._client._run(
            calls.source_action("POST", end_user_id, source_id, "sync", tenant)
        )

    def stop_sync(self, end_user_id: str, source_id: int, tenant: str | None = None) -> Source:
        """Stop the running replication job."""
        call = calls.source_action("DELETE", end_user_id, source_id, "sync", tenant)
        return self._client._run(call)

    def pause(self, end_user_id: str, source_id: int, tenant: str | None = None) -> Source:
        """Pause the source's scheduled replication (idempotent)."""
        call = calls.source_action("POST", end_user_id, source_id, "pause", tenant)
        return self._client._run(call)

    def unpause(self, end_user_id: str, source_id: int, tenant: str | None = None) -> Source:
        """Resume the source's scheduled replication (idempotent)."""
        call = calls.source_action("POST", end_user_id, source_id, "unpause", tenant)
        return self._client._run(call)

    def set_schedule(
        self,
        end_user_id: str,
        source_id: int,
        *,
        frequency_in_minutes: int | _NotGiven = NOT_GIVEN,
        anchor_time: str | None | _NotGiven = NOT_GIVEN,
        cron_expression: str | None | _NotGiven = NOT_GIVEN,
        tenant: str | None = None,
    ) -> Source:
        """Change the schedule; only the arguments given are sent (None clears a field)."""
        call = calls.set_schedule(
            end_user_id, source_id, tenant, frequency_in_minutes, anchor_time, cron_expression
        )
        return self._client._run(call)


class Events(_Resource):
    """The bridge's events (the webhook bodies), newest first."""

    def list(
        self,
        *,
        type: str | None = None,
        end_user_id: str | None = None,
        tenant: str | None = None,
        source_id: int | None = None,
        starting_after: str | None = None,
        page_size: int | None = None,
    ) -> Iterator[Event]:
        """Every matching event, fetching page after page as the iteration goes."""
        after = starting_after
        while True:
            page = self.list_page(
                type=type,
                end_user_id=end_user_id,
                tenant=tenant,
                source_id=source_id,
                starting_after=after,
                limit=page_size,
            )
            yield from page.data
            if not page.has_more or not page.data:
                return
            after = page.data[-1].id

    def list_page(
        self,
        *,
        limit: int | None = None,
        starting_after: str | None = None,
        type: str | None = None,
        end_user_id: str | None = None,
        tenant: str | None = None,
        source_id: int | None = None,
    ) -> EventPage:
        """One page of events (`limit` 1–100, default 20)."""
        call = calls.list_events_page(limit, starting_after, type, end_user_id, tenant, source_id)
        return self._client._run(call)

    def get(self, event_id: str) -> Event:
        """One event by id; `NotFoundError` when there is none."""
        return self._client._run(calls.get_event(event_id))

    def redeliver(self, event_id: str) -> None:
        """Queue the event for delivery to the webhook again (the same id)."""
        self._client._run(calls.redeliver_event(event_id))


class Receipts(_Resource):
    """Receipts the widget hands the page when a source is connected."""

    def verify(self, receipt: str) -> Receipt:
        """Check a receipt with the bridge; `ReceiptInvalidError` when it is not genuine.
        Compare `end_user_id` with the signed-in user before believing it."""
        return self._client._run(calls.verify_receipt(receipt))
