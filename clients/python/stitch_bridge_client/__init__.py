"""Python client for the stitch-bridge API (server to server, with an API key), and webhook
signature verification. Depends on httpx only.

    from stitch_bridge_client import Client, Webhook

    with Client("https://bridge.example.com", api_key) as bridge:
        session = bridge.sessions.create(end_user={"id": "user-1"}, actions=["sync"])
    event = Webhook.verify(request_body, signature_header, webhook_secret)
"""

from __future__ import annotations

from stitch_bridge_client._async import AsyncClient
from stitch_bridge_client._calls import NOT_GIVEN
from stitch_bridge_client._errors import (
    APIConnectionError,
    AuthenticationError,
    BadPropertiesError,
    BridgeError,
    ConflictError,
    InternalError,
    InvalidRequestError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ReceiptInvalidError,
    SignatureVerificationError,
    TokenError,
    UpstreamError,
)
from stitch_bridge_client._models import (
    ConnectLink,
    ConnectSession,
    Event,
    EventPage,
    Receipt,
    Schedule,
    Source,
    SyncState,
)
from stitch_bridge_client._sync import Client
from stitch_bridge_client._webhook import Webhook

__version__ = "0.1.0"

__all__ = [
    "NOT_GIVEN",
    "APIConnectionError",
    "AsyncClient",
    "AuthenticationError",
    "BadPropertiesError",
    "BridgeError",
    "Client",
    "ConflictError",
    "ConnectLink",
    "ConnectSession",
    "Event",
    "EventPage",
    "InternalError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "Receipt",
    "ReceiptInvalidError",
    "Schedule",
    "SignatureVerificationError",
    "Source",
    "SyncState",
    "TokenError",
    "UpstreamError",
    "Webhook",
    "__version__",
]
