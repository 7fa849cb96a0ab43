"""Redirect mode: the single-use resume id a browser brings back after a full-page round trip.

The id is random and opaque; only its hash is stored, with whose flow it continues. It expires
after ten minutes and is accepted once, by a session of the same end user.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import update

from bridge.errors import BridgeError
from bridge.flow import add_receipt, source_answer
from bridge.ownership import tenant_key
from bridge.services import Services
from bridge.sources import read_through
from bridge.steps import plan_next_step, step_done
from bridge.store.link_tables import ResumePoint
from bridge.tokens import ConnectSession

RESUME_TTL = 600.0
PREFIX = "rs_"


def _hash(resume_id: str) -> str:
    return hashlib.sha256(resume_id.encode()).hexdigest()


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
    async with services.db.begin() as session:
        session.add(
            ResumePoint(
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
        )
    return resume_id


async def resume_flow(services: Services, cs: ConnectSession, resume_id: object) -> dict[str, Any]:
    if not isinstance(resume_id, str) or not resume_id.startswith(PREFIX) or len(resume_id) > 100:
        raise BridgeError("token_invalid", "not a resume id")
    now = services.clock.time()
    async with services.db() as session:
        point = await session.get(ResumePoint, _hash(resume_id))
    if (
        point is None
        or point.end_user_id != cs.end_user_id
        or point.tenant != tenant_key(cs.tenant)
        or (cs.source_id is not None and cs.source_id != point.source_id)
    ):
        raise BridgeError("token_invalid", "this resume id is not for this session")
    if point.used_at is not None:
        raise BridgeError("token_used", "this resume id was already used")
    if point.expires_at <= now:
        raise BridgeError("token_expired", "this resume id has expired")
    async with services.db.begin() as session:
        result = await session.execute(
            update(ResumePoint)
            .where(ResumePoint.id_hash == point.id_hash, ResumePoint.used_at.is_(None))
            .values(used_at=now)
        )
    if getattr(result, "rowcount", 0) != 1:
        raise BridgeError("token_used", "this resume id was already used")
    row, upstream, _failed = await read_through(services, cs, point.source_id)
    answer = source_answer(services, cs, row, upstream)
    completed = point.outcome == "completed"
    answer["outcome"] = point.outcome
    if point.error:
        answer["error"] = point.error
    if point.step == "oauth" and completed and plan_next_step(upstream) is None:
        # A re-authorization: Stitch cannot tell it apart, the bridge saw the consent complete.
        answer["next_step"] = None
        answer["step_completed"] = True
    else:
        answer["step_completed"] = step_done(upstream, point.step)
    add_receipt(services, answer, row, upstream)
    return answer
