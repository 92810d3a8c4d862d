"""Cross-venue spreads: best bid/ask across venues and basis against the reference venue."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import BookDelta, BookSnapshot, Market
from quantdesk.core.spreads import BestPrice, basis_bps, market_spread, market_spreads, venue_quotes

CLOB = Market("zclob", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 10_000_000)  # named to sort after the pool
POOL = Market("pool", "SOL-PERP", "SOL", "USDC", "pool", 1, 1_000_000, price_decimals=8)  # a finer precision
POOL_BTC = Market("pool", "BTC-PERP", "BTC", "USDC", "pool", 1, 1_000_000)


def cache_with(books: dict[tuple[str, str], tuple[list, list]]) -> tuple[Bus, MarketCache]:
    bus = Bus()
    cache = MarketCache()
    cache.attach(bus)
    cache.add_markets([CLOB, POOL, POOL_BTC])
    for (venue, market), (bids, asks) in books.items():
        bus.publish(f"book.{venue}.{market}", BookSnapshot(venue, market, 1, 0, bids, asks))
    return bus, cache


def test_best_bid_and_ask_across_venues_compare_in_quote_units():
    # clob: 145.100 / 145.200 (1e6); pool: 145.15 / 145.25 at 1e8
    _, cache = cache_with(
        {
            ("zclob", "SOL-PERP"): ([(145_100_000, 1)], [(145_200_000, 1)]),
            ("pool", "SOL-PERP"): ([(14_515_000_000, 1)], [(14_525_000_000, 1)]),
        }
    )
    ms = market_spread(cache, "SOL-PERP")
    assert [q.venue for q in ms.quotes] == ["zclob", "pool"]  # order books first: the reference
    assert ms.best_bid == BestPrice("pool", Decimal("145.15"))
    assert ms.best_ask == BestPrice("zclob", Decimal("145.2"))
    assert ms.quotes[1].mid == Decimal("145.2")
    assert ms.quotes[0].mid == Decimal("145.15")
    # pool mid 145.2 against the book's 145.15: 0.05 / 145.15 * 1e4 = 3.4447 bps
    assert ms.reference == "zclob"
    assert ms.basis_pair == ("pool", "zclob")
    assert ms.basis_bps.quantize(Decimal("0.0001")) == Decimal("3.4447")
    assert ms.basis == {"pool": ms.basis_bps}
    assert not ms.crossed


def test_a_bid_on_one_venue_above_the_ask_on_another_is_crossed():
    _, cache = cache_with(
        {
            ("zclob", "SOL-PERP"): ([(145_300_000, 1)], [(145_400_000, 1)]),
            ("pool", "SOL-PERP"): ([(14_500_000_000, 1)], [(14_520_000_000, 1)]),
        }
    )
    ms = market_spread(cache, "SOL-PERP")
    assert ms.best_bid.venue == "zclob" and ms.best_ask.venue == "pool"
    assert ms.crossed


def test_unsynced_or_empty_books_drop_out_of_best_and_basis():
    bus, cache = cache_with(
        {
            ("zclob", "SOL-PERP"): ([(145_100_000, 1)], []),  # no asks
            ("pool", "SOL-PERP"): ([(14_515_000_000, 1)], [(14_525_000_000, 1)]),
        }
    )
    ms = market_spread(cache, "SOL-PERP")
    assert ms.quotes[0].ask is None and ms.quotes[0].mid is None
    assert ms.best_ask == BestPrice("pool", Decimal("145.25"))
    assert ms.reference == "pool"  # the book without a mid cannot be the reference
    assert ms.basis_bps is None and ms.basis_pair is None and ms.basis == {}
    bus.publish("book.pool.SOL-PERP", BookDelta("pool", "SOL-PERP", 9, 0, [(1, 1)]))  # gap: not trustworthy
    ms = market_spread(cache, "SOL-PERP")
    assert ms.quotes[1].bid is None and ms.best_bid == BestPrice("zclob", Decimal("145.1"))


def test_market_spreads_lists_every_symbol_and_venue_filter():
    _, cache = cache_with({("pool", "BTC-PERP"): ([(95_000_000_000, 1)], [(95_100_000_000, 1)])})
    assert [ms.symbol for ms in market_spreads(cache)] == ["SOL-PERP", "BTC-PERP"]
    btc = market_spreads(cache)[1]
    assert [q.venue for q in btc.quotes] == ["pool"] and btc.basis_bps is None and btc.reference == "pool"
    assert [q.venue for q in venue_quotes(cache, "SOL-PERP", ["pool"])] == ["pool"]
    assert market_spread(cache, "SOL-PERP").quotes[0].bid is None  # no book yet


def test_basis_bps():
    assert basis_bps(Decimal(101), Decimal(100)) == Decimal(100)
    assert basis_bps(Decimal(99), Decimal(100)) == Decimal(-100)
    assert basis_bps(Decimal(1), Decimal(0)) is None


def test_every_other_venue_gets_a_basis_against_the_reference():
    bus = Bus()
    cache = MarketCache()
    cache.attach(bus)
    venues = {"b-book": "clob", "a-book": "clob", "pool": "pool"}
    mids = {"b-book": 101, "a-book": 100, "pool": 99}
    for v, kind in venues.items():
        cache.add_markets([Market(v, "SOL-PERP", "SOL", "USDC", kind, 1, 1)])
        m = mids[v] * 1_000_000
        bus.publish(f"book.{v}.SOL-PERP", BookSnapshot(v, "SOL-PERP", 1, 0, [(m - 10_000, 1)], [(m + 10_000, 1)]))
    ms = market_spread(cache, "SOL-PERP")
    assert [q.venue for q in ms.quotes] == ["a-book", "b-book", "pool"]
    assert ms.reference == "a-book"
    assert ms.basis == {"b-book": Decimal(100), "pool": Decimal(-100)}
    assert (ms.basis_pair, ms.basis_bps) == (("b-book", "a-book"), Decimal(100))


def test_a_venue_whose_own_book_is_crossed_is_left_out_of_best_and_basis():
    # the clob's DLOB bid 145.3 over its AMM ask 145.2 for a moment: no arbitrage against the pool
    _, cache = cache_with(
        {
            ("zclob", "SOL-PERP"): ([(145_300_000, 1)], [(145_200_000, 1)]),
            ("pool", "SOL-PERP"): ([(14_500_000_000, 1)], [(14_525_000_000, 1)]),
        }
    )
    ms = market_spread(cache, "SOL-PERP")
    clob = ms.quotes[0]
    assert clob.crossed and clob.bid is None and clob.ask is None
    assert ms.best_bid == BestPrice("pool", Decimal("145")) and ms.best_ask == BestPrice("pool", Decimal("145.25"))
    assert not ms.crossed and ms.reference == "pool" and ms.basis == {}
