"""Source types as the widget sees them: names people recognise and the form they can fill."""

from __future__ import annotations

from collections.abc import Sequence

from bridge import stitchjs_gate
from bridge.limits import end_user_form
from bridge.offer import FormField, OfferedType
from bridge.services import Services
from bridge.settings import Settings
from bridge.stitch.models import SourceType
from bridge.tokens import ConnectSession

# Stitch's report cards carry no human name; these are the ones people know. Others are derived.
KNOWN_NAMES = {
    "platform.hubspot": "HubSpot",
    "platform.recurly": "Recurly",
    "platform.hp-postgres": "PostgreSQL",
    "platform.postgres": "PostgreSQL (legacy)",
    "platform.mysql": "MySQL",
    "platform.salesforce": "Salesforce",
    "platform.shopify": "Shopify",
    "platform.github": "GitHub",
    "platform.google-analytics": "Google Analytics",
    "import_api": "Import API",
}
# Properties an end user may set; the rest Stitch fills (read_only) or OAuth provides.
USER_SETTABLE = ("user_provided", "user_provided_immutable", "user_provided_advanced")


def display_name_for(source_type: str) -> str:
    if source_type in KNOWN_NAMES:
        return KNOWN_NAMES[source_type]
    tail = source_type.split(".", 1)[-1]
    return " ".join(word.capitalize() for word in tail.replace("_", "-").split("-") if word)


def label_for(property_name: str) -> str:
    words = property_name.replace("-", "_").split("_")
    label = " ".join(words).strip()
    return label[:1].upper() + label[1:]


def usable(source_type: SourceType) -> bool:
    """A type an end user can connect: it has steps and the account may use it."""
    return source_type.report_card is not None and bool(source_type.details.get("access", True))


def describe(source_type: SourceType) -> OfferedType:
    card = source_type.report_card
    steps = [step.type for step in card.steps] if card else []
    form: list[FormField] = []
    if card:
        for step in card.steps:
            if step.type != "form":
                continue
            for prop in step.properties:
                if prop.get("property_type", "user_provided") not in USER_SETTABLE:
                    continue
                form.append(
                    {
                        "name": prop["name"],
                        "label": label_for(prop["name"]),
                        "is_required": bool(prop.get("is_required")),
                        "is_credential": bool(prop.get("is_credential")),
                        "property_type": prop.get("property_type", "user_provided"),
                        "json_schema": prop.get("json_schema"),
                    }
                )
    # Required fields first, in Stitch's order otherwise: what a person fills in first.
    form.sort(key=lambda p: not p["is_required"])
    return {
        "type": source_type.type,
        "display_name": display_name_for(source_type.type),
        "steps": steps,
        "form": form,
    }


def offered(
    settings: Settings, types: Sequence[SourceType], allowed: Sequence[str] | None
) -> list[OfferedType]:
    """The types a session's end user may connect (`allowed`: the session's list, None for
    all), with the form narrowed to what an end user may set; a type one of whose steps would
    hand the browser a login to a shared Stitch account is left out."""
    offered: list[OfferedType] = []
    for source_type in types:
        if not usable(source_type) or (allowed is not None and source_type.type not in allowed):
            continue
        described = describe(source_type)
        if stitchjs_gate.refusal(settings, source_type.type, described["steps"]) is not None:
            continue
        described["form"] = end_user_form(settings, described["form"])
        offered.append(described)
    return offered


async def for_session(services: Services, cs: ConnectSession) -> list[OfferedType]:
    """What `offered` says for the session, from its account's (cached) report cards."""
    account = await services.account_for(cs.tenant)
    types = await services.source_types.get(cs.tenant or "", account)
    return offered(services.settings, types, cs.source_types)
