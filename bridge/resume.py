"""Redirect mode: the single-use resume id a browser brings back after a full-page round trip.

The id is random and opaque; only its hash is stored, with whose flow it continues. It expires
after ten minutes and is accepted once, by a session of the same end user.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, replace

from bridge.errors import BridgeError
from bridge.flow import StepCompletion, held_by, receipt, source_answer
from bridge.ownership import tenant_key
from bridge.services import Services
from bridge.sources import read_through
from bridge.steps import plan_next_step, step_done
from bridge.store.link_tables import ResumePoint
from bridge.store.resume_queries import add_resume_point, get_resume_point, use_resume_point
from bridge.tokens import ConnectSession

RESUME_TTL = 600.0
PREFIX = "rs_"


def _hash(resume_id: str) -> str:
    return hashlib.sha256(resume_id.encode()).hexdigest()


@dataclass(frozen=True)
class Resumed:
    """The flow after a redirect: the bridge's verdict on the step, and what the browser's
    round trip reported (`outcome`, and the error code of a failed one)."""

    completion: StepCompletion
    outcome: str
    error: str | None


async def create_resume_point(
    services: Services,
    *,
    tenant: str | None,
    end_user_id: str,
    source_id: int,
    step: str,
    outcome: str,
    error: str | None = None,
) -> str:
    resume_id = PREFIX + secrets.token_urlsafe(24)
    now = services.clock.time()
    point = ResumePoint(
        id_hash=_hash(resume_id),
        tenant=tenant_key(tenant),
        end_user_id=end_user_id,
        source_id=source_id,
        step=step,
        outcome=outcome,
        error=error,
        created_at=now,
        expires_at=now + RESUME_TTL,
        used_at=None,
    )
    async with services.db.begin() as session:
        await add_resume_point(session, point)
    return resume_id


async def _use_point(services: Services, cs: ConnectSession, resume_id: object) -> ResumePoint:
    """The session's resume point, used up now; refused when it is not, or was already."""
    if not isinstance(resume_id, str) or not resume_id.startswith(PREFIX) or len(resume_id) > 100:
        raise BridgeError("token_invalid", "not a resume id")
    now = services.clock.time()
    async with services.db() as session:
        point = await get_resume_point(session, _hash(resume_id))
    if (
        point is None
        or not held_by(cs, point.tenant, point.end_user_id)
        or (cs.source_id is not None and cs.source_id != point.source_id)
    ):
        raise BridgeError("token_invalid", "this resume id is not for this session")
    if point.used_at is not None:
        raise BridgeError("token_used", "this resume id was already used")
    if point.expires_at <= now:
        raise BridgeError("token_expired", "this resume id has expired")
    async with services.db.begin() as session:
        fresh = await use_resume_point(session, point.id_hash, now)
    if not fresh:
        raise BridgeError("token_used", "this resume id was already used")
    return point


async def resume_flow(services: Services, cs: ConnectSession, resume_id: object) -> Resumed:
    point = await _use_point(services, cs, resume_id)
    row, upstream, _failed = await read_through(services, cs, point.source_id)
    answer = source_answer(services, cs, row, upstream)
    completed = point.outcome == "completed"
    if point.step == "oauth" and completed and plan_next_step(upstream) is None:
        # A re-authorization: Stitch cannot tell it apart, the bridge saw the consent complete.
        answer = replace(answer, next_step=None)
        done = True
    else:
        done = step_done(upstream, point.step)
    completion = StepCompletion(
        answer=answer, step_completed=done, receipt=receipt(services, row, upstream)
    )
    return Resumed(completion=completion, outcome=point.outcome, error=point.error or None)
