"""Hostile entries in a shared feed, written straight into the real Redis: the
terminal's feed reader counts each by kind, logs it once, drops it and lives,
and its status says so."""

from __future__ import annotations

import asyncio
import logging

import msgspec
import redis.asyncio

from quantdesk.core.model import BookDelta, Order, Position, Trade
from quantdesk.venues.feed_wire import FeedBeat, FeedKeys
from quantdesk.venues.relay.venue import FeedSource
from support.feed_rig import redis_session

from support.feed_rig import FeedRig, book_mismatches
from support.wait import wait_until

enc = msgspec.msgpack.encode


def _source(session) -> FeedSource:
    return session.venues["feed"]


def _reader_alive(session) -> bool:
    return not session.errors and all(not t.done() for t in session._tasks)


async def _synced_pair(url: str, ns: str, **kw):
    feed = await FeedRig(url, ns, paused=True, **kw).start()
    feed.session.advance(400)
    await feed.publisher.flush()
    term = redis_session(url, ns)
    await term.start()
    assert await wait_until(lambda: _source(term).synced.is_set(), 5)
    return feed, term


async def _more_events_flow(feed: FeedRig, term) -> bool:
    before = _source(term).events
    feed.session.advance(200)
    await feed.publisher.flush()
    return await wait_until(lambda: _source(term).events > before, 5)


async def test_an_entry_without_its_event_field_is_counted_logged_once_and_dropped(redis_url, ns, caplog):
    feed, term = await _synced_pair(redis_url, ns)
    r = redis.asyncio.Redis.from_url(redis_url)
    keys = FeedKeys(ns)
    try:
        with caplog.at_level(logging.WARNING, logger="quantdesk.venues.relay.venue"):
            for stream in ("book", "trade", "book"):
                await r.xadd(keys.streams[stream], {b"x": b"1"})
            assert await wait_until(lambda: _source(term).drops.get("no_event_field") == 3, 5)
        assert sum("no event field" in rec.getMessage() for rec in caplog.records) == 1
        assert _reader_alive(term)
        assert await _more_events_flow(feed, term), "the reader keeps reading after the bad entries"
        assert await wait_until(lambda: "3 bad entries dropped" in term.cache.status["feed"].message, 5)
        assert term.cache.status["feed"].state == "connected"
    finally:
        await r.aclose()
        await term.stop()
        await feed.close()


async def test_an_event_of_another_kind_in_the_book_stream_is_dropped(redis_url, ns):
    feed, term = await _synced_pair(redis_url, ns)
    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        odd = Trade("sim-drift", "SOL-PERP", 1, 123_456_789, 10**9, "buy")
        await r.xadd(FeedKeys(ns).streams["book"], {b"e": enc(odd)})
        assert await wait_until(lambda: _source(term).drops.get("wrong_family") == 1, 5)
        assert all(t.price != odd.price for t in term.cache.trades.get(("sim-drift", "SOL-PERP"), ()))
        assert _reader_alive(term)
        assert await _more_events_flow(feed, term)
    finally:
        await r.aclose()
        await term.stop()
        await feed.close()


async def test_order_and_position_events_in_the_feed_never_reach_the_cache(redis_url, ns):
    feed, term = await _synced_pair(redis_url, ns)
    r = redis.asyncio.Redis.from_url(redis_url)
    keys = FeedKeys(ns)
    try:
        order = Order("sim-drift", "SOL-PERP", "o-foreign", "buy", "limit", 10**9, price=100_000_000)
        pos = Position("sim-drift", "SOL-PERP", 5 * 10**9, -500_000_000, 100_000_000)
        await r.xadd(keys.streams["trade"], {b"e": enc(order)})
        await r.xadd(keys.streams["status"], {b"e": enc(pos)})
        assert await wait_until(lambda: _source(term).drops.get("account_event") == 2, 5)
        assert term.cache.orders == {} and term.cache.positions == {}
        assert _reader_alive(term)
        assert await _more_events_flow(feed, term)
    finally:
        await r.aclose()
        await term.stop()
        await feed.close()


async def test_a_book_delta_with_a_negative_size_is_never_applied(redis_url, ns):
    feed, term = await _synced_pair(redis_url, ns)
    r = redis.asyncio.Redis.from_url(redis_url)
    try:
        book = term.cache.book("sim-drift", "SOL-PERP")
        price = book.best_bid()[0]
        bad = BookDelta("sim-drift", "SOL-PERP", book.seq + 1, 0, [(price, -5 * 10**9)], [])
        await r.xadd(FeedKeys(ns).streams["book"], {b"e": enc(bad)})
        assert await wait_until(lambda: _source(term).drops.get("bad_level") == 1, 5)
        assert all(size > 0 for _p, size in term.cache.book("sim-drift", "SOL-PERP").sorted_bids())
        # The feed's real next deltas follow on as if the bad one never came.
        feed.session.advance(300)
        await feed.publisher.flush()
        assert await wait_until(lambda: not book_mismatches(feed.session, term), 5), book_mismatches(feed.session, term)
        assert _reader_alive(term)
    finally:
        await r.aclose()
        await term.stop()
        await feed.close()


async def test_garbage_in_the_heartbeat_key_shows_as_an_unreadable_heartbeat_not_a_crash(redis_url, ns):
    feed = await FeedRig(redis_url, ns, paused=True, heartbeat_interval=60.0).start()
    term = redis_session(redis_url, ns, stale_after_s=0.5)
    await term.start()
    r = redis.asyncio.Redis.from_url(redis_url)
    keys = FeedKeys(ns)
    try:
        assert await wait_until(lambda: _source(term).synced.is_set(), 5)
        await r.set(keys.heartbeat, b"\xc1garbage")
        assert await wait_until(lambda: _source(term).drops.get("bad_heartbeat", 0) >= 1, 5)
        assert await wait_until(lambda: term.cache.status["feed"].state == "stale", 5)
        assert "heartbeat unreadable" in term.cache.status["feed"].message
        assert _reader_alive(term)
        # Good heartbeats again (as a live feed writes them): connected again.
        for _ in range(100):
            await r.set(keys.heartbeat, enc(FeedBeat(term.clock(), _source(term).feed_epoch, 0, 0)))
            if await wait_until(lambda: term.cache.status["feed"].state == "connected", 0.1):
                break
        assert term.cache.status["feed"].state == "connected"
        assert "unreadable" not in term.cache.status["feed"].message
    finally:
        await r.aclose()
        await term.stop()
        await feed.close()


async def test_garbage_in_the_markets_key_lets_a_new_terminal_start_with_a_clear_status(redis_url, ns):
    r = redis.asyncio.Redis.from_url(redis_url)
    keys = FeedKeys(ns)
    await r.set(keys.markets, b"not a market list")
    term = redis_session(redis_url, ns, connect_timeout=0.3)
    feed = None
    try:
        await term.start()  # starts: the problem is shown, not raised
        src = _source(term)
        assert src.state == "down"
        assert "market list" in src.last_error and "unreadable" in src.last_error
        assert src.drops.get("bad_markets", 0) >= 1
        assert await wait_until(lambda: "unreadable" in term.cache.status.get("feed", _NoStatus).message, 5)
        assert _reader_alive(term)
        # The feed rewrites its markets: the terminal picks them up and syncs.
        feed = await FeedRig(redis_url, ns, paused=True).start()
        feed.session.advance(200)
        await feed.publisher.flush()
        assert await wait_until(lambda: src.synced.is_set(), 10)
        assert sorted(m.key for m in src.markets) == sorted(m.key for m in feed.session.markets)
        assert term.cache.status["feed"].state == "connected"
    finally:
        await r.aclose()
        await term.stop()
        if feed is not None:
            await feed.close()


async def test_garbage_in_the_markets_key_of_a_running_terminal_is_survived(redis_url, ns):
    feed, term = await _synced_pair(redis_url, ns)
    r = redis.asyncio.Redis.from_url(redis_url)
    keys = FeedKeys(ns)
    try:
        await r.set(keys.markets, b"\x93\x01\x02")
        _source(term).request_resync()
        assert await wait_until(lambda: _source(term).drops.get("bad_markets", 0) >= 1, 5)
        assert await wait_until(lambda: term.cache.status["feed"].state == "down", 5)
        assert _reader_alive(term)
        feed.publisher.set_markets(feed.session.markets)  # the feed rewrites its state
        await asyncio.sleep(0.05)
        assert await wait_until(lambda: term.cache.status["feed"].state == "connected", 10)
        assert await _more_events_flow(feed, term)
    finally:
        await r.aclose()
        await term.stop()
        await feed.close()


class _NoStatus:
    message = ""
    state = ""
