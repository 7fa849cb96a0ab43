"""A creation intent at Stitch: creating its source, and settling the intent from what Stitch
has (bridge.creation writes the intents).

The Stitch display name carries the intent's reference, so its source is found again by name
after a lost answer; adopting it records the end user's ownership once, whoever adopts first
(the creator, a repeated request or the reconciler).
"""

from __future__ import annotations

from typing import Any

from bridge.services import Services
from bridge.sources import observe, record_event
from bridge.stitch import errors as stitch_errors
from bridge.stitch.client import StitchAccount
from bridge.stitch.models import Source
from bridge.store import creation_queries as cq
from bridge.store import queries as q
from bridge.store import source_queries as sq
from bridge.store.tables import CreationIntent, SourceRow


async def find_by_name(account: StitchAccount, intent: CreationIntent) -> Source | None:
    for source in await account.list_sources():
        if source.deleted_at is None and (
            source.display_name == intent.stitch_display_name or source.name == intent.stitch_name
        ):
            return source
    return None


def _new_row(intent: CreationIntent, upstream: Source, now: float) -> SourceRow:
    return SourceRow(
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


async def adopt(services: Services, intent: CreationIntent, upstream: Source) -> SourceRow:
    """Record the end user's ownership of a source Stitch created for `intent` (once)."""
    async with services.db.begin() as session:
        # Lock the intent first: two adopters of one intent (the creator and a reconciler)
        # take turns, and the second sees the first's row instead of inserting it again.
        await cq.lock_intent(session, intent.id)
        row = await sq.lock_source(session, upstream.id)
        if row is None:
            row = _new_row(intent, upstream, services.clock.time())
            await sq.add_source(session, row)
            await record_event(services, session, "source.created", row)
            await observe(services, session, row, upstream)
        await q.finish_intent(session, intent.id, state="created", source_id=upstream.id)
    return row


async def release(services: Services, intent: CreationIntent) -> None:
    """No call of this intent is in flight any more: the next look may settle it at once."""
    async with services.db.begin() as session:
        await cq.release_intent(session, intent.id, services.clock.time())


async def fail(services: Services, intent: CreationIntent) -> None:
    async with services.db.begin() as session:
        await q.finish_intent(session, intent.id, state="failed", source_id=None)


async def reconcile_intent(services: Services, intent: CreationIntent) -> SourceRow | None:
    """Settle a pending intent from what Stitch has: adopt its source when it exists; when it
    does not and the creator's lease has run out (it crashed or gave up), mark it failed."""
    account = await services.account_for(intent.tenant or None)
    found = await find_by_name(account, intent)
    if found is not None:
        return await adopt(services, intent, found)
    if intent.lease_until <= services.clock.time():
        await fail(services, intent)
    return None


async def create_upstream(
    services: Services,
    account: StitchAccount,
    intent: CreationIntent,
    properties: dict[str, Any] | None,
) -> Source:
    """Stitch's source for the intent: created now, or found by name after a lost answer."""
    try:
        return await account.create_source(
            type=intent.type, display_name=intent.stitch_display_name, properties=properties
        )
    except stitch_errors.StitchInvalidName:
        # Our name is taken: by our own earlier attempt whose answer was lost, or by nobody.
        found = await find_by_name(account, intent)
        if found is None:
            await fail(services, intent)
            raise
        return found
    except (stitch_errors.StitchTransportError, stitch_errors.StitchUnavailable):
        # Stitch may have created it and the answer was lost: look before saying anything.
        try:
            found = await find_by_name(account, intent)
        except stitch_errors.StitchError:
            found = None  # still unreachable: the intent stays pending for the reconciler
        if found is None:
            # No call of ours is in flight any more: let the next attempt reconcile at once.
            await release(services, intent)
            raise
        return found
    except stitch_errors.StitchError:
        await fail(services, intent)
        raise
