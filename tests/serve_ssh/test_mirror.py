"""A console's session over the shared one: the same books from the first
frame, market data as it arrives, never the source's own orders."""

from __future__ import annotations

import asyncio

from quantdesk.core.model import Order
from quantdesk.venues.mirror import mirror_session
from quantdesk.venues.session import simulated_session


async def test_a_late_mirror_starts_from_the_source_state_and_follows_it():
    shared = simulated_session(seed=7, paused=True)
    await shared.start()
    try:
        shared.advance(500)
        mirror = mirror_session(shared)
        await mirror.start()
        await asyncio.sleep(0)
        key = ("sim-drift", "SOL-PERP")
        assert mirror.cache.book(*key).snapshot() == shared.cache.book(*key).snapshot()
        assert mirror.cache.funding[key] == shared.cache.funding[key]
        assert list(mirror.cache.trades[key]) == list(shared.cache.trades[key])
        shared.advance(2000)  # deltas only from here on: a missed or doubled one would show
        for k in shared.cache.books:
            assert mirror.cache.books[k].snapshot() == shared.cache.books[k].snapshot()
            assert not mirror.cache.books[k].needs_resync
        assert mirror.cache.oracle == shared.cache.oracle
        shared.bus.publish("order.sim-drift", Order("sim-drift", "SOL-PERP", "o1", "buy", "limit", 10, 1))
        assert "o1" in shared.cache.orders and not mirror.cache.orders  # another trader's order stays theirs
        await mirror.stop()
        before = mirror.cache.events
        shared.advance(500)
        assert mirror.cache.events == before  # a stopped mirror no longer listens
        assert shared.venues["sim-drift"].markets  # and the source runs on
    finally:
        await shared.stop()
