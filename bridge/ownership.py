"""Who owns a source: the one predicate every route and domain function asks.

A source belongs to one end user of one tenant ("" in single-account mode, so uniqueness holds
on every database); a deleted source belongs to nobody. Owners never change once recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class Held(Protocol):
    """Anything recorded for one end user of one tenant (a source, a token's claim, an Owner)."""

    @property
    def tenant(self) -> str: ...

    @property
    def end_user_id(self) -> str: ...


class Owned(Protocol):
    """What the predicate reads of a stored source (SourceRow, or any record shaped like it)."""

    tenant: str
    end_user_id: str
    deleted_at: float | None


def tenant_key(tenant: str | None) -> str:
    """How a tenant is stored and compared: single-account mode has none and keeps ""."""
    return tenant or ""


@dataclass(frozen=True)
class Owner:
    """What never changes about a recorded source: whose it is and its type. Safe to keep per
    process (bridge.hot_caches.OwnerCache); whether the source is still live is not."""

    tenant: str
    end_user_id: str
    type: str


def is_owner(end_user_id: str, tenant: str | None, held: Held) -> bool:
    """Whether `held` is this end user's of this tenant (live or not is for `owns` to say)."""
    return held.tenant == tenant_key(tenant) and held.end_user_id == end_user_id


def owns(end_user_id: str, tenant: str | None, source: Owned | None) -> bool:
    """Whether `source` is a live source of this end user of this tenant."""
    return (
        source is not None and source.deleted_at is None and is_owner(end_user_id, tenant, source)
    )
