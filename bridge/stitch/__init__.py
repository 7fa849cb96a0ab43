"""The bridge's client for the Stitch Connect API: typed objects in, typed errors out.

It is configured by URL (the real API or the emulator) and imports nothing else of the app.
"""

from .account import UNSET, StitchAccount
from .budget import TokenBucketBudget, UnlimitedBudget, UpstreamBudget
from .client import StitchClient
from .errors import (
    StitchAccessDenied,
    StitchAlreadyRunning,
    StitchBadRequest,
    StitchDestinationRefused,
    StitchError,
    StitchInvalidName,
    StitchInvalidProperties,
    StitchInvalidType,
    StitchNotFound,
    StitchRateLimited,
    StitchTransportError,
    StitchUnauthorized,
    StitchUnavailable,
    parse_error,
)
from .models import (
    ConnectionCheck,
    Destination,
    ReportCard,
    ReportCardStep,
    Source,
    SourceType,
    Stream,
)
from .retry import RetryPolicy

__all__ = [
    "UNSET",
    "ConnectionCheck",
    "Destination",
    "ReportCard",
    "ReportCardStep",
    "RetryPolicy",
    "Source",
    "SourceType",
    "StitchAccessDenied",
    "StitchAccount",
    "StitchAlreadyRunning",
    "StitchBadRequest",
    "StitchClient",
    "StitchDestinationRefused",
    "StitchError",
    "StitchInvalidName",
    "StitchInvalidProperties",
    "StitchInvalidType",
    "StitchNotFound",
    "StitchRateLimited",
    "StitchTransportError",
    "StitchUnauthorized",
    "StitchUnavailable",
    "Stream",
    "TokenBucketBudget",
    "UnlimitedBudget",
    "UpstreamBudget",
    "parse_error",
]
