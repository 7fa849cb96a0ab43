"""Stream (table) selection for a source, in the widget's simple terms, translated for Stitch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.errors import BridgeError
from bridge.flow import SourceAnswer, source_answer
from bridge.services import Services
from bridge.sources import owned_row, read_through
from bridge.stitch.models import Stream
from bridge.tokens import ConnectSession

SELECTABLE_STEPS = ("field_selection", "fully_configured")


@dataclass(frozen=True)
class StreamChoice:
    """One stream the end user selects or deselects; `fields` narrows a selected one."""

    tap_stream_id: str
    selected: bool
    fields: list[str] | None = None


@dataclass(frozen=True)
class SelectedStreams:
    answer: SourceAnswer
    streams: list[Stream]


async def list_streams(services: Services, cs: ConnectSession, source_id: int) -> list[Stream]:
    """The source's streams as Stitch has them, in a stable order."""
    await owned_row(services, cs, source_id)
    streams = await (await services.account_for(cs.tenant)).list_streams(source_id)
    return sorted(streams, key=lambda s: s.tap_stream_id)


def stream_metadata(stream: Stream, selected: bool, fields: list[str] | None) -> dict[str, Any]:
    """The `PUT …/streams/metadata` entry that selects (or deselects) one stream (§4.9)."""
    top: dict[str, Any] = {"selected": selected}
    meta = stream.metadata
    if selected and "forced-replication-method" not in meta:
        keys = meta.get("valid-replication-keys")
        if isinstance(keys, list) and keys:
            top["replication-method"] = "INCREMENTAL"
            top["replication-key"] = keys[0]
        else:
            top["replication-method"] = "FULL_TABLE"
        if meta.get("is-view") and "view-key-properties" not in meta:
            primary = meta.get("table-key-properties") or ["id"]
            top["view-key-properties"] = list(primary)
    entries: list[dict[str, Any]] = [{"breadcrumb": [], "metadata": top}]
    for field in fields or []:
        entries.append({"breadcrumb": ["properties", field], "metadata": {"selected": True}})
    return {"tap_stream_id": stream.tap_stream_id, "metadata": entries}


async def select_streams(
    services: Services, cs: ConnectSession, source_id: int, wanted: list[StreamChoice]
) -> SelectedStreams:
    """Apply the choices, then answer with the source (its step may move on) and its streams."""
    await update_streams(services, cs, source_id, wanted)
    row, upstream, _ = await read_through(services, cs, source_id)
    answer = source_answer(services, cs, row, upstream)
    return SelectedStreams(answer=answer, streams=await list_streams(services, cs, source_id))


async def update_streams(
    services: Services, cs: ConnectSession, source_id: int, wanted: list[StreamChoice]
) -> None:
    await owned_row(services, cs, source_id)
    account = await services.account_for(cs.tenant)
    upstream = await account.get_source(source_id)
    if upstream.report_card.current_step_type not in SELECTABLE_STEPS:
        raise BridgeError(
            "invalid_request",
            "streams can be selected once the connection check has succeeded",
            details={"current_step_type": upstream.report_card.current_step_type},
        )
    known = {s.tap_stream_id: s for s in await account.list_streams(source_id)}
    unknown = [w.tap_stream_id for w in wanted if w.tap_stream_id not in known]
    if unknown:
        raise BridgeError(
            "invalid_request",
            "unknown streams",
            details={"streams": {name: "no such stream" for name in unknown}},
        )
    payload = [stream_metadata(known[w.tap_stream_id], w.selected, w.fields) for w in wanted]
    await account.update_stream_metadata(source_id, payload)
