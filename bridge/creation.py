"""Creating a Stitch source for an end user without ever making two.

An intent is written before Stitch is asked. The Stitch display name carries the intent's
reference, so the source can be found again by name when an answer is lost (timeout, crash),
and Stitch's own name uniqueness refuses a second source for the same intent. One creation per
end user and type is in flight at a time (a unique index), so double clicks and second tabs join
the first instead of racing it; and an unfinished source of the same type is resumed, not doubled.
An end user's intents are written one at a time under a lock, after counting their live sources
and creations in flight, so BRIDGE_MAX_SOURCES_PER_END_USER holds across requests and replicas.

A request is a small state machine (`_Creation`): look at what the key and the end user already
have; settle an earlier intent of the key; resume an unfinished source; claim an intent; wait
for another creation; call Stitch. Every transition is one method; the walk is bounded by
MAX_STEPS, and every wait by one deadline taken when the request began.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bridge.admission import Ticket
from bridge.catalogue import display_name_for
from bridge.clock import new_id
from bridge.errors import BridgeError
from bridge.intents import adopt, create_upstream, reconcile_intent
from bridge.ownership import tenant_key
from bridge.services import Services
from bridge.sources import observe
from bridge.stitch.models import Source
from bridge.stitchjs_gate import ephemeral_tokens_allowed, refusal
from bridge.store import queries as q
from bridge.store import source_queries as sq
from bridge.store.creation_queries import IntentClaim, claim_intent, insert_intent
from bridge.store.tables import CreationIntent, SourceRow
from bridge.tokens import ConnectSession

# Longer than any one create call may take (the client's deadline is 25 s).
LEASE_SECONDS = 30.0
JOIN_WAIT_SECONDS = 20.0
# Each transition either ends the request or moves past something that cannot come back
# (a wait, a resumed source found deleted): a legitimate walk is a handful of steps.
MAX_STEPS = 32
POLL_SECONDS = 0.1
_REF_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


@dataclass(frozen=True)
class Created:
    row: SourceRow
    upstream: Source | None
    created: bool  # False when an earlier request (same key, or an unfinished source) answered


# -- the states -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Look:
    """What do the key and the end user already have?"""


@dataclass(frozen=True)
class _Settle:
    """The key has an intent: answer with its source, or find out whether to create again."""

    intent: CreationIntent


@dataclass(frozen=True)
class _Resume:
    """An unfinished source of this type: carry the new input to it instead of doubling."""

    source_id: int


@dataclass(frozen=True)
class _Claim:
    """Write this request's intent (under the end user's lock)."""


@dataclass(frozen=True)
class _Wait:
    """Another creation of this end user and type is in flight: wait for it to end."""


@dataclass(frozen=True)
class _Call:
    """The intent is ours: ask Stitch."""

    intent: CreationIntent


@dataclass(frozen=True)
class _Done:
    created: Created


_State = _Look | _Settle | _Resume | _Claim | _Wait | _Call | _Done


def stitch_names(display_name: str) -> tuple[str, str]:
    """(display name sent to Stitch, schema name Stitch derives from it) for a new intent."""
    ref = "sb" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(8))
    base = re.sub(r"[^A-Za-z0-9 ]+", " ", display_name)
    base = re.sub(r"\s+", " ", base).strip()[:30].strip() or "Source"
    stitch_display = f"{base} {ref}"
    return stitch_display, stitch_display.lower().replace(" ", "_")


async def create_source(
    services: Services,
    cs: ConnectSession,
    *,
    source_type: str,
    display_name: str | None,
    properties: dict[str, Any] | None,
    idempotency_key: str | None,
    ticket: Ticket | None = None,
) -> Created:
    _check_session(cs, source_type)
    await _refuse_stitchjs_only(services, cs, source_type)
    creation = _Creation(
        services,
        cs,
        source_type=source_type,
        display_name=display_name,
        properties=properties,
        key=idempotency_key or new_id("auto", 16),
        deadline=time.monotonic() + JOIN_WAIT_SECONDS,  # real waiting, whatever the clock says
        ticket=ticket,
    )
    state: _State = _Look()
    for _ in range(MAX_STEPS):
        state = await creation.step(state)
        if isinstance(state, _Done):
            return state.created
    raise _still_in_progress()


def _check_session(cs: ConnectSession, source_type: str) -> None:
    if cs.source_id is not None:
        raise BridgeError(
            "invalid_request",
            f"this connect session is for source {cs.source_id} only; it cannot create sources",
        )
    if cs.source_types is not None and source_type not in cs.source_types:
        raise BridgeError(
            "source_type_not_allowed", f"this session may not connect {source_type!r} sources"
        )


def _still_in_progress() -> BridgeError:
    return BridgeError(
        "upstream_unavailable",
        "an earlier attempt to create this source is still in progress",
        variant="timeout",
    )


async def _refuse_stitchjs_only(services: Services, cs: ConnectSession, source_type: str) -> None:
    """A type one of whose steps only Stitch.js can run is not connected where that would hand
    the browser a login to a shared account (the widget's list leaves it out already)."""
    settings = services.settings
    if ephemeral_tokens_allowed(settings):
        return
    account = await services.account_for(cs.tenant)
    types = await services.source_types.get(cs.tenant or "", account)
    known = next((t for t in types if t.type == source_type and t.report_card), None)
    if known is not None and known.report_card is not None:
        reason = refusal(settings, source_type, known.report_card.step_types)
        if reason is not None:
            raise BridgeError("source_type_not_allowed", reason)


class _Creation:
    """One request's walk through the states; each method is one transition."""

    def __init__(
        self,
        services: Services,
        cs: ConnectSession,
        *,
        source_type: str,
        display_name: str | None,
        properties: dict[str, Any] | None,
        key: str,
        deadline: float,
        ticket: Ticket | None = None,
    ) -> None:
        self.services = services
        self.ticket = ticket
        self.cs = cs
        self.tenant = tenant_key(cs.tenant)
        self.source_type = source_type
        self.display_name = display_name
        self.name = display_name or display_name_for(source_type)  # the bridge's, not Stitch's
        self.properties = properties
        self.key = key
        self.deadline = deadline

    async def step(self, state: _State) -> _State:
        if self.ticket is not None and not isinstance(state, _Look | _Claim):
            # Prepared: what is left calls Stitch or waits (for an upstream slot, for another
            # request's creation), and does so with the others, out of the admission line.
            self.ticket.leave()
        if isinstance(state, _Look):
            return await self.look()
        if isinstance(state, _Settle):
            return await self.settle(state.intent)
        if isinstance(state, _Resume):
            return await self.resume(state.source_id)
        if isinstance(state, _Claim):
            return await self.claim()
        if isinstance(state, _Wait):
            return await self.wait()
        if isinstance(state, _Call):
            return await self.call(state.intent)
        return state

    async def look(self) -> _State:
        """One transaction under the end user's lock: what the key and the end user already
        have and, when nothing, this request's intent claimed at once (the common case: a
        new creation costs this and the adoption, not a look and then a claim)."""
        async with self.services.db.begin() as session:
            await q.lock_end_user(session, self.tenant, self.cs.end_user_id)
            intent = await q.intent_by_key(session, self.tenant, self.cs.end_user_id, self.key)
            if intent is not None:
                if intent.type != self.source_type:
                    raise BridgeError(
                        "invalid_request",
                        "this Idempotency-Key was already used for another source type",
                        details={"Idempotency-Key": "reused for a different request"},
                    )
                return _Settle(intent)
            unfinished = await q.unfinished_source(
                session, self.tenant, self.cs.end_user_id, self.source_type
            )
            if unfinished is not None:
                return _Resume(unfinished.id)
            return await self._claimed(session, await insert_intent(session, self._wanted()))

    async def settle(self, intent: CreationIntent) -> _State:
        """The answer for a repeated key, or on to (re)create it."""
        if intent.state == "created" and intent.source_id is not None:
            async with self.services.db() as session:
                row = await q.get_source(session, intent.source_id)
            if row is not None:
                return _Done(Created(row=row, upstream=None, created=False))
            return _Claim()
        if intent.state == "failed":
            return _Claim()
        # Pending: someone is creating it now, or crashed while doing so. If Stitch has the
        # source already, adopting it is safe either way (the creator would adopt the same one).
        adopted = await reconcile_intent(self.services, intent)
        if adopted is not None:
            return _Done(Created(row=adopted, upstream=None, created=False))
        if intent.lease_until > self.services.clock.time():
            await self._join_pending()
        return _Claim()

    def _wanted(self) -> IntentClaim:
        """This request's intent, under a fresh Stitch name."""
        now = self.services.clock.time()
        stitch_display, stitch_name = stitch_names(self.name)
        return IntentClaim(
            tenant=self.tenant,
            end_user_id=self.cs.end_user_id,
            idempotency_key=self.key,
            type=self.source_type,
            display_name=self.name,
            stitch_display_name=stitch_display,
            stitch_name=stitch_name,
            session_id=self.cs.id,
            now=now,
            lease_until=now + LEASE_SECONDS,
        )

    async def claim(self) -> _State:
        """Claim again after settling an earlier intent of the key (failed, or its source gone)."""
        wanted = self._wanted()
        async with self.services.db.begin() as session:
            return await self._claimed(session, await claim_intent(session, wanted))

    async def _claimed(self, session: AsyncSession, intent: CreationIntent | None) -> _State:
        """Where an intent claimed in `session`, under the end user's lock, leads; the caller's
        transaction commits the claim on the way out (or rolls it back on a refusal)."""
        if intent is None:
            return _Wait()  # this end user is creating this type right now: join it
        resume = await self._resume_instead(session)
        if resume is not None:
            return resume
        await self._refuse_past_limit(session)
        return _Call(intent)

    async def _resume_instead(self, session: AsyncSession) -> _Resume | None:
        """Looked at after this request's intent was written, in its transaction: adopting a
        source (another request's, another replica's, the reconciler's) does not take the end
        user's lock, so a pending creation of this type may have become an unfinished source
        since the last look. The write then met no pending intent to conflict with; that
        source is resumed instead and this intent is not kept."""
        unfinished = await q.unfinished_source(
            session, self.tenant, self.cs.end_user_id, self.source_type
        )
        if unfinished is None:
            return None
        source_id = unfinished.id
        await session.rollback()
        return _Resume(source_id)

    async def _refuse_past_limit(self, session: AsyncSession) -> None:
        """Called under the end user's lock, after this intent's write: it counts itself."""
        limit = self.services.settings.max_sources_per_end_user
        if await q.count_live_sources(session, self.tenant, self.cs.end_user_id) > limit:
            raise BridgeError(
                "source_limit_reached",
                f"this end user already has the most sources allowed ({limit}); "
                "delete one to connect another",
            )

    async def wait(self) -> _State:
        if time.monotonic() > self.deadline:
            raise _still_in_progress()
        await asyncio.sleep(POLL_SECONDS)
        await self._join_pending()
        return _Look()

    async def _join_pending(self) -> None:
        """Until the pending creation of this type ends (or its lease does), or the deadline."""
        services = self.services
        while time.monotonic() < self.deadline:
            async with services.db() as session:
                pending = await q.pending_intent(
                    session, self.tenant, self.cs.end_user_id, self.source_type
                )
            if pending is None:
                return
            if pending.lease_until <= services.clock.time():
                await reconcile_intent(services, pending)
                return
            await asyncio.sleep(POLL_SECONDS)

    async def resume(self, source_id: int) -> _State:
        """Carry the new input to the unfinished source; look again when Stitch has deleted it
        meanwhile (the record now says so, so it is not found again)."""
        services = self.services
        account = await services.account_for(self.cs.tenant)
        if self.properties:
            upstream = await account.update_source(source_id, properties=self.properties)
        else:
            upstream = await account.get_source(source_id)
        async with services.db.begin() as session:
            row = await sq.lock_source(session, source_id)
            if row is None:
                return _Look()
            if upstream.deleted_at is None and self.display_name:
                if self.display_name != row.display_name:
                    row.display_name = self.display_name
            await observe(services, session, row, upstream)
        if upstream.deleted_at is not None:
            return _Look()
        return _Done(Created(row=row, upstream=upstream, created=False))

    async def call(self, intent: CreationIntent) -> _State:
        account = await self.services.account_for(self.cs.tenant)
        upstream = await create_upstream(self.services, account, intent, self.properties)
        row = await adopt(self.services, intent, upstream)
        self.services.metrics.sources_created.inc()
        return _Done(Created(row=row, upstream=upstream, created=True))
