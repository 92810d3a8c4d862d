"""Is a venue's data live? One answer for the status bar and every pane."""

from __future__ import annotations

from quantdesk.core.cache import MarketCache

STALE_AFTER_S = 5.0  # no data for this long looks stale even if the venue says connected
NOT_LIVE = ("stale", "down", "connecting")


def venue_state(cache: MarketCache, venue: str, now_ns: int) -> tuple[str, float | None]:
    """(connection state, seconds since the venue's last data). A venue that
    says it is connected but has sent nothing for ``STALE_AFTER_S`` is stale,
    unless it sends only on demand (a simulator at ``[sim] rate = 0``)."""
    status = cache.status.get(venue)
    state = status.state if status is not None else "connecting"
    age = cache.data_age_s(venue, now_ns)
    if age is None and status is not None and status.last_message_ts:
        age = status.age_s(now_ns)  # a source with no market data of its own (a Redis feed)
    on_demand = status is not None and status.on_demand
    if state == "connected" and not on_demand and age is not None and age > STALE_AFTER_S:
        state = "stale"
    return state, age
