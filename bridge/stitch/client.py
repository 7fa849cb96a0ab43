"""The only code that speaks HTTP to Stitch: one pooled connection per app, typed answers.

Calls are httpx requests handed straight to a transport: aiohttp's pool on the network
(`wire.py`), or whatever a test plugs in. `StitchClient` holds the transport, the retry policy
and the upstream budget; `client.account(token)`
is a cheap view that signs its calls with one account's access token. Tokens, partner secrets
and OAuth codes go into headers and bodies only: never into a log line, an exception or a repr.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import importlib.metadata
import logging
import random as _random
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Final

import httpx

from .account import StitchAccount, budget_key
from .budget import UnlimitedBudget, UpstreamBudget
from .errors import (
    StitchRateLimited,
    StitchTransportError,
    scrub,
)
from .models import (
    parse_access_grant,
)
from .retry import (
    NEVER_SENT_ERRORS,
    AttemptFailed,
    RetryPolicy,
    bounded_timeout,
    decode_json,
    failed_answer,
    run_with_retries,
)
from .wire import AiohttpTransport

# StitchAccount is re-exported: callers type their accounts from here, beside the client.
__all__ = ["DEFAULT_USER_AGENT", "StitchAccount", "StitchClient", "budget_key"]

log = logging.getLogger("bridge.stitch")


def _package_version() -> str:
    try:
        return importlib.metadata.version("stitch-bridge")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


DEFAULT_USER_AGENT: Final = f"stitch-bridge/{_package_version()}"


@dataclasses.dataclass(frozen=True)
class _Request:
    """One logical call as every attempt of it sends it; `secrets` are scrubbed from errors."""

    method: str
    path: str
    key: str
    headers: dict[str, str]
    json_body: object
    form_body: dict[str, str] | None
    secrets: tuple[str, ...]
    allow_empty: bool
    repeatable: bool

    def __repr__(self) -> str:  # headers and secrets hold credentials
        return f"_Request({self.method} {self.path})"


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
        # The transport is called directly: httpx's client layer (URL and header merging,
        # cookies, auth and redirect hooks, none of which a Stitch call uses) cost a third of
        # a widget poll's call to Stitch.
        self._transport = transport or AiohttpTransport(trust_env=trust_env)
        self._headers = {
            "User-Agent": user_agent,
            "Accept": "application/json",
            "Accept-Encoding": "gzip, deflate",
        }

    def __repr__(self) -> str:
        return f"StitchClient({self.base_url!r})"

    async def aclose(self) -> None:
        await self._transport.aclose()

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
        request = _Request(
            method=method.upper(),
            path=path,
            key=key,
            headers={"Authorization": f"Bearer {bearer}"} if bearer else {},
            json_body=json_body,
            form_body=form_body,
            secrets=tuple(s for s in (bearer, *self._secrets, *secrets) if s),
            allow_empty=allow_empty,
            repeatable=self.retry.may_retry_after_sending(method.upper()),
        )
        policy = dataclasses.replace(self.retry, attempts=1) if once else self.retry
        return await run_with_retries(
            policy,
            functools.partial(self._attempt, request),
            clock=self._clock,
            sleep=self._sleep,
            random=self._random,
        )

    async def _attempt(self, req: _Request, number: int, remaining: float) -> Any:
        """One attempt of `req`: its answer, or AttemptFailed saying whether to try again."""
        await self._acquire(req.key, remaining)
        request = httpx.Request(
            req.method,
            self.base_url + req.path,
            json=req.json_body,
            data=req.form_body,
            headers={**self._headers, **req.headers},
            extensions={"timeout": bounded_timeout(self._timeout, remaining).as_dict()},
        )
        started = self._clock()
        try:
            async with asyncio.timeout(remaining):
                response = await self._transport.handle_async_request(request)
                try:
                    await response.aread()
                finally:
                    await response.aclose()
        except (httpx.RequestError, TimeoutError) as exc:
            retry = not isinstance(exc, httpx.UnsupportedProtocol) and (
                req.repeatable or isinstance(exc, NEVER_SENT_ERRORS)
            )
            self._log(req.method, req.path, type(exc).__name__, number, started, retry)
            failure = StitchTransportError(_transport_message(exc, req.secrets))
            # Not chained: the message keeps the scrubbed detail, and a chained original
            # is one more place a credential could surface in a logged traceback.
            raise AttemptFailed(failure, retry=retry) from None
        is_json, body = decode_json(response)
        status = response.status_code
        if 200 <= status < 300 and (is_json or (req.allow_empty and not response.content)):
            self._log(req.method, req.path, status, number, started, False)
            return body
        failed = failed_answer(
            response,
            is_json=is_json,
            body=body,
            repeatable=req.repeatable,
            policy=self.retry,
            secrets=req.secrets,
            now=self._wall_clock(),
        )
        self._log(req.method, req.path, status, number, started, failed.retry)
        raise failed

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


def _transport_message(exc: BaseException, secrets: Iterable[str]) -> str:
    kind = "timed out" if isinstance(exc, (httpx.TimeoutException, TimeoutError)) else "failed"
    detail = scrub(str(exc), secrets)
    return f"request to Stitch {kind} ({type(exc).__name__}{': ' + detail if detail else ''})"
