"""A simulator at ``[sim] rate = 0`` sends data only when asked: its silence
is not a stale feed, while a live feed that goes quiet still is."""

from __future__ import annotations

from quantdesk.console.freshness import STALE_AFTER_S, venue_state
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import VenueStatus
from quantdesk.venues.session import simulated_session
from quantdesk.venues.sim.clock import ManualClock

from support.app import START_NS

LATER = START_NS + int((STALE_AFTER_S + 60) * 1e9)


async def test_rate_zero_simulator_is_never_stale():
    session = simulated_session(seed=7, clock=ManualClock(START_NS), rate=0)
    await session.start()
    try:
        session.advance(200)
        for venue in session.cache.venues():
            assert venue_state(session.cache, venue, LATER)[0] == "connected"
    finally:
        await session.stop()


def test_a_quiet_live_feed_is_still_stale():
    cache = MarketCache()
    cache.on_event("status.drift", VenueStatus("drift", "connected", START_NS, START_NS))
    assert venue_state(cache, "drift", LATER)[0] == "stale"
