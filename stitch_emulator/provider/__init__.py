"""A fake third-party OAuth 2.0 provider (stands in for HubSpot) and the state it keeps.

`create_app` builds one `ProviderState` per emulator app and hands it to the provider routes, the
popup's OAuth callback and the backend (whose reset clears it), so they share clients and codes.
"""

from __future__ import annotations

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
]
