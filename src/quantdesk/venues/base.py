"""What an adapter implements and raises: the venue interface of ``core.venue``.

Adapters import from here; the router and the core import ``core.venue``
directly (they sit below the venues).
"""

from __future__ import annotations

from quantdesk.core.venue import (
    ApprovalHook,
    ApprovesTransactions,
    CandleSource,
    Declined,
    HealthView,
    OrderHistory,
    Playback,
    PlaybackProgress,
    RiskContext,
    Steppable,
    SteppedClock,
    TradingUnavailable,
    TradingVenue,
    TransactionPreview,
    Venue,
    VenueError,
    is_protective,
)

__all__ = [
    "ApprovalHook",
    "ApprovesTransactions",
    "CandleSource",
    "Declined",
    "HealthView",
    "OrderHistory",
    "Playback",
    "PlaybackProgress",
    "RiskContext",
    "Steppable",
    "SteppedClock",
    "TradingUnavailable",
    "TradingVenue",
    "TransactionPreview",
    "Venue",
    "VenueError",
    "is_protective",
]
