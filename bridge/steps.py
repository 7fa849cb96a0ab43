"""From a Stitch report card to what the end user must do next (reference §9.4), and a status."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bridge.stitch.models import Source

STEP_FUNCTIONS: dict[str, str] = {
    "form": "editSource",
    "oauth": "authorizeSource",
    "discover_schema": "displayDiscoveryOutputForSource",
    "field_selection": "selectStreamsForSource",
}
NATIVE_ACTIONS: dict[str, str] = {
    "form": "form",
    "oauth": "oauth",
    "discover_schema": "wait",
    "field_selection": "select_streams",
}
# Hints name Stitch.js functions; these are the ones that finish an existing source's step.
_HINT_FUNCTIONS = {*STEP_FUNCTIONS.values(), "onlyAuthorizeSource"}
# Options that may carry a secret are never copied from a hint into anything a browser sees.
_SECRET_OPTIONS = {"ephemeral_token"}

STATUSES = ("needs_input", "connecting", "connected", "needs_reauth", "paused", "deleted")


@dataclass(frozen=True)
class StepPlan:
    type: str
    js: dict[str, Any] | None


def plan_next_step(source: Source) -> StepPlan | None:
    """The step the end user must finish next, or None when nothing is left to do."""
    if source.deleted_at is not None:
        return None
    card = source.report_card
    step = card.current_step_type
    if step == "fully_configured":
        return None
    if step not in STEP_FUNCTIONS:
        # `profile` is documented but never seen; Stitch's own form is where it is edited.
        step = "form"
    return StepPlan(type=step, js=_hint_js(source, step) or _derived_js(source, step))


def _hint_js(source: Source, step: str) -> dict[str, Any] | None:
    hints = source.report_card.hints
    js = hints.get("js") if isinstance(hints, dict) else None
    if not isinstance(js, dict) or js.get("function") not in _HINT_FUNCTIONS:
        return None
    if STEP_FUNCTIONS.get(step) != js["function"] and not (
        step == "oauth" and js["function"] == "onlyAuthorizeSource"
    ):
        return None
    raw_options = js.get("options")
    if not isinstance(raw_options, dict):
        raw_options = {}
    options = {k: v for k, v in raw_options.items() if k not in _SECRET_OPTIONS}
    options["id"] = source.id
    if step == "discover_schema":
        if not source.check_job_name:
            return None
        options.setdefault("discovery_job_name", source.check_job_name)
    return {"function": js["function"], "options": options}


def _derived_js(source: Source, step: str) -> dict[str, Any] | None:
    options: dict[str, Any] = {"id": source.id}
    if step == "discover_schema":
        # Nothing to display until Stitch has started the check (reference §9.4).
        if not source.check_job_name:
            return None
        options["discovery_job_name"] = source.check_job_name
    return {"function": STEP_FUNCTIONS[step], "options": options}


def source_status(source: Source, *, needs_reauth: bool = False, check_failed: bool = False) -> str:
    if source.deleted_at is not None:
        return "deleted"
    if source.paused_at is not None:
        return "paused"
    step = source.report_card.current_step_type
    if step == "fully_configured":
        return "needs_reauth" if needs_reauth else "connected"
    if step == "discover_schema" and not check_failed:
        return "connecting"
    return "needs_input"


def step_done(source: Source, step: str) -> bool:
    """Whether Stitch says `step` is behind the source (its position is before the current one)."""
    card = source.report_card
    types = [s.type for s in card.steps]
    if step not in types:
        return True
    return types.index(step) + 1 < card.current_step
