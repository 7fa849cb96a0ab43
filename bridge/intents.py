"""Settling a creation intent from what Stitch has (bridge.creation writes the intents).

The Stitch display name carries the intent's reference, so its source is found again by name
after a lost answer; adopting it records the end user's ownership once, whoever adopts first
(the creator, a repeated request or the reconciler).
"""

from __future__ import annotations

from bridge.services import Services
from bridge.sources import observe, record_event
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
