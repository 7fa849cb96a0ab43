"""A fake third-party OAuth 2.0 provider (stands in for HubSpot) and the state it keeps."""

from __future__ import annotations

from typing import Any

from .models import ProviderClient, ProviderUser
from .state import (
    BUILTIN_CLIENT_ID,
    CODE_TTL,
    POPUP_CALLBACK_PATH,
    Consent,
    ProviderState,
    Redirect,
    Refusal,
)

__all__ = [
    "BUILTIN_CLIENT_ID",
    "CODE_TTL",
    "POPUP_CALLBACK_PATH",
    "Consent",
    "ProviderClient",
    "ProviderState",
    "ProviderUser",
    "Redirect",
    "Refusal",
    "provider_for",
]


def provider_for(backend: Any) -> ProviderState:
    """The provider of this emulator backend, created on first use and kept on the backend.

    Both the provider routes and the popup's OAuth callback reach it this way, so they share
    one set of clients and codes per emulator app.
    """
    provider: ProviderState | None = getattr(backend, "provider", None)
    if provider is None:
        provider = ProviderState(now=backend.clock.now)
        backend.provider = provider
    return provider
