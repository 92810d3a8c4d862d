"""The feed publisher against a real Redis: one event it cannot carry costs that
event only, and trades seen while Redis is away reach it when it returns."""

from __future__ import annotations

import asyncio

import msgspec
import redis.asyncio

from quantdesk.core.model import BookDelta, Funding, Trade
from quantdesk.venues.feed_wire import FeedBeat, FeedKeys
from support.feed_rig import redis_session

from support.feed_rig import FeedRig
from support.wait import wait_until


async def _beat_ts(r, keys: FeedKeys) -> int:
    return msgspec.msgpack.decode(await r.get(keys.heartbeat), type=FeedBeat).ts


async def test_an_unencodable_event_is_rejected_alone_and_heartbeats_go_on(redis_url, ns):
    feed = await FeedRig(redis_url, ns, paused=True, heartbeat_interval=0.2).start()
    term = redis_session(redis_url, ns, stale_after_s=1.0)
    await term.start()
    r = redis.asyncio.Redis.from_url(redis_url)
    keys = FeedKeys(ns)
    try:
        feed.session.advance(300)
        await feed.publisher.flush()
        assert await wait_until(lambda: term.venues["feed"].synced.is_set(), 5)
        bus = feed.session.bus
        book = feed.publisher.books[("sim-drift", "SOL-PERP")]
        huge = BookDelta("sim-drift", "SOL-PERP", book.seq + 1, 1, [(10**40, 10**9)], [])
        bus.publish("book.sim-drift.SOL-PERP", huge)
        bus.publish("funding.sim-drift.SOL-PERP", Funding("sim-drift", "SOL-PERP", 1, 10**40, 0, 3600, 0))
        assert feed.publisher.rejected == 2
        before = await _beat_ts(r, keys)
        await asyncio.sleep(0.6)
        assert not feed.task.done(), "the publisher is still running"
        assert await _beat_ts(r, keys) > before, "heartbeats go on"
        # The rejected delta never reached the feed's book, its state key or the terminal.
        assert all(p < 2**63 for p, _ in feed.publisher.books[("sim-drift", "SOL-PERP")].sorted_bids())
        assert term.cache.status["feed"].state == "connected"
        feed.session.advance(300)
        await feed.publisher.flush()
        await feed.stop_venues()

        def same_as_published() -> bool:
            fb, cb = feed.publisher.books[("sim-drift", "SOL-PERP")], term.cache.book("sim-drift", "SOL-PERP")
            return cb is not None and (cb.seq, cb.sorted_bids()) == (fb.seq, fb.sorted_bids())

        assert await wait_until(same_as_published, 10)
    finally:
        await r.aclose()
        await term.stop()
        await feed.close()


def _trade(i: int) -> Trade:
    return Trade("sim-drift", "SOL-PERP", 1_000 + i, 50_000_000 + i, 10**9, "buy")


def _marked(trades) -> list[int]:
    """The test's own trades (by their marker price), in the order seen."""
    return [t.price - 50_000_000 for t in trades if 50_000_000 <= t.price < 50_001_000]


async def test_trades_published_while_redis_is_down_are_replayed_in_order_once(redis_server):
    srv = redis_server()
    feed = await FeedRig(srv.url, "desk", paused=True).start()
    term = redis_session(srv.url, "desk")
    await term.start()
    bus = feed.session.bus
    try:
        feed.session.advance(200)
        await feed.publisher.flush()
        assert await wait_until(lambda: term.venues["feed"].synced.is_set(), 5)
        for i in range(5):
            bus.publish("trade.sim-drift.SOL-PERP", _trade(i))
        await feed.publisher.flush()
        tape = lambda: _marked(term.cache.trades.get(("sim-drift", "SOL-PERP"), ()))  # noqa: E731
        assert await wait_until(lambda: tape() == [0, 1, 2, 3, 4], 5)

        srv.kill()
        assert await wait_until(lambda: feed.publisher.state == "down", 5)
        for i in range(5, 15):
            bus.publish("trade.sim-drift.SOL-PERP", _trade(i))
        assert feed.publisher.outbox == 10

        srv.start()  # empty: the trades seen meanwhile exist only in the feed's outbox
        assert await wait_until(lambda: feed.publisher.state == "connected" and feed.publisher.outbox == 0, 10)
        assert feed.publisher.replayed == 10
        r = redis.asyncio.Redis(port=srv.port)
        entries = await r.xrange(FeedKeys("desk").streams["trade"])
        await r.aclose()
        stream = _marked(msgspec.msgpack.decode(f[b"e"], type=Trade) for _id, f in entries)
        assert stream == list(range(5, 15)), "each replayed once, in order"
        # The terminal shows every trade exactly once, in order, across the outage.
        assert await wait_until(lambda: tape() == list(range(15)), 10), tape()
        # And a later resync does not show them again.
        term.venues["feed"].request_resync()
        syncs = term.venues["feed"].syncs
        assert await wait_until(lambda: term.venues["feed"].syncs > syncs, 5)
        assert tape() == list(range(15))
    finally:
        await term.stop()
        await feed.close()
