"""What the real DLOB server does beyond books and fills: heartbeats with a
frozen book, refused subscriptions, pushes for markets not configured, and a
book whose own market name disagrees with its channel."""

from __future__ import annotations

import json
import logging
import time

from support.drift_servers import SOL, book_channel, local
from support.wait import until
from quantdesk.venues.drift.book_watch import BookWatch
from quantdesk.venues.drift.subscriptions import Subscriptions
from quantdesk.venues.drift.venue import DriftVenue

from drift.test_drift_market_data import Running


def book_subscribes(ws, market: str = SOL) -> int:
    return sum(1 for m in ws.subscribes if m.get("channel") == "orderbook" and m.get("market") == market)


async def test_heartbeats_over_a_frozen_book_mark_it_stale_resubscribe_then_replace_the_connection(servers, timers):
    ws, http = servers
    stall = 2.0
    venue = DriftVenue(local(ws, http, silence_s=60.0, book_stall_s=stall), timers=timers)
    async with Running(venue) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        ws.heartbeats_only = True
        seq, subs = r.book().seq, book_subscribes(ws)
        await until(lambda: venue.health.heartbeats >= 2, what="heartbeats")
        await timers.advance_until(lambda: "stale" in r.states(), stall / 2, what="stale")
        stale = next(s for s in r.statuses if s.state == "stale")
        assert "SOL-PERP book has not advanced for 2s" in stale.message
        await until(lambda: book_subscribes(ws) > subs, what="the book resubscribed")
        assert ws.connects == 1 and venue.health.resubscribes == 1
        await timers.advance_until(lambda: ws.connects >= 2, stall / 2, what="a new connection")
        assert "still not advancing" in venue.health.last_error
        ws.heartbeats_only = False
        await until(lambda: r.book().seq > seq and r.states()[-1] == "connected", what="live again")


async def test_a_refused_subscription_names_market_and_channel_and_is_retried(servers, timers):
    ws, http = servers
    nope = {"watchlist": [SOL, "NOPE-PERP"], "overrides": {"NOPE-PERP": {"index": 9}}}  # a market the server lacks
    venue = DriftVenue(local(ws, http, **nope, backoff_initial_s=1.0, backoff_max_s=4.0), timers=timers)
    async with Running(venue) as r:
        await until(lambda: venue.health.subscription_errors == 2, what="both NOPE-PERP subscriptions refused")
        assert "NOPE-PERP" in venue.health.last_error and "retrying" in venue.health.last_error
        assert set(venue.feed.subs.refused()) == {("orderbook", "NOPE-PERP"), ("trades", "NOPE-PERP")}
        assert ("orderbook", SOL) not in venue.feed.subs.refused()  # SOL's were acknowledged
        await until(lambda: r.book() is not None, what="SOL book unaffected")
        before = book_subscribes(ws, "NOPE-PERP")
        await timers.advance_until(lambda: book_subscribes(ws, "NOPE-PERP") > before, 0.5, what="a retry")
        await until(lambda: venue.health.subscription_errors >= 3, what="refused again")


async def test_a_push_for_a_market_not_configured_is_counted_and_logged_once(servers, caplog):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None, what="book")
        eth = dict(ws.books.next("ETH-PERP"))
        with caplog.at_level(logging.WARNING, logger="quantdesk.venues.drift.market_data"):
            for _ in range(3):
                await ws.push_book(eth)
            await ws.send_raw(json.dumps({"channel": "trades_spot_1", "data": "{}"}))
            await until(lambda: r.venue.health.unknown_market == 4, what="four unknown pushes")
        warned = [rec.getMessage() for rec in caplog.records if "does not list" in rec.getMessage()]
        assert len(warned) == 2 and book_channel(2) in warned[0] and "trades_spot_1" in warned[1]
        assert r.venue.health.malformed == 0


async def test_a_book_naming_another_market_than_its_channel_is_dropped(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0))) as r:
        await until(lambda: r.book() is not None, what="book")
        # the start-up REST snapshot is a book too: let it land before counting
        await until(lambda: r.venue.health.rest_snapshots >= 1, what="the start-up snapshot")
        ws.silent = True
        book = ws.books.next(SOL)
        book.update(marketName="ETH-PERP", ts=int(time.time() * 1000), bids=[{"price": "1", "size": "1"}])
        await ws.send_raw(json.dumps({"channel": book_channel(0), "data": json.dumps(book)}))
        await until(lambda: r.venue.health.malformed == 1, what="dropped")
        assert "ETH-PERP" in r.venue.health.last_error
        # Not published: SOL's book never took the bogus level. (A push or REST
        # refresh already under way may still publish a real book meanwhile.)
        assert r.book().best_bid()[0] != 1


def test_book_watch_resubscribes_once_then_asks_for_a_new_connection():
    w = BookWatch(stall_s=10)
    w.start()
    w.watch("A", 0)
    w.watch("B", 0)
    w.watch("A", 5 * 10**9)  # a second acknowledgement does not restart the clock
    assert w.check(9 * 10**9) == []
    w.advanced("B", 9 * 10**9)
    assert w.check(10 * 10**9) == [("A", "resubscribe")]
    assert w.stalled() == ["A"]
    assert w.check(19 * 10**9) == [("B", "resubscribe")]
    assert w.advanced("B", 19 * 10**9) is True and w.stalled() == ["A"]
    assert w.check(20 * 10**9) == [("A", "reconnect")]


def test_subscriptions_lay_a_refusal_on_the_waiting_ones_of_its_channel_and_back_off():
    subs = Subscriptions(1.0, 4.0, delay=lambda attempt, initial, maximum: min(maximum, initial * 2**attempt))
    for key in [("orderbook", "SOL-PERP"), ("trades", "SOL-PERP"), ("orderbook", "X-PERP")]:
        subs.sent(key)
    assert subs.on_ack("Subscribe received for channel: orderbook, market: SOL-PERP, marketType: perp") == (
        "orderbook", "SOL-PERP")
    assert subs.on_error("orderbook", "Error subscribing to channel", now_ns=0) == [("orderbook", "X-PERP")]
    assert subs.due(999_999_999) == [] and subs.due(10**9) == [("orderbook", "X-PERP")]
    assert subs.on_error("orderbook", "Error subscribing to channel", now_ns=10**9) == [("orderbook", "X-PERP")]
    assert subs.due(2 * 10**9) == [] and subs.due(3 * 10**9) == [("orderbook", "X-PERP")]  # 2 s the second time
    assert subs.refused() == {("orderbook", "X-PERP"): "Error subscribing to channel"}


async def test_a_rest_cache_miss_keeps_the_book_and_takes_the_oracle(servers):
    from quantdesk.venues.drift import wire
    from support.drift_servers import l2_cache_miss

    miss = wire.decode_l2(json.dumps(l2_cache_miss(0, 300_000_100)))
    assert wire.market_type(miss) == "perp" and wire.is_cache_miss(miss) and miss.markPrice is None
    assert wire.market_type(wire.decode_l2('{"bids": [], "asks": [], "marketType": "perp"}')) == "perp"
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0))) as r:
        await until(lambda: r.book() is not None, what="book")
        ws.silent = True
        best = r.book().best_bid()
        http.l2_cache_miss = True
        spec = r.venue.deployment.watched[0]
        assert await r.venue.feed.fetch_l2(spec) is False
        assert r.venue.health.rest_cache_misses == 1 and r.venue.health.malformed == 0
        assert r.book().best_bid() == best  # the book shown is kept
        assert r.cache.oracle[(r.venue.id, SOL)].price == 176_548_000


async def test_a_depth_of_50_fills_the_levels_beyond_the_push_from_rest():
    from support.drift_servers import BookSource, DlobWsServer, HttpServer

    books = BookSource(levels=60)
    ws = DlobWsServer(books)
    await ws.start()
    http = HttpServer(books)
    http.start()
    try:
        async with Running(DriftVenue(local(ws, http, book_depth=50, deep_book_poll_s=0.2))) as r:
            await until(lambda: r.venue.health.rest_snapshots >= 1, what="the REST snapshot")
            seq = r.book().seq
            await until(lambda: r.book().seq >= seq + 3, what="pushes after the snapshot")
            book = r.book()
            assert len(book.bids) == 50 and len(book.asks) == 50  # 20 pushed + 30 from REST
            assert max(book.bids) == int(books.base["bids"][0]["price"])
            assert min(book.bids) == int(books.base["bids"][49]["price"])
            assert any(p == "/l2" and q.get("depth") == "50" for m, p, q in http.requests)
        async with Running(DriftVenue(local(ws, http))) as r:  # the default 20: the push alone
            await until(lambda: r.book() is not None and r.book().seq >= 3, what="pushes")
            assert len(r.book().bids) == 20
    finally:
        http.stop()
        await ws.stop()


def test_deepen_keeps_a_short_push_and_caps_at_the_depth():
    from quantdesk.venues.drift import wire

    def lv(p):
        return wire.L2Level(price=p, size=1)

    push = wire.L2Book(bids=[lv(100 - i) for i in range(20)], asks=[lv(101)])
    rest = wire.L2Book(bids=[lv(100 - i) for i in range(40)], asks=[lv(101 + i) for i in range(40)])
    deep = wire.deepen(push, rest, depth=25)
    assert [x.price for x in deep.bids] == [100 - i for i in range(25)]
    assert [x.price for x in deep.asks] == [101]  # one ask pushed: the whole side, nothing to add


def test_deepen_appends_only_levels_beyond_the_pushed_worst_even_unsorted():
    from quantdesk.venues.drift import wire

    def lv(p):
        return wire.L2Level(price=p, size=1)

    push = wire.L2Book(bids=[lv(100 - i) for i in reversed(range(20))], asks=[lv(200 + i) for i in range(20)])
    rest = wire.L2Book(bids=[lv(100 - i) for i in range(30)], asks=[lv(200 + i) for i in range(30)])
    deep = wire.deepen(push, rest, depth=100)
    assert sorted(x.price for x in deep.bids) == [71 + i for i in range(30)]  # no price twice
    assert sorted(x.price for x in deep.asks) == [200 + i for i in range(30)]
