"""Session: venues, bus and cache wired together; start/stop; gaps resync."""

from __future__ import annotations

import asyncio

import pytest

from quantdesk.core.model import BookDelta, Market
from quantdesk.venues.session import Session, simulated_session
from quantdesk.venues.sim.clock import ManualClock

START = 1_795_500_000_000_000_000


async def until(cond, timeout=5.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.005)


async def test_start_streams_to_a_full_state_and_stop_ends_the_tasks():
    s = simulated_session(seed=7, rate=3_000)
    await s.start()
    try:
        assert {m.venue for m in s.markets} == {"sim-drift", "sim-jup"}
        assert len(s.markets) == 6
        await until(s.cache.has_full_state)
        assert s.cache.status["sim-drift"].state == "connected"
        n = s.cache.events
        await until(lambda: s.cache.events > n + 20)  # still streaming
    finally:
        await s.stop()
    assert s.cache.status["sim-drift"].state == "down"
    assert s.cache.status["sim-jup"].state == "down"
    n = s.cache.events
    await asyncio.sleep(0.05)
    assert s.cache.events == n  # nothing after stop
    assert s.errors == []


async def test_paused_session_emits_only_on_advance():
    s = simulated_session(seed=7, paused=True, clock=ManualClock(START))
    await s.start()
    try:
        await asyncio.sleep(0.02)
        n = s.cache.events  # the opening state only
        assert len(s.cache.books) == 6
        await asyncio.sleep(0.05)
        assert s.cache.events == n
        s.advance(500)
        assert s.cache.events >= n + 500
        assert s.cache.has_full_state()
    finally:
        await s.stop()


def inject_gap(s: Session, venue: str, market: str) -> None:
    """A delta from the future: what a dropped websocket message looks like."""
    book = s.cache.book(venue, market)
    s.bus.publish(f"book.{venue}.{market}", BookDelta(venue, market, book.seq + 5, book.ts, [(1, 1)], []))


async def test_a_gap_requests_a_resync_and_the_snapshot_repairs_the_book():
    s = simulated_session(seed=7, paused=True, clock=ManualClock(START))
    await s.start()
    try:
        s.advance(200)
        inject_gap(s, "sim-drift", "BTC-PERP")
        book = s.cache.book("sim-drift", "BTC-PERP")
        assert book.needs_resync and book.gaps == 1
        assert not s.cache.has_full_state()
        s.advance(1)
        assert not book.needs_resync
        assert 1 not in book.bids  # the injected level did not survive the snapshot
        engine = s.venues["sim-drift"].books["BTC-PERP"].engine
        assert book.sorted_bids() == engine.levels()[0]
        assert s.cache.has_full_state()
    finally:
        await s.stop()


async def test_a_running_session_recovers_from_a_gap_by_itself():
    s = simulated_session(seed=4, rate=2_000)
    await s.start()
    try:
        await until(s.cache.has_full_state)
        inject_gap(s, "sim-jup", "ETH-PERP")
        assert s.cache.book("sim-jup", "ETH-PERP").needs_resync
        await until(lambda: not s.cache.book("sim-jup", "ETH-PERP").needs_resync)
        assert s.cache.book("sim-jup", "ETH-PERP").gaps == 1
    finally:
        await s.stop()


class FailingVenue:
    """A venue whose stream dies: the session must say so, not hang silently."""

    id = "broken"
    kind = "clob"
    can_trade = False

    async def connect(self):
        return [Market("broken", "X-PERP", "X", "USDC", "clob", 1, 1)]

    async def run(self, bus):
        raise ConnectionError("socket closed by peer")

    def request_resync(self, market):
        pass

    async def close(self):
        pass


async def test_a_venue_that_stops_is_reported_in_errors():
    s = Session([FailingVenue()], clock=lambda: 0)
    await s.start()
    await until(lambda: bool(s.errors))
    assert "broken" in s.errors[0] and "socket closed by peer" in s.errors[0]
    await s.stop()


def test_advance_needs_a_simulated_venue():
    with pytest.raises(RuntimeError, match="simulated"):
        Session([FailingVenue()], clock=lambda: 0).advance(1)
