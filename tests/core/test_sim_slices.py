"""A fast simulated feed hands the loop back every few events: a key or a
frame queued meanwhile waits for one slice, not for a whole tick's burst."""

from __future__ import annotations

import asyncio

from quantdesk.core.bus import Bus
from quantdesk.venues.sim.clob import SimClobVenue
from quantdesk.venues.sim.clock import ManualClock
from quantdesk.venues.sim.venue import MAX_BURST, SLICE

START_NS = 1_795_000_000_000_000_000


async def test_a_busy_feed_yields_to_other_tasks_between_slices():
    bus = Bus()
    published = [0]
    bus.subscribe("#", lambda topic, event: published.__setitem__(0, published[0] + 1))
    venue = SimClobVenue(7, 1_000_000, ManualClock(START_NS))  # far more than a tick can emit: full bursts
    feed = asyncio.create_task(venue.run(bus))
    gaps: list[int] = []
    seen = 0
    try:
        while published[0] < 3 * MAX_BURST:  # what another task (the App's queue) sees between its turns
            await asyncio.sleep(0)
            gaps.append(published[0] - seen)
            seen = published[0]
    finally:
        feed.cancel()
    assert published[0] >= 3 * MAX_BURST
    assert max(gaps) < 2 * SLICE, f"the feed held the loop for {max(gaps)} events in one turn"
