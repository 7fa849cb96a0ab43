"""Step payloads: minted from the report card, started once, completed once, decided by Stitch."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from bridge.admission import Ticket
from bridge.creation import create_source
from bridge.errors import BridgeError
from bridge.limits import check_end_user_schedule
from bridge.oauth import begin_provider_oauth, reauth_plan, reauth_result
from bridge.ownership import is_owner, tenant_key
from bridge.services import Services
from bridge.sources import owned_row, read_through, update_source
from bridge.steps import NATIVE_ACTIONS, STEP_FUNCTIONS, StepPlan, plan_next_step, step_done
from bridge.stitch.models import Source
from bridge.stitchjs_gate import ephemeral_tokens_allowed, refusal, step_needs_stitchjs
from bridge.store import queries as q
from bridge.store.tables import SourceRow
from bridge.tokens import ConnectSession, StepClaim

OUTCOMES = ("completed", "cancelled", "failed")

log = logging.getLogger("bridge.flow")


@dataclass(frozen=True)
class NextStep:
    """The step the end user must finish next, with the single-use token that starts it."""

    type: str
    token: str
    expires_at: float
    js: dict[str, Any] | None  # Stitch.js's function and options, as Stitch's hint has them


@dataclass(frozen=True)
class SourceAnswer:
    row: SourceRow
    next_step: NextStep | None
    connection_check: str | None = None  # "running" | "failed" while discovery runs (reads)


@dataclass(frozen=True)
class CreatedAnswer:
    answer: SourceAnswer
    created: bool  # False: an earlier request (same key, or an unfinished source) answered


@dataclass(frozen=True)
class StepCompletion:
    """The bridge's own verdict on a step, from Stitch's answer; never the browser's."""

    answer: SourceAnswer
    step_completed: bool
    receipt: str | None  # once Stitch says the source is fully configured


@dataclass(frozen=True)
class NativeStep:
    """The widget runs the step itself (`action`); OAuth through the bridge's popup page."""

    step: str
    action: str
    oauth_url: str | None = None
    oauth_ticket: str | None = None


@dataclass(frozen=True)
class StitchJsStep:
    """Stitch.js runs the step: its function, and options carrying an ephemeral token."""

    step: str
    function: str
    options: dict[str, Any]
    stitch_js_url: str


StepStart = NativeStep | StitchJsStep


@dataclass(frozen=True)
class _Holder:
    """Whose a token or resume point is, in the shape the ownership predicate reads."""

    tenant: str
    end_user_id: str


def held_by(cs: ConnectSession, tenant: str | None, end_user_id: str) -> bool:
    """Whether something recorded for (`tenant`, `end_user_id`) belongs to the session's end user."""
    return is_owner(cs.end_user_id, cs.tenant, _Holder(tenant_key(tenant), end_user_id))


def next_step(
    services: Services, cs: ConnectSession, source_id: int, plan: StepPlan | None
) -> NextStep | None:
    if plan is None:
        return None
    token, claim = services.tokens.mint_step(cs, source_id, plan.type, services.settings.step_ttl)
    return NextStep(type=plan.type, token=token, expires_at=claim.expires_at, js=plan.js)


def source_answer(
    services: Services, cs: ConnectSession, row: SourceRow, upstream: Source
) -> SourceAnswer:
    # A session scoped to a connected source may re-run its OAuth (re-authorization).
    plan = plan_next_step(upstream) or reauth_plan(services.settings, cs, row, upstream)
    return SourceAnswer(row=row, next_step=next_step(services, cs, row.id, plan))


async def create(
    services: Services,
    cs: ConnectSession,
    *,
    source_type: str,
    display_name: str | None,
    properties: dict[str, Any] | None,
    idempotency_key: str | None,
    ticket: Ticket | None = None,
) -> CreatedAnswer:
    """`ticket`: the creation's place past `Admission`, given up before it calls Stitch."""
    check_end_user_schedule(services.settings, properties or {}, prefix="properties.")
    created = await create_source(
        services,
        cs,
        source_type=source_type,
        display_name=display_name,
        properties=properties,
        idempotency_key=idempotency_key,
        ticket=ticket,
    )
    if created.upstream is not None:
        answer = source_answer(services, cs, created.row, created.upstream)
    else:
        row, upstream, _ = await read_through(services, cs, created.row.id)
        answer = source_answer(services, cs, row, upstream)
    return CreatedAnswer(answer=answer, created=created.created)


async def current(services: Services, cs: ConnectSession, source_id: int) -> SourceAnswer:
    """The source as Stitch has it now; while discovery runs, how its connection check is."""
    row, upstream, failed = await read_through(services, cs, source_id)
    answer = source_answer(services, cs, row, upstream)
    if upstream.report_card.current_step_type != "discover_schema":
        return answer
    return replace(answer, connection_check="failed" if failed else "running")


async def update(
    services: Services,
    cs: ConnectSession,
    source_id: int,
    *,
    display_name: str | None,
    properties: dict[str, Any] | None,
) -> SourceAnswer:
    check_end_user_schedule(services.settings, properties or {}, prefix="properties.")
    row, upstream, _ = await update_source(
        services, cs, source_id, display_name=display_name, properties=properties
    )
    return source_answer(services, cs, row, upstream)


def _check_claim(cs: ConnectSession, claim: StepClaim) -> None:
    """A step token belongs to its end user: any of that user's sessions that covers the source
    may use it (so a session renewed mid-flow carries on); nobody else may, and a refusal here
    does not use the token up."""
    if not held_by(cs, claim.tenant, claim.end_user_id) or (
        cs.source_id is not None and cs.source_id != claim.source_id
    ):
        raise BridgeError("token_invalid", "this step token belongs to another session")


async def _use(services: Services, claim: StepClaim, phase: str) -> None:
    async with services.db.begin() as session:
        fresh = await q.use_token(
            session, claim.id, phase, now=services.clock.time(), expires_at=claim.expires_at
        )
    if not fresh:
        raise BridgeError("token_used", f"this step token was already used to {phase} its step")


async def start_step(
    services: Services,
    cs: ConnectSession,
    token: object,
    origin: str | None = None,
    return_url: str | None = None,
) -> StepStart:
    """`origin` is the calling page's, where a white-label OAuth callback reports back;
    `return_url` (redirect mode) is where the browser comes back to with a resume id."""
    claim = services.tokens.read_step(token)
    _check_claim(cs, claim)
    row = await owned_row(services, cs, claim.source_id)
    settings = services.settings
    if not ephemeral_tokens_allowed(settings) and step_needs_stitchjs(
        settings, row.type, claim.step
    ):
        # A source made before the operator turned Stitch.js off (or given a type since
        # refused): its step is not run rather than handing out a login to the shared account.
        reason = refusal(settings, row.type, [claim.step])
        raise BridgeError("source_type_not_allowed", reason or "Stitch.js is off")
    await _use(services, claim, "start")
    if settings.driver == "native" and claim.step != "oauth":
        return NativeStep(step=claim.step, action=NATIVE_ACTIONS[claim.step])
    if settings.driver == "native":
        white_label = await begin_provider_oauth(services, cs, claim, row, origin, return_url)
        if white_label is not None:
            return NativeStep(
                step="oauth",
                action="oauth",
                oauth_url=white_label.oauth_url,
                oauth_ticket=white_label.oauth_ticket,
            )
    # Stitch.js drives this step (the native driver's OAuth step too, without a white-label app).
    return await _stitchjs_step(services, cs, claim)


async def _stitchjs_step(services: Services, cs: ConnectSession, claim: StepClaim) -> StepStart:
    account = await services.account_for(cs.tenant)
    upstream = await account.get_source(claim.source_id)
    plan = plan_next_step(upstream)
    js = plan.js if plan is not None and plan.type == claim.step else None
    if js is None:
        options: dict[str, Any] = {"id": claim.source_id}
        if claim.step == "discover_schema":
            if not upstream.check_job_name:
                # Stitch has not started the check yet: nothing to display, only to wait for.
                return NativeStep(step=claim.step, action="wait")
            options["discovery_job_name"] = upstream.check_job_name
        js = {"function": STEP_FUNCTIONS[claim.step], "options": options}
    ephemeral_token = await account.create_ephemeral_token()
    return StitchJsStep(
        step=claim.step,
        function=js["function"],
        options={**js["options"], "ephemeral_token": ephemeral_token},
        stitch_js_url=services.settings.stitch_js_url,
    )


async def complete_step(
    services: Services, cs: ConnectSession, token: object, outcome: str | None
) -> StepCompletion:
    """Whether the step is done is the bridge's verdict from Stitch's answer (CONTRACT §4.2):
    `outcome`, the browser's report, is logged beside that verdict and decides nothing, so an
    operator sees where the two disagree (a cancelled popup, a step Stitch still waits on)."""
    claim = services.tokens.read_step(token)
    _check_claim(cs, claim)
    await owned_row(services, cs, claim.source_id)
    await _use(services, claim, "complete")
    row, upstream, _failed = await read_through(services, cs, claim.source_id)
    answer = source_answer(services, cs, row, upstream)
    reauthorized = await reauth_result(services, cs, claim, upstream)
    if reauthorized is None:
        done = step_done(upstream, claim.step)
    else:
        # Stitch cannot tell a re-authorization apart; the bridge saw the consent complete.
        done = reauthorized
        if reauthorized:
            answer = replace(answer, next_step=None)
    log.info(
        "step completion",
        extra={"step": claim.step, "source_id": row.id, "reported": outcome, "done": done},
    )
    return StepCompletion(
        answer=answer, step_completed=done, receipt=receipt(services, row, upstream)
    )


def receipt(services: Services, row: SourceRow, upstream: Source) -> str | None:
    """A completion receipt, once Stitch says the source is fully configured."""
    if upstream.report_card.current_step_type == "fully_configured" and row.connected_at:
        return services.tokens.mint_receipt(
            row.id, row.end_user_id, row.tenant or None, row.connected_at
        )
    return None


@dataclass(frozen=True)
class VerifiedReceipt:
    """A receipt the bridge issued, for a completion that happened: the source it certifies."""

    source: SourceRow
    completed_at: float


async def verify_receipt(services: Services, receipt: object) -> VerifiedReceipt:
    claim = services.tokens.read_receipt(receipt)
    async with services.db() as session:
        row = await q.get_source(session, claim.source_id)
    # A receipt certifies a completion that happened: it stays valid if the source is deleted
    # later, so only whose the source is is compared, not whether it is still live.
    if (
        row is None
        or row.connected_at is None
        or not is_owner(claim.end_user_id, claim.tenant, row)
    ):
        raise BridgeError("receipt_invalid", "this receipt is not valid")
    return VerifiedReceipt(row, claim.completed_at)
