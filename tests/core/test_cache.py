"""MarketCache: state from bus events, revision counters, gap callbacks."""

from __future__ import annotations

import msgspec

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MINUTE_NS, MINUTES_KEPT, TRADES_KEPT, MarketCache
from quantdesk.core.model import (
    BookDelta,
    BookSnapshot,
    Funding,
    Market,
    MarkPrice,
    OpenInterest,
    OraclePrice,
    Order,
    Position,
    Trade,
    VenueStatus,
    topic_for,
)

SOL = Market("v", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 10_000_000)
BTC = Market("v", "BTC-PERP", "BTC", "USDC", "clob", 100_000, 100_000)


def wired(on_gap=None):
    bus = Bus()
    cache = MarketCache(on_gap=on_gap)
    cache.attach(bus)
    return bus, cache


def pub(bus, ev):
    bus.publish(topic_for(ev), ev)


def test_each_event_family_bumps_only_its_revision():
    bus, cache = wired()
    before = dict(cache.rev)
    pub(bus, Funding("v", "SOL-PERP", 1, 10, 12, 3600, 2))
    assert cache.rev["funding"] == before["funding"] + 1
    assert {k: v for k, v in cache.rev.items() if k != "funding"} == {k: v for k, v in before.items() if k != "funding"}
    for ev, family in (
        (BookSnapshot("v", "SOL-PERP", 1, 1, [(1, 1)], [(2, 1)]), "book"),
        (BookDelta("v", "SOL-PERP", 2, 2, [(1, 3)]), "book"),
        (Trade("v", "SOL-PERP", 3, 2, 1, "buy"), "trade"),
        (OpenInterest("v", "SOL-PERP", 3, 5, 6), "oi"),
        (OraclePrice("v", "SOL-PERP", 3, 2), "oracle"),
        (MarkPrice("v", "SOL-PERP", 3, 2), "mark"),
        (VenueStatus("v", "connected", 3, 3), "status"),
    ):
        r = cache.rev[family]
        pub(bus, ev)
        assert cache.rev[family] == r + 1, family
    assert cache.book("v", "SOL-PERP").best_bid() == (1, 3)
    assert cache.events == 8


def test_non_events_are_ignored_and_not_counted():
    bus, cache = wired()
    bus.publish("custom.topic", {"not": "an event"})
    assert cache.events == 0 and sum(cache.rev.values()) == 0


def test_on_gap_is_called_once_per_gap():
    gaps = []
    bus, cache = wired(on_gap=lambda venue, market: gaps.append((venue, market)))
    pub(bus, BookDelta("v", "SOL-PERP", 1, 1, [(1, 1)]))  # before any snapshot: waiting, not a gap
    assert gaps == []
    pub(bus, BookSnapshot("v", "SOL-PERP", 10, 1, [(1, 1)], [(2, 1)]))
    pub(bus, BookDelta("v", "SOL-PERP", 11, 2, [(1, 2)]))
    pub(bus, BookDelta("v", "SOL-PERP", 13, 3, [(1, 3)]))  # 12 lost
    pub(bus, BookDelta("v", "SOL-PERP", 14, 4, [(1, 4)]))
    pub(bus, BookDelta("v", "SOL-PERP", 15, 5, [(1, 5)]))
    assert gaps == [("v", "SOL-PERP")]
    pub(bus, BookSnapshot("v", "SOL-PERP", 15, 6, [(1, 5)], [(2, 1)]))  # the resync
    pub(bus, BookDelta("v", "SOL-PERP", 17, 7, [(1, 6)]))  # a second, separate gap
    assert gaps == [("v", "SOL-PERP")] * 2
    assert cache.book("v", "SOL-PERP").gaps == 2


def test_has_full_state_needs_synced_book_funding_and_oracle_for_every_market():
    bus, cache = wired()
    assert not cache.has_full_state()  # no markets listed
    cache.add_markets([SOL, BTC])
    for m in ("SOL-PERP", "BTC-PERP"):
        pub(bus, BookSnapshot("v", m, 1, 1, [(1, 1)], [(2, 1)]))
        pub(bus, Funding("v", m, 1, 0, 0, 3600, 2))
    pub(bus, OraclePrice("v", "SOL-PERP", 1, 2))
    assert not cache.has_full_state()  # BTC has no oracle yet
    pub(bus, OraclePrice("v", "BTC-PERP", 1, 2))
    assert cache.has_full_state()
    pub(bus, BookDelta("v", "BTC-PERP", 5, 2, [(1, 2)]))  # gap: the book is not trustworthy
    assert not cache.has_full_state()
    assert cache.venues() == ["v"] and cache.symbols() == ["BTC-PERP", "SOL-PERP"]


def test_trades_are_bounded_and_data_age_follows_the_last_message():
    bus, cache = wired()
    for i in range(TRADES_KEPT + 50):
        pub(bus, Trade("v", "SOL-PERP", 1_000 + i, 2, 1, "buy"))
    trades = cache.trades[("v", "SOL-PERP")]
    assert len(trades) == TRADES_KEPT
    assert trades[-1].ts == 1_000 + TRADES_KEPT + 49
    assert cache.data_age_s("v", 1_000 + TRADES_KEPT + 49 + 2_500_000_000) == 2.5
    assert cache.data_age_s("other", 0) is None


def test_each_market_has_its_own_trade_revision():
    bus, cache = wired()
    pub(bus, Trade("v", "SOL-PERP", 1, 145_000_000, 10**9, "buy"))
    pub(bus, Trade("v", "SOL-PERP", 2, 145_000_000, 10**9, "sell"))
    pub(bus, Trade("v", "BTC-PERP", 3, 90_000_000_000, 10**9, "buy"))
    assert cache.trade_rev == {("v", "SOL-PERP"): 2, ("v", "BTC-PERP"): 1}
    assert cache.rev["trade"] == 3


def test_volume_per_minute_splits_by_aggressor_in_exact_integers():
    bus, cache = wired()
    t0 = 1_000 * MINUTE_NS
    pub(bus, Trade("v", "SOL-PERP", t0 + 1, 145_000_000, 2 * 10**9, "buy"))
    pub(bus, Trade("v", "SOL-PERP", t0 + 2, 146_000_000, 3 * 10**9, "sell"))
    # A maker's buy without a named taker: a seller hit it.
    pub(bus, Trade("v", "SOL-PERP", t0 + 3, 144_000_000, 10**9, "buy", "maker"))
    pub(bus, Trade("v", "SOL-PERP", t0 + MINUTE_NS, 150_000_000, 5 * 10**9, "buy"))
    pub(bus, Trade("v", "SOL-PERP", t0 + 4, 145_000_000, 10**9, "buy"))  # late, into its own minute
    first, second = cache.trade_minutes[("v", "SOL-PERP")]
    assert (first.minute, first.buy_size, first.sell_size, first.count) == (1_000, 3 * 10**9, 4 * 10**9, 4)
    assert first.notional == (145 * 2 + 146 * 3 + 144 + 145) * 10**6 * 10**9
    assert (second.minute, second.size, second.notional) == (1_001, 5 * 10**9, 750 * 10**15)


def test_minutes_kept_are_bounded():
    bus, cache = wired()
    for i in range(MINUTES_KEPT + 10):
        pub(bus, Trade("v", "SOL-PERP", i * MINUTE_NS, 1, 1, "buy"))
    minutes = cache.trade_minutes[("v", "SOL-PERP")]
    assert len(minutes) == MINUTES_KEPT and minutes[-1].minute == MINUTES_KEPT + 9
    pub(bus, Trade("v", "SOL-PERP", 0, 1, 1, "buy"))  # older than anything kept: counted nowhere
    assert sum(b.count for b in minutes) == MINUTES_KEPT


def test_orders_leave_when_done_and_flat_positions_leave():
    bus, cache = wired()
    pub(bus, Order("v", "SOL-PERP", "o1", "buy", "limit", 10, 5))
    pub(bus, Order("v", "SOL-PERP", "o2", "buy", "limit", 10, 5))
    pub(bus, Order("v", "SOL-PERP", "o1", "buy", "limit", 10, 5, filled=10, status="filled"))
    assert list(cache.orders) == ["o2"]
    pub(bus, Position("v", "SOL-PERP", 5, -10, 2))
    assert ("v", "SOL-PERP") in cache.positions
    pub(bus, Position("v", "SOL-PERP", 0, 0, 0))
    assert ("v", "SOL-PERP") not in cache.positions


def test_detach_stops_updates():
    bus, cache = wired()
    cache.detach()
    pub(bus, OraclePrice("v", "SOL-PERP", 1, 2))
    assert cache.events == 0 and cache.oracle == {}


def test_an_order_that_ends_after_being_open_is_kept_as_ended_newest_first():
    from quantdesk.core.model import Order

    cache = MarketCache()
    o = Order("v", "SOL-PERP", "a", "buy", "market", 1, status="open")
    cache.on_event("order.v", o)
    cache.on_event("order.v", Order("v", "SOL-PERP", "never-open", "buy", "market", 1, status="rejected"))
    cache.on_event("order.v", msgspec.structs.replace(o, status="cancelled", reason="expired: no keeper"))
    assert "a" not in cache.orders
    assert [(e.order_id, e.reason) for e in cache.ended_orders] == [("a", "expired: no keeper")]
