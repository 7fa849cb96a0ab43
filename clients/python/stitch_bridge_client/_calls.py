"""Every API call the clients make, described once (path, body, retry rule, result type); the
sync and async resources only run them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from stitch_bridge_client._http import Call, new_idempotency_key, segment
from stitch_bridge_client._models import (
    ConnectLink,
    ConnectSession,
    Event,
    EventPage,
    Receipt,
    Source,
)


class _NotGiven:
    """Marks an argument left out, where None is a value the bridge understands (it clears)."""

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False


NOT_GIVEN: Final = _NotGiven()

EndUser = str | Mapping[str, Any]


def _nothing(_: Any) -> None:
    return None


def _source_of(body: Any) -> Source:
    return Source.from_json(body.get("source") if isinstance(body, Mapping) else None)


def _sources(body: Any) -> list[Source]:
    data = body.get("data") if isinstance(body, Mapping) else None
    return [Source.from_json(s) for s in data] if isinstance(data, list) else []


def _end_user(value: EndUser) -> dict[str, Any]:
    return {"id": value} if isinstance(value, str) else dict(value)


def _body(**fields: Any) -> dict[str, Any]:
    """The fields that were given: None means "not sent" (the bridge's default applies)."""
    return {name: value for name, value in fields.items() if value is not None}


def create_session(
    end_user: EndUser,
    tenant: str | None,
    source_types: Sequence[str] | None,
    source_id: int | None,
    ttl: int | None,
    actions: Sequence[str] | None,
    idempotency_key: str | None,
) -> Call[ConnectSession]:
    body = _body(
        end_user=_end_user(end_user),
        tenant=tenant,
        source_types=list(source_types) if source_types is not None else None,
        source_id=source_id,
        ttl=ttl,
        actions=list(actions) if actions is not None else None,
    )
    return Call(
        "POST",
        "/v1/connect-sessions",
        ConnectSession.from_json,
        json=body,
        idempotency_key=idempotency_key or new_idempotency_key(),
    )


def create_link(
    end_user: EndUser,
    tenant: str | None,
    source_types: Sequence[str] | None,
    source_id: int | None,
    return_url: str | None,
    expires_in: int | None,
    idempotency_key: str | None,
) -> Call[ConnectLink]:
    body = _body(
        end_user=_end_user(end_user),
        tenant=tenant,
        source_types=list(source_types) if source_types is not None else None,
        source_id=source_id,
        return_url=return_url,
        expires_in=expires_in,
    )
    return Call(
        "POST",
        "/v1/connect-links",
        ConnectLink.from_json,
        json=body,
        idempotency_key=idempotency_key or new_idempotency_key(),
    )


def _tenant(tenant: str | None) -> dict[str, str] | None:
    return {"tenant": tenant} if tenant is not None else None


def _source_path(end_user_id: str, source_id: int, suffix: str = "") -> str:
    return f"/v1/end-users/{segment(end_user_id)}/sources/{segment(source_id)}{suffix}"


def list_sources(end_user_id: str, tenant: str | None) -> Call[list[Source]]:
    path = f"/v1/end-users/{segment(end_user_id)}/sources"
    return Call("GET", path, _sources, params=_tenant(tenant))


def delete_source(end_user_id: str, source_id: int, tenant: str | None) -> Call[None]:
    path = _source_path(end_user_id, source_id)
    return Call("DELETE", path, _nothing, params=_tenant(tenant), expect_body=False)


def source_action(
    method: str, end_user_id: str, source_id: int, action: str, tenant: str | None
) -> Call[Source]:
    """sync (POST), stop sync (DELETE …/sync), pause, unpause (CONTRACT §4.8).

    Starting a sync is not repeated on a lost answer (a second job, or `sync_already_running`);
    stopping, pausing and unpausing are idempotent, so they are.
    """
    retry = not (method == "POST" and action == "sync")
    path = _source_path(end_user_id, source_id, f"/{action}")
    return Call(method, path, _source_of, params=_tenant(tenant), json={}, retry=retry)


def set_schedule(
    end_user_id: str,
    source_id: int,
    tenant: str | None,
    frequency_in_minutes: int | _NotGiven,
    anchor_time: str | None | _NotGiven,
    cron_expression: str | None | _NotGiven,
) -> Call[Source]:
    given = {
        "frequency_in_minutes": frequency_in_minutes,
        "anchor_time": anchor_time,
        "cron_expression": cron_expression,
    }
    body = {name: value for name, value in given.items() if not isinstance(value, _NotGiven)}
    path = _source_path(end_user_id, source_id, "/schedule")
    return Call("PUT", path, _source_of, params=_tenant(tenant), json=body)


def list_events_page(
    limit: int | None,
    starting_after: str | None,
    type: str | None,
    end_user_id: str | None,
    tenant: str | None,
    source_id: int | None,
) -> Call[EventPage]:
    params = _body(
        limit=str(limit) if limit is not None else None,
        starting_after=starting_after,
        type=type,
        end_user_id=end_user_id,
        tenant=tenant,
        source_id=str(source_id) if source_id is not None else None,
    )
    return Call("GET", "/v1/events", EventPage.from_json, params=params)


def get_event(event_id: str) -> Call[Event]:
    return Call("GET", f"/v1/events/{segment(event_id)}", Event.from_json)


def redeliver_event(event_id: str) -> Call[None]:
    # Delivering once more is what the caller asked for; a lost answer is not worth a third.
    path = f"/v1/events/{segment(event_id)}/redeliver"
    return Call("POST", path, _nothing, retry=False, expect_body=False)


def verify_receipt(receipt: str) -> Call[Receipt]:
    return Call("POST", "/v1/receipts/verify", Receipt.from_json, json={"receipt": receipt})
