"""Which steps may hand a browser a Stitch ephemeral token (CONTRACT §4.6).

Stitch.js needs an ephemeral token, and that token logs its holder into the Stitch web app as the
account's user for 12 hours (reference §2.5). In partner mode the account is the tenant's own; in
single-account mode it is shared by every end user of the SaaS, so a step only Stitch.js can run
is not offered there unless the operator accepts that with BRIDGE_SHARED_ACCOUNT_STITCHJS.
"""

from __future__ import annotations

from collections.abc import Iterable

from bridge.settings import Settings

OPT_IN = "BRIDGE_SHARED_ACCOUNT_STITCHJS"


def ephemeral_tokens_allowed(settings: Settings) -> bool:
    return settings.partner_mode or settings.shared_account_stitchjs


def _has_white_label_app(settings: Settings, source_type: str) -> bool:
    return any(app.source_type == source_type for app in settings.oauth_apps)


def step_needs_stitchjs(settings: Settings, source_type: str, step: str) -> bool:
    """Whether this step of a source of `source_type` runs in Stitch.js under these settings
    (the native driver runs every step itself, OAuth only with a white-label app)."""
    if settings.driver == "stitchjs":
        return True
    return step == "oauth" and not _has_white_label_app(settings, source_type)


def refusal(settings: Settings, source_type: str, step_types: Iterable[str]) -> str | None:
    """Why end users may not connect `source_type` here, or None when they may."""
    if ephemeral_tokens_allowed(settings):
        return None
    needing = [s for s in step_types if step_needs_stitchjs(settings, source_type, s)]
    if not needing:
        return None
    if settings.driver == "stitchjs":
        return (
            f"{source_type} is not offered: the stitchjs step driver would hand the browser a "
            f"login to the shared Stitch account (see {OPT_IN})"
        )
    return (
        f"{source_type} is not offered: its OAuth step needs a white-label OAuth app "
        f"(a BRIDGE_OAUTH_APPS entry for {source_type}); without one it would run in Stitch.js, "
        f"which hands the browser a login to the shared Stitch account (see {OPT_IN})"
    )


def startup_notice(settings: Settings) -> str | None:
    """The one line `serve` and `check` print about Stitch.js in single-account mode."""
    if settings.partner_mode:
        return None
    if settings.shared_account_stitchjs:
        return (
            f"warning: {OPT_IN}=true: every browser that runs a Stitch.js step gets a 12-hour "
            "Stitch login to the whole shared account, and with it every end user's sources"
        )
    apps = ", ".join(app.source_type for app in settings.oauth_apps) or "none"
    return (
        "Stitch.js: off in single-account mode; OAuth source types without a BRIDGE_OAUTH_APPS "
        f"entry are not offered (white-label OAuth apps: {apps})"
    )
