"""Feed fan-out through the real Redis: what a terminal sees equals what the feed sees."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from quantdesk.venues.redis_conn import client

from quantdesk.core.model import BookDelta, OrderIntent
from quantdesk.venues.feed_wire import FeedKeys
from quantdesk.venues.relay.venue import FeedSource
from support.feed_rig import redis_session
from quantdesk.venues.base import VenueError
from quantdesk.venues.sim.clock import ManualClock

from support.app import START_NS
from support.feed_rig import FeedRig, book_mismatches
from support.wait import wait_until


async def _consumers(url: str, ns: str, n: int, **kw):
    sessions = [redis_session(url, ns, **kw) for _ in range(n)]
    for s in sessions:
        await s.start()
    return sessions


async def _stop(sessions) -> None:
    for s in sessions:
        await s.stop()


def _source(session) -> FeedSource:
    return session.venues["feed"]


async def test_late_joiner_gets_full_state_at_once(redis_url, ns):
    feed = await FeedRig(redis_url, ns, paused=True).start()
    try:
        feed.session.advance(3000)
        await feed.publisher.flush()
        await asyncio.sleep(0.3)  # the snapshot refresh interval passes
        await feed.publisher.flush()
        (late,) = await _consumers(redis_url, ns, 1)
        assert sorted(m.key for m in late.markets) == sorted(m.key for m in feed.session.markets)
        assert await wait_until(lambda: _source(late).synced.is_set(), 5)
        # Full state from the keys alone: nothing new was published since.
        assert late.cache.has_full_state()
        assert book_mismatches(feed.session, late) == []
        for key, funding in feed.session.cache.funding.items():
            assert late.cache.funding[key] == funding
        for key, oracle in feed.session.cache.oracle.items():
            assert late.cache.oracle[key] == oracle
        assert late.cache.trades, "the trade tape is backfilled for a late joiner"
        await _stop([late])
    finally:
        await feed.close()


async def test_twenty_consumer_terminals_see_the_feeds_books(redis_url, ns):
    # The feed is stepped, not run at a rate: the same 6,000 events however
    # loaded the machine, so twenty terminals always have the same work to catch up on.
    feed = await FeedRig(redis_url, ns, paused=True).start()
    consumers = []
    try:
        consumers += await _consumers(redis_url, ns, 10)
        feed.session.advance(3000)
        await feed.publisher.flush()
        consumers += await _consumers(redis_url, ns, 10)  # joining mid-stream
        feed.session.advance(3000)
        await feed.publisher.flush()
        await feed.stop_venues()
        ok = await wait_until(lambda: all(not book_mismatches(feed.session, c) for c in consumers), 15)
        assert ok, [book_mismatches(feed.session, c) for c in consumers]
        assert feed.publisher.published > 2000
        for c in consumers:
            src = _source(c)
            assert src.events > 100
            assert src.gaps == 0 and src.malformed == 0
        # The feed's venues closed, and every terminal hears it.
        assert await wait_until(lambda: all(c.cache.status["sim-drift"].state == "down" for c in consumers), 5)
    finally:
        await _stop(consumers)
        await feed.close()


async def test_a_gap_in_the_stream_forces_a_resync(redis_url, ns):
    feed = await FeedRig(redis_url, ns, rate=1000).start()
    (term,) = await _consumers(redis_url, ns, 1)
    try:
        assert await wait_until(lambda: _source(term).synced.is_set(), 5)
        await asyncio.sleep(0.3)
        keys = FeedKeys(ns)
        r = client(redis_url)  # a cluster client too, when the URL says so
        await r.xadd(keys.streams["trade"], {b"e": b"\xc1 not msgpack"})
        assert await wait_until(lambda: _source(term).malformed == 1, 5), "a malformed entry is counted and dropped"
        # A delta far ahead of the book: some deltas never arrived.
        book = term.cache.book("sim-drift", "SOL-PERP")
        bogus = BookDelta("sim-drift", "SOL-PERP", book.seq + 500, 0, [(1, 1)], [])
        await r.xadd(keys.streams["book"], {b"e": msgspec.msgpack.encode(bogus)})
        await r.aclose()
        assert await wait_until(lambda: _source(term).gaps >= 1, 5)
        await asyncio.sleep(0.5)
        await feed.stop_venues()
        assert await wait_until(lambda: not book_mismatches(feed.session, term), 10), book_mismatches(feed.session, term)
        assert _source(term).resyncs >= 1
    finally:
        await _stop([term])
        await feed.close()


async def test_status_shows_feed_age_and_goes_stale_when_the_feed_stops(redis_url, ns):
    # The feed and the terminal share a manual clock: the feed's age is what
    # the test says it is, not how long a loaded machine took.
    clock = ManualClock(START_NS)
    feed = await FeedRig(redis_url, ns, rate=500, clock=clock).start()
    (term,) = await _consumers(redis_url, ns, 1, stale_after_s=0.8, clock=clock)
    try:
        assert await wait_until(lambda: "feed" in term.cache.status, 5)
        st = term.cache.status["feed"]
        assert st.state == "connected"
        assert st.age_s(term.clock()) < 1.5
        assert "redis://127.0.0.1:6379" in st.message
        await feed.close()  # the feed process dies: nothing refreshes the heartbeat
        clock.advance(800_000_000)
        assert await wait_until(lambda: term.cache.status["feed"].state == "stale", 5)
        assert term.cache.status["feed"].age_s(term.clock()) >= 0.8
    finally:
        await _stop([term])


async def test_restarted_feed_is_followed(redis_url, ns):
    first = await FeedRig(redis_url, ns, rate=1000, seed=3).start()
    (term,) = await _consumers(redis_url, ns, 1)
    await asyncio.sleep(0.5)
    await first.close()
    # A new feed process: new epoch, sequences start over.
    second = await FeedRig(redis_url, ns, rate=1000, seed=4).start()
    try:
        await asyncio.sleep(1.0)
        await second.stop_venues()
        assert await wait_until(lambda: not book_mismatches(second.session, term), 10), book_mismatches(
            second.session, term
        )
    finally:
        await _stop([term])
        await second.close()


async def test_no_feed_is_a_clear_error(redis_url, ns):
    src = FeedSource(redis_url, ns, connect_timeout=0.3)
    with pytest.raises(VenueError, match=f"quantdesk feed --redis URL --namespace {ns}"):
        await src.connect()
    await src.close()
    dead = FeedSource("redis://127.0.0.1:1/0", ns, connect_timeout=0.3)
    with pytest.raises(VenueError, match="unreachable"):
        await dead.connect()
    await dead.close()


async def test_a_feed_terminal_is_read_only(redis_url, ns, tmp_path):
    from quantdesk.wiring.trading import open_paper_trading

    term = redis_session(redis_url, ns)
    paper = open_paper_trading(term, tmp_path / "journal.sqlite")
    try:
        assert paper.router.executors == {}  # the feed reader offers no trading capability
        ack = await paper.router.submit(OrderIntent("sim-drift", "SOL-PERP", "buy", "market", 10**9))
        assert not ack.ok and ack.order is None
        assert "read-only" in ack.message
        assert paper.journal.open_orders() == []  # nothing was recorded as sent
    finally:
        paper.close()
        await term.stop()
