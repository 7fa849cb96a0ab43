"""Creating a Stitch source for an end user without ever making two.

An intent is written before Stitch is asked. The Stitch display name carries the intent's
reference, so the source can be found again by name when an answer is lost (timeout, crash),
and Stitch's own name uniqueness refuses a second source for the same intent. One creation per
end user and type is in flight at a time (a unique index), so double clicks and second tabs join
the first instead of racing it; and an unfinished source of the same type is resumed, not doubled.
An end user's intents are written one at a time under a lock, after counting their live sources
and creations in flight, so BRIDGE_MAX_SOURCES_PER_END_USER holds across requests and replicas.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridge.catalogue import display_name_for
from bridge.clock import new_id
from bridge.errors import BridgeError
from bridge.ownership import tenant_key
from bridge.services import Services
from bridge.sources import observe, record_event
from bridge.stitch import errors as stitch_errors
from bridge.stitch.client import StitchAccount
from bridge.stitch.models import Source
from bridge.stitchjs_gate import ephemeral_tokens_allowed, refusal
from bridge.store import queries as q
from bridge.store.tables import CreationIntent, SourceRow
from bridge.tokens import ConnectSession

# Longer than any one create call may take (the client's deadline is 25 s).
LEASE_SECONDS = 30.0
JOIN_WAIT_SECONDS = 20.0
_REF_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


@dataclass(frozen=True)
class Created:
    row: SourceRow
    upstream: Source | None
    created: bool  # False when an earlier request (same key, or an unfinished source) answered


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
) -> Created:
    if cs.source_id is not None:
        raise BridgeError(
            "invalid_request",
            f"this connect session is for source {cs.source_id} only; it cannot create sources",
        )
    if cs.source_types is not None and source_type not in cs.source_types:
        raise BridgeError(
            "source_type_not_allowed", f"this session may not connect {source_type!r} sources"
        )
    await _refuse_stitchjs_only(services, cs, source_type)
    tenant = tenant_key(cs.tenant)
    key = idempotency_key or new_id("auto", 16)
    name = display_name or display_name_for(source_type)
    deadline = time.monotonic() + JOIN_WAIT_SECONDS  # real waiting, whatever the clock says

    while True:
        async with services.db() as session:
            intent = await q.intent_by_key(session, tenant, cs.end_user_id, key)
        if intent is not None:
            if intent.type != source_type:
                raise BridgeError(
                    "invalid_request",
                    "this Idempotency-Key was already used for another source type",
                    details={"Idempotency-Key": "reused for a different request"},
                )
            outcome = await _settle(services, cs, intent)
            if outcome is not None:
                return outcome
        else:
            async with services.db() as session:
                unfinished = await q.unfinished_source(session, tenant, cs.end_user_id, source_type)
            if unfinished is not None:
                resumed = await _resume(services, cs, unfinished, display_name, properties)
                if resumed is not None:
                    return resumed
                continue  # it was deleted in Stitch meanwhile: create a new one
        try:
            intent = await _begin(services, cs, key, source_type, name)
        except _Unfinished as unfinished:
            async with services.db() as session:
                row = await q.get_source(session, unfinished.source_id)
            if row is not None:
                resumed = await _resume(services, cs, row, display_name, properties)
                if resumed is not None:
                    return resumed
            continue
        except IntegrityError:
            # Another request of this end user is creating this type right now: join it.
            if time.monotonic() > deadline:
                raise BridgeError(
                    "upstream_unavailable",
                    "an earlier attempt to create this source is still in progress",
                    variant="timeout",
                ) from None
            await asyncio.sleep(0.1)
            await _join_pending(services, cs, source_type, deadline)
            continue
        return await _call_stitch(services, cs, intent, properties)


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


async def _refuse_past_limit(services: Services, session: AsyncSession, cs: ConnectSession) -> None:
    """Called under the end user's lock, after this intent's write: it counts itself."""
    limit = services.settings.max_sources_per_end_user
    if await q.count_live_sources(session, tenant_key(cs.tenant), cs.end_user_id) > limit:
        raise BridgeError(
            "source_limit_reached",
            f"this end user already has the most sources allowed ({limit}); "
            "delete one to connect another",
        )


async def _begin(
    services: Services, cs: ConnectSession, key: str, source_type: str, name: str
) -> CreationIntent:
    now = services.clock.time()
    stitch_display, stitch_name = stitch_names(name)
    async with services.db.begin() as session:
        await q.lock_end_user(session, tenant_key(cs.tenant), cs.end_user_id)
        existing = await q.intent_by_key(session, tenant_key(cs.tenant), cs.end_user_id, key)
        if existing is not None:
            # A failed attempt with this key: try again under a fresh Stitch name.
            result = await session.execute(
                update(CreationIntent)
                .where(CreationIntent.id == existing.id, CreationIntent.state == "failed")
                .values(
                    state="pending",
                    display_name=name,
                    stitch_display_name=stitch_display,
                    stitch_name=stitch_name,
                    lease_until=now + LEASE_SECONDS,
                    session_id=cs.id,
                )
            )
            if getattr(result, "rowcount", 0) != 1:
                raise IntegrityError("intent busy", None, Exception("not failed"))
            await session.refresh(existing)
            await _refuse_if_unfinished(session, cs, source_type)
            await _refuse_past_limit(services, session, cs)
            return existing
        intent = CreationIntent(
            id=new_id("ci", 16),
            tenant=tenant_key(cs.tenant),
            end_user_id=cs.end_user_id,
            idempotency_key=key,
            type=source_type,
            display_name=name,
            stitch_display_name=stitch_display,
            stitch_name=stitch_name,
            state="pending",
            source_id=None,
            session_id=cs.id,
            created_at=now,
            lease_until=now + LEASE_SECONDS,
        )
        session.add(intent)
        await session.flush()
        await _refuse_if_unfinished(session, cs, source_type)
        await _refuse_past_limit(services, session, cs)
    return intent


class _Unfinished(Exception):
    """Carries only the id: the row it was read in belongs to a transaction rolled back."""

    def __init__(self, source_id: int) -> None:
        super().__init__(source_id)
        self.source_id = source_id


async def _refuse_if_unfinished(
    session: AsyncSession, cs: ConnectSession, source_type: str
) -> None:
    """Checked after the intent's write, in its transaction: a creation that finished between
    the caller's first look and this write is seen here, and this intent is rolled back."""
    row = await q.unfinished_source(session, tenant_key(cs.tenant), cs.end_user_id, source_type)
    if row is not None:
        raise _Unfinished(row.id)


async def _call_stitch(
    services: Services,
    cs: ConnectSession,
    intent: CreationIntent,
    properties: dict[str, Any] | None,
) -> Created:
    account = await services.account_for(cs.tenant)
    try:
        upstream = await account.create_source(
            type=intent.type, display_name=intent.stitch_display_name, properties=properties
        )
    except stitch_errors.StitchInvalidName:
        # Our name is taken: by our own earlier attempt whose answer was lost, or by nobody.
        found = await find_by_name(account, intent)
        if found is None:
            await _fail(services, intent)
            raise
        upstream = found
    except (stitch_errors.StitchTransportError, stitch_errors.StitchUnavailable):
        # Stitch may have created it and the answer was lost: look before saying anything.
        try:
            found = await find_by_name(account, intent)
        except stitch_errors.StitchError:
            found = None  # still unreachable: the intent stays pending for the reconciler
        if found is None:
            # No call of ours is in flight any more: let the next attempt reconcile at once.
            await _release(services, intent)
            raise
        upstream = found
    except stitch_errors.StitchError:
        await _fail(services, intent)
        raise
    row = await adopt(services, intent, upstream)
    services.metrics.sources_created.inc()
    return Created(row=row, upstream=upstream, created=True)


async def find_by_name(account: StitchAccount, intent: CreationIntent) -> Source | None:
    for source in await account.list_sources():
        if source.deleted_at is None and (
            source.display_name == intent.stitch_display_name or source.name == intent.stitch_name
        ):
            return source
    return None


async def adopt(services: Services, intent: CreationIntent, upstream: Source) -> SourceRow:
    """Record the end user's ownership of a source Stitch created for `intent` (once)."""
    now = services.clock.time()
    async with services.db.begin() as session:
        # Lock the intent first: two adopters of one intent (the creator and a reconciler)
        # take turns, and the second sees the first's row instead of inserting it again.
        await session.execute(
            update(CreationIntent)
            .where(CreationIntent.id == intent.id)
            .values(lease_until=CreationIntent.lease_until)
        )
        row = await session.get(
            SourceRow, upstream.id, with_for_update=True, populate_existing=True
        )
        if row is None:
            row = SourceRow(
                id=upstream.id,
                tenant=intent.tenant,
                end_user_id=intent.end_user_id,
                type=upstream.type,
                display_name=intent.display_name,
                name=upstream.name,
                current_step=upstream.report_card.current_step,
                current_step_type=upstream.report_card.current_step_type,
                status="needs_input",
                needs_reauth=False,
                created_at=now,
                updated_at=now,
                connected_at=None,
                deleted_at=None,
            )
            session.add(row)
            await session.flush()
            await record_event(services, session, "source.created", row)
            await observe(services, session, row, upstream)
        await q.finish_intent(session, intent.id, state="created", source_id=upstream.id)
    return row


async def _release(services: Services, intent: CreationIntent) -> None:
    async with services.db.begin() as session:
        await session.execute(
            update(CreationIntent)
            .where(CreationIntent.id == intent.id, CreationIntent.state == "pending")
            .values(lease_until=services.clock.time())
        )


async def _fail(services: Services, intent: CreationIntent) -> None:
    async with services.db.begin() as session:
        await q.finish_intent(session, intent.id, state="failed", source_id=None)


async def _settle(services: Services, cs: ConnectSession, intent: CreationIntent) -> Created | None:
    """The answer for a repeated key, or None when the caller should (re)create."""
    if intent.state == "created" and intent.source_id is not None:
        async with services.db() as session:
            row = await q.get_source(session, intent.source_id)
        if row is not None:
            return Created(row=row, upstream=None, created=False)
        return None
    if intent.state == "failed":
        return None
    # Pending: someone is creating it now, or crashed while doing so. If Stitch has the source
    # already, adopting it is safe either way (the creator would adopt the very same one).
    row = await reconcile_intent(services, intent)
    if row is not None:
        return Created(row=row, upstream=None, created=False)
    if intent.lease_until > services.clock.time():
        await _join_pending(services, cs, intent.type, time.monotonic() + JOIN_WAIT_SECONDS)
    return None


async def reconcile_intent(services: Services, intent: CreationIntent) -> SourceRow | None:
    """Settle a pending intent from what Stitch has: adopt its source when it exists; when it
    does not and the creator's lease has run out (it crashed or gave up), mark it failed."""
    account = await services.account_for(intent.tenant or None)
    found = await find_by_name(account, intent)
    if found is not None:
        return await adopt(services, intent, found)
    if intent.lease_until <= services.clock.time():
        await _fail(services, intent)
    return None


async def _join_pending(
    services: Services, cs: ConnectSession, source_type: str, deadline: float
) -> None:
    tenant = tenant_key(cs.tenant)
    while time.monotonic() < deadline:
        async with services.db() as session:
            pending = await q.pending_intent(session, tenant, cs.end_user_id, source_type)
        if pending is None:
            return
        if pending.lease_until <= services.clock.time():
            await reconcile_intent(services, pending)
            return
        await asyncio.sleep(0.1)


async def _resume(
    services: Services,
    cs: ConnectSession,
    row: SourceRow,
    display_name: str | None,
    properties: dict[str, Any] | None,
) -> Created | None:
    """An unfinished source of this type exists: carry the new input to it instead of doubling.

    None when Stitch has deleted it meanwhile (the record now says so)."""
    account = await services.account_for(cs.tenant)
    if properties:
        upstream = await account.update_source(row.id, properties=properties)
    else:
        upstream = await account.get_source(row.id)
    if upstream.deleted_at is not None:
        async with services.db.begin() as session:
            current = await session.get(SourceRow, row.id, with_for_update=True)
            if current is not None:
                await observe(services, session, current, upstream)
        return None
    async with services.db.begin() as session:
        current = await session.get(SourceRow, row.id, with_for_update=True)
        assert current is not None
        if display_name and display_name != current.display_name:
            current.display_name = display_name
        await observe(services, session, current, upstream)
    return Created(row=current, upstream=upstream, created=False)
