"""How both connect-session routes read the scope of a session from a request body."""

from __future__ import annotations

from dataclasses import dataclass

from bridge.api.common import MAX_ID, Fields
from bridge.connect_sessions import ConnectSessionRequest, EndUser
from bridge.settings import Settings

SCOPE_FIELDS = ("end_user", "tenant", "source_types", "source_id")


@dataclass(frozen=True)
class Scope:
    """The scope fields as read; `end_user` is None only when `fields` has a problem."""

    end_user: EndUser | None
    tenant: str | None
    source_types: tuple[str, ...] | None
    source_id: int | None

    def request(
        self, *, ttl: int | None = None, actions: list[str] | None = None
    ) -> ConnectSessionRequest:
        """Once the fields checked out."""
        assert self.end_user is not None
        return ConnectSessionRequest(
            end_user=self.end_user,
            tenant=self.tenant,
            source_types=self.source_types,
            source_id=self.source_id,
            ttl=ttl,
            actions=tuple(actions) if actions is not None else None,
        )


def _end_user(fields: Fields) -> EndUser | None:
    raw = fields.body.get("end_user")
    if not isinstance(raw, dict):
        fields.problems["end_user"] = "required: an object with an `id`"
        return None
    user = Fields(raw, ("id", "name", "email"))
    user_id = user.text("id", required=True, max_length=MAX_ID)
    name = user.text("name", max_length=300)
    email = user.text("email", max_length=320)
    fields.problems.update({f"end_user.{k}": v for k, v in user.problems.items()})
    return EndUser(user_id, name, email) if user_id is not None else None


def read_scope(fields: Fields) -> Scope:
    end_user = _end_user(fields)
    tenant = fields.text("tenant", max_length=MAX_ID)
    source_types = fields.string_list("source_types")
    source_id = fields.integer("source_id", minimum=1, maximum=2**63 - 1)
    return Scope(
        end_user,
        tenant,
        tuple(source_types) if source_types is not None else None,
        source_id,
    )


def require_tenant(fields: Fields, settings: Settings, scope: Scope) -> None:
    """The partner rule, reported with the other field problems: every session names a tenant."""
    if settings.partner_mode and scope.tenant is None and "tenant" not in fields.problems:
        fields.problems["tenant"] = "required in partner mode"
