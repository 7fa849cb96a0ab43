"""The only code that speaks HTTP to Stitch: one pooled httpx client per app, typed answers.

`StitchClient` holds the pool, the retry policy and the upstream budget; `client.account(token)`
is a cheap view that signs its calls with one account's access token. Tokens, partner secrets
and OAuth codes go into headers and bodies only: never into a log line, an exception or a repr.
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import hashlib
import importlib.metadata
import logging
import random as _random
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Final
from urllib.parse import quote

import httpx

from .budget import UnlimitedBudget, UpstreamBudget
from .destinations import DestinationCalls
from .errors import (
    StitchNotFound,
    StitchRateLimited,
    StitchTransportError,
    StitchUnavailable,
    parse_error,
    scrub,
)
from .models import (
    ConnectionCheck,
    Source,
    SourceType,
    Stream,
    parse_access_grant,
    parse_many,
    parse_one,
)
from .models import path_id as _id
from .retry import (
    NEVER_SENT_ERRORS,
    AttemptFailed,
    RetryPolicy,
    bounded_timeout,
    decode_json,
    failed_answer,
    run_with_retries,
)

log = logging.getLogger("bridge.stitch")


def _package_version() -> str:
    try:
        return importlib.metadata.version("stitch-bridge")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


DEFAULT_USER_AGENT: Final = f"stitch-bridge/{_package_version()}"


class _Unset(enum.Enum):
    UNSET = "UNSET"


UNSET: Final = _Unset.UNSET
"""`update_source(paused_at=UNSET)` leaves the pause alone; None unpauses."""


def budget_key(kind: str, credential: str) -> str:
    """A stable, non-secret name for a credential, the same on every replica."""
    return f"{kind}:{hashlib.sha256(credential.encode()).hexdigest()[:16]}"


class StitchClient:
    """Talks to the Stitch Connect API at `base_url` (the real API or the emulator).

    `sleep`, `clock` (monotonic), `wall_clock` (Unix time, for `Retry-After` dates) and `random`
    (jitter) are injected so tests neither wait nor guess; `secrets` are further values (the
    app's own keys, say) scrubbed from every error, as the call's own credentials always are.
    """

    def __init__(
        self,
        base_url: str,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout | float = 10.0,
        retry: RetryPolicy | None = None,
        budget: UpstreamBudget | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        user_agent: str = DEFAULT_USER_AGENT,
        random: Callable[[], float] = _random.random,
        wall_clock: Callable[[], float] = time.time,
        secrets: Iterable[str] = (),
        observer: Callable[[str, int | str, int, bool], None] | None = None,
        trust_env: bool = False,
    ) -> None:
        """`observer(method, outcome, attempt, will_retry)` hears of every attempt (metrics);
        `trust_env` lets HTTP(S)_PROXY, NO_PROXY and the SSL_* variables apply (off by default,
        unlike httpx: the calls carry Stitch tokens)."""
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("StitchClient base_url must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.budget: UpstreamBudget = budget or UnlimitedBudget()
        self._secrets = tuple(s for s in secrets if s)
        self._timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self._sleep = sleep
        self._clock = clock
        self._random = random
        self._wall_clock = wall_clock
        self._observer = observer
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=self._timeout,
            headers={"User-Agent": user_agent, "Accept": "application/json"},
            follow_redirects=False,
            trust_env=trust_env,
        )

    def __repr__(self) -> str:
        return f"StitchClient({self.base_url!r})"

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> StitchClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def account(self, access_token: str) -> StitchAccount:
        """A view of the client that acts as the account `access_token` belongs to."""
        if not isinstance(access_token, str) or not access_token.strip():
            raise ValueError("a Stitch access token must be a non-empty string")
        return StitchAccount(self, access_token)

    async def create_account(
        self,
        *,
        partner_id: str,
        partner_secret: str,
        first_name: str,
        last_name: str,
        company: str,
        email: str,
        region: str = "us-east-1",
    ) -> tuple[str, int]:
        """POST /v3/accounts (§2.3): a new Stitch client account → (access_token, account id)."""
        body = await self.call(
            "POST",
            "/v3/accounts",
            key=budget_key("partner", partner_id),
            json_body={
                "partner_id": partner_id,
                "partner_secret": partner_secret,
                "first_name": first_name,
                "last_name": last_name,
                "company": company,
                "email": email,
                "region": region,
            },
            secrets=(partner_secret,),
        )
        return parse_access_grant(body)

    async def exchange_partner_code(
        self,
        *,
        partner_id: str,
        partner_secret: str,
        code: str,
        redirect_uri: str | None = None,
        code_verifier: str | None = None,
    ) -> tuple[str, int]:
        """POST /oauth/token (§2.4): a single-use code → (access_token, stitch account id)."""
        form = {
            "grant_type": "authorization_code",
            "client_id": partner_id,
            "client_secret": partner_secret,
            "code": code,
        }
        if redirect_uri is not None:
            form["redirect_uri"] = redirect_uri
        if code_verifier is not None:  # PKCE; Stitch documents none, so it may ignore it
            form["code_verifier"] = code_verifier
        body = await self.call(
            "POST",
            "/oauth/token",
            key=budget_key("partner", partner_id),
            form_body=form,
            secrets=tuple(s for s in (partner_secret, code, code_verifier) if s),
        )
        return parse_access_grant(body)

    async def call(
        self,
        method: str,
        path: str,
        *,
        key: str,
        bearer: str | None = None,
        json_body: object = None,
        form_body: dict[str, str] | None = None,
        secrets: Iterable[str] = (),
        allow_empty: bool = False,
        once: bool = False,
    ) -> Any:
        """One logical call: budget, attempts, backoff; the decoded JSON answer or a StitchError.
        `once`: a single attempt, for endpoints whose every request is counted (§8.1 `jobs`).

        Public for the rare endpoint this module does not wrap; prefer the named methods.
        """
        method = method.upper()
        secrets = tuple(s for s in (bearer, *self._secrets, *secrets) if s)
        headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
        repeatable = self.retry.may_retry_after_sending(method)

        async def attempt(number: int, remaining: float) -> Any:
            await self._acquire(key, remaining)
            request = self._http.build_request(
                method,
                path,
                json=json_body,
                data=form_body,
                headers=headers,
                timeout=bounded_timeout(self._timeout, remaining),
            )
            started = self._clock()
            try:
                async with asyncio.timeout(remaining):
                    response = await self._http.send(request)
            except (httpx.RequestError, TimeoutError) as exc:
                retry = not isinstance(exc, httpx.UnsupportedProtocol) and (
                    repeatable or isinstance(exc, NEVER_SENT_ERRORS)
                )
                self._log(method, path, type(exc).__name__, number, started, retry)
                failure = StitchTransportError(_transport_message(exc, secrets))
                # Not chained: the message keeps the scrubbed detail, and a chained original
                # is one more place a credential could surface in a logged traceback.
                raise AttemptFailed(failure, retry=retry) from None
            is_json, body = decode_json(response)
            status = response.status_code
            if 200 <= status < 300 and (is_json or (allow_empty and not response.content)):
                self._log(method, path, status, number, started, False)
                return body
            failed = failed_answer(
                response,
                is_json=is_json,
                body=body,
                repeatable=repeatable,
                policy=self.retry,
                secrets=secrets,
                now=self._wall_clock(),
            )
            self._log(method, path, status, number, started, failed.retry)
            raise failed

        policy = dataclasses.replace(self.retry, attempts=1) if once else self.retry
        return await run_with_retries(
            policy, attempt, clock=self._clock, sleep=self._sleep, random=self._random
        )

    async def _acquire(self, key: str, remaining: float) -> None:
        try:
            async with asyncio.timeout(remaining):
                await self.budget.acquire(key)
        except TimeoutError:
            raise StitchRateLimited(
                "upstream request budget: no slot before the deadline", retry_after=None
            ) from None

    def _log(
        self, method: str, path: str, outcome: int | str, attempt: int, since: float, retry: bool
    ) -> None:
        # Method, path, outcome, attempt and time only: headers and bodies carry credentials.
        elapsed = self._clock() - since
        if self._observer is not None:
            self._observer(method, outcome, attempt, retry)
        if isinstance(outcome, int) and outcome < 300:
            level = logging.DEBUG
        elif isinstance(outcome, int) and outcome < 500 and outcome != 429:
            level = logging.INFO
        else:
            level = logging.WARNING
        fields = {"method": method, "path": path, "status": outcome, "attempt": attempt}
        log.log(
            level,
            "stitch %s %s -> %s (attempt %d, %.3fs%s)",
            *(method, path, outcome, attempt, elapsed, ", retryable" if retry else ""),
            extra={**fields, "elapsed": round(elapsed, 6)},
        )


class StitchAccount(DestinationCalls):
    """The Connect API as one account sees it; shares its client's pool, retry policy and budget."""

    __slots__ = ("_client", "_token", "budget_key")

    def __init__(self, client: StitchClient, access_token: str) -> None:
        self._client = client
        self._token = access_token
        self.budget_key = budget_key("account", access_token)

    def __repr__(self) -> str:
        return f"StitchAccount({self._client.base_url!r}, budget_key={self.budget_key!r})"

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        return await self._client.call(
            method, path, key=self.budget_key, bearer=self._token, **kwargs
        )

    async def list_source_types(self) -> list[SourceType]:
        body = await self._call("GET", "/v4/source-types")
        return parse_many(body, SourceType.from_json, "source types")

    async def get_source_type(self, source_type: str) -> SourceType:
        body = await self._call("GET", f"/v4/source-types/{quote(source_type, safe='')}")
        return parse_one(body, SourceType.from_json, "source type")

    async def create_source(
        self, *, type: str, display_name: str, properties: dict[str, Any] | None = None
    ) -> Source:
        """POST /v4/sources. Never repeated once it may have been sent: a lost answer is for the
        caller to reconcile (by listing sources), not for us to turn into a second source."""
        payload: dict[str, Any] = {"type": type, "display_name": display_name}
        if properties is not None:
            payload["properties"] = properties
        body = await self._call("POST", "/v4/sources", json_body=payload)
        return parse_one(body, Source.from_json, "source")

    async def list_sources(self) -> list[Source]:
        body = await self._call("GET", "/v4/sources")
        return parse_many(body, Source.from_json, "sources")

    async def get_source(self, source_id: int) -> Source:
        body = await self._call("GET", f"/v4/sources/{_id(source_id)}")
        return parse_one(body, Source.from_json, "source")

    async def update_source(
        self,
        source_id: int,
        *,
        display_name: str | None = None,
        properties: dict[str, Any] | None = None,
        paused_at: str | datetime | None | _Unset = UNSET,
    ) -> Source:
        """PUT /v4/sources/{id}: only the keys given are sent; Stitch merges `properties`."""
        payload: dict[str, Any] = {}
        if display_name is not None:
            payload["display_name"] = display_name
        if properties is not None:
            payload["properties"] = properties
        if paused_at is not UNSET:
            payload["paused_at"] = _timestamp(paused_at)
        body = await self._call("PUT", f"/v4/sources/{_id(source_id)}", json_body=payload)
        return parse_one(body, Source.from_json, "source")

    async def delete_source(self, source_id: int) -> Source:
        body = await self._call("DELETE", f"/v4/sources/{_id(source_id)}")
        return parse_one(body, Source.from_json, "source")

    async def last_connection_check(self, source_id: int) -> ConnectionCheck | None:
        """The latest check, or None when Stitch has none for the source (404)."""
        try:
            body = await self._call("GET", f"/v4/sources/{_id(source_id)}/last-connection-check")
        except StitchNotFound as exc:
            if exc.status == 404:
                return None
            raise
        return parse_one(body, ConnectionCheck.from_json, "connection check")

    async def list_streams(self, source_id: int) -> list[Stream]:
        body = await self._call("GET", f"/v4/sources/{_id(source_id)}/streams")
        return parse_many(body, Stream.from_json, "streams")

    async def get_stream_schema(self, source_id: int, stream_id: int) -> dict[str, Any]:
        """The Stream Schema object as Stitch sends it (its `schema` is a JSON *string*, §4.9)."""
        body = await self._call("GET", f"/v4/sources/{_id(source_id)}/streams/{_id(stream_id)}")
        if not isinstance(body, dict):
            raise StitchUnavailable("unexpected stream schema from Stitch: not a JSON object")
        return body

    async def update_stream_metadata(self, source_id: int, streams: list[dict[str, Any]]) -> None:
        """PUT …/streams/metadata; `streams` is `[{"tap_stream_id", "metadata": [...]}]` (§5.4)."""
        await self._call(
            "PUT",
            f"/v4/sources/{_id(source_id)}/streams/metadata",
            json_body={"streams": streams},
            allow_empty=True,
        )

    async def start_sync(self, source_id: int) -> str:
        """POST …/sync → job name; StitchAlreadyRunning if one runs (Stitch says so with 200)."""
        body = await self._call("POST", f"/v4/sources/{_id(source_id)}/sync")
        if isinstance(body, dict) and "error" in body:
            raise parse_error(200, body, secrets=(self._token, *self._client._secrets))
        if not isinstance(body, dict) or not isinstance(body.get("job_name"), str):
            raise StitchUnavailable("unexpected replication job from Stitch: no job_name")
        return str(body["job_name"])

    async def stop_sync(self, source_id: int) -> None:
        """DELETE …/sync (§5.5): stops the running job; nothing running is no error."""
        await self._call("DELETE", f"/v4/sources/{_id(source_id)}/sync", allow_empty=True)

    async def jobs_page(
        self, stitch_client_id: int, kind: str, page: int
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of GET /v4/{client}/extractions or /loads (§5.6) → (items, more pages?).

        Each page is one request of the `jobs` resource type (30 per 10 minutes per account):
        the caller counts them."""
        if kind not in ("extractions", "loads"):
            raise ValueError("kind is extractions or loads")
        path = f"/v4/{_id(stitch_client_id)}/{kind}?page={_id(page)}"
        body = await self._call("GET", path, once=True)
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise StitchUnavailable(f"unexpected {kind} page from Stitch: no data")
        links = body.get("links")
        more = isinstance(links, dict) and bool(links.get("next"))
        return [item for item in data if isinstance(item, dict)], more

    async def create_ephemeral_token(self) -> str:
        """POST /v3/sessions/ephemeral: a one-hour token that logs Stitch.js into this account."""
        body = await self._call("POST", "/v3/sessions/ephemeral")
        if not isinstance(body, dict) or not isinstance(body.get("ephemeral_token"), str):
            raise StitchUnavailable("unexpected ephemeral session from Stitch: no ephemeral_token")
        return str(body["ephemeral_token"])


def _transport_message(exc: BaseException, secrets: Iterable[str]) -> str:
    kind = "timed out" if isinstance(exc, (httpx.TimeoutException, TimeoutError)) else "failed"
    detail = scrub(str(exc), secrets)
    return f"request to Stitch {kind} ({type(exc).__name__}{': ' + detail if detail else ''})"


def _timestamp(value: str | datetime | None) -> str | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("paused_at must be timezone-aware")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return value
