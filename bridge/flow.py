"""Step payloads: minted from the report card, started once, completed once, decided by Stitch."""

from __future__ import annotations

from typing import Any

from bridge.clock import iso
from bridge.errors import BridgeError
from bridge.oauth import begin_provider_oauth, reauth_plan, reauth_result
from bridge.ownership import tenant_key
from bridge.services import Services
from bridge.sources import owned_row, read_through, render_source
from bridge.steps import NATIVE_ACTIONS, STEP_FUNCTIONS, StepPlan, plan_next_step, step_done
from bridge.stitch.models import Source
from bridge.stitchjs_gate import ephemeral_tokens_allowed, refusal, step_needs_stitchjs
from bridge.store import queries as q
from bridge.store.tables import SourceRow
from bridge.tokens import ConnectSession, StepClaim

OUTCOMES = ("completed", "cancelled", "failed")


def render_step(
    services: Services, cs: ConnectSession, source_id: int, plan: StepPlan | None
) -> dict[str, Any] | None:
    if plan is None:
        return None
    token, claim = services.tokens.mint_step(cs, source_id, plan.type, services.settings.step_ttl)
    return {
        "type": plan.type,
        "token": token,
        "expires_at": iso(claim.expires_at),
        "js": plan.js,
    }


def source_answer(
    services: Services, cs: ConnectSession, row: SourceRow, upstream: Source
) -> dict[str, Any]:
    # A session scoped to a connected source may re-run its OAuth (re-authorization).
    plan = plan_next_step(upstream) or reauth_plan(services.settings, cs, row, upstream)
    return {
        "source": render_source(row),
        "next_step": render_step(services, cs, row.id, plan),
    }


def _check_claim(cs: ConnectSession, claim: StepClaim) -> None:
    """A step token belongs to its end user: any of that user's sessions that covers the source
    may use it (so a session renewed mid-flow carries on); nobody else may, and a refusal here
    does not use the token up."""
    if (
        claim.end_user_id != cs.end_user_id
        or tenant_key(claim.tenant) != tenant_key(cs.tenant)
        or (cs.source_id is not None and cs.source_id != claim.source_id)
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
) -> dict[str, Any]:
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
        return {"driver": "native", "step": claim.step, "action": NATIVE_ACTIONS[claim.step]}
    if settings.driver == "native":
        white_label = await begin_provider_oauth(services, cs, claim, row, origin, return_url)
        if white_label is not None:
            return white_label
    # Stitch.js drives this step (the native driver's OAuth step too, without a white-label app).
    account = await services.account_for(cs.tenant)
    upstream = await account.get_source(claim.source_id)
    plan = plan_next_step(upstream)
    js = plan.js if plan is not None and plan.type == claim.step else None
    if js is None:
        options: dict[str, Any] = {"id": claim.source_id}
        if claim.step == "discover_schema":
            if not upstream.check_job_name:
                # Stitch has not started the check yet: nothing to display, only to wait for.
                return {"driver": "native", "step": claim.step, "action": "wait"}
            options["discovery_job_name"] = upstream.check_job_name
        js = {"function": STEP_FUNCTIONS[claim.step], "options": options}
    ephemeral_token = await account.create_ephemeral_token()
    return {
        "driver": "stitchjs",
        "step": claim.step,
        "js": {
            "function": js["function"],
            "options": {**js["options"], "ephemeral_token": ephemeral_token},
        },
        "stitch_js_url": settings.stitch_js_url,
    }


async def complete_step(
    services: Services, cs: ConnectSession, token: object, outcome: str | None
) -> dict[str, Any]:
    claim = services.tokens.read_step(token)
    _check_claim(cs, claim)
    await owned_row(services, cs, claim.source_id)
    await _use(services, claim, "complete")
    row, upstream, _failed = await read_through(services, cs, claim.source_id)
    answer = source_answer(services, cs, row, upstream)
    reauthorized = await reauth_result(services, cs, claim, upstream)
    if reauthorized is None:
        answer["step_completed"] = step_done(upstream, claim.step)
    else:
        # Stitch cannot tell a re-authorization apart; the bridge saw the consent complete.
        answer["step_completed"] = reauthorized
        if reauthorized:
            answer["next_step"] = None
    add_receipt(services, answer, row, upstream)
    return answer


def add_receipt(
    services: Services, answer: dict[str, Any], row: SourceRow, upstream: Source
) -> None:
    """A completion receipt, once Stitch says the source is fully configured."""
    if upstream.report_card.current_step_type == "fully_configured" and row.connected_at:
        answer["receipt"] = services.tokens.mint_receipt(
            row.id, row.end_user_id, row.tenant or None, row.connected_at
        )


async def verify_receipt(services: Services, receipt: object) -> dict[str, Any]:
    claim = services.tokens.read_receipt(receipt)
    async with services.db() as session:
        row = await q.get_source(session, claim.source_id)
    if (
        row is None
        or row.end_user_id != claim.end_user_id
        or row.tenant != tenant_key(claim.tenant)
        or row.connected_at is None
    ):
        raise BridgeError("receipt_invalid", "this receipt is not valid")
    return {
        "valid": True,
        "source": render_source(row),
        "end_user_id": row.end_user_id,
        "tenant": row.tenant or None,
        "completed_at": iso(claim.completed_at),
    }
