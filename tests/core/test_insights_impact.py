"""Fill quotes against hand-computed values: a book walk on an order-book
venue, the impact-fee curve on a pool venue."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.book import OrderBook
from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.insights.impact import impact_ladder, impact_quote, impact_table
from quantdesk.core.model import BookSnapshot, Market, OraclePrice

P = 1_000_000
S = 1_000_000_000
USD = P
CLOB = Market("book", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 1_000_000)
POOL = Market("pool", "SOL-PERP", "SOL", "USDC", "pool", 1, 1_000_000)


def snap(bids: list[tuple[str, int]], asks: list[tuple[str, int]], venue: str = "book") -> BookSnapshot:
    def lv(side: list[tuple[str, int]]) -> list[tuple[int, int]]:
        return [(int(Decimal(p) * P), n * S) for p, n in side]

    return BookSnapshot(venue, "SOL-PERP", 1, 0, lv(bids), lv(asks))


def book_of(s: BookSnapshot) -> OrderBook:
    b = OrderBook(s.venue, s.market)
    b.apply(s)
    return b


BOOK = book_of(snap([("99", 5), ("98", 10)], [("100", 5), ("101", 10)]))  # mid 99.5
# A pool's quote curve: the all-in price of a trade as large as the sizes summed to the level.
POOL_BOOK = book_of(snap([("99.90", 10), ("99.80", 10)], [("100.10", 10), ("100.20", 10)], "pool"))


def test_book_walk_average_price_and_impact_against_the_mid():
    # $1,005 lifts 5 @ 100 and 5 @ 101: 10 SOL at 100.5, 1 / 99.5 = 100.5025 bp over the mid
    q = impact_quote(CLOB, BOOK, "buy", 1_005 * USD)
    assert q is not None and q.complete
    assert (q.size, q.avg_price, q.reference) == (10 * S, Decimal("100.5") * P, Decimal("99.5") * P)
    assert q.impact_bps.quantize(Decimal("0.0001")) == Decimal("100.5025")
    assert q.fee_bps == Decimal("3.5")  # the default book taker fee, on top
    assert q.cost_bps == q.impact_bps + Decimal("3.5")
    # $985 hits 5 @ 99 and 5 @ 98: 98.5 average, the same distance below the mid
    q = impact_quote(CLOB, BOOK, "sell", 985 * USD, taker_fee_ppm=500)
    assert (q.size, q.avg_price) == (10 * S, Decimal("98.5") * P)
    assert q.impact_bps.quantize(Decimal("0.0001")) == Decimal("100.5025")
    assert q.fee_bps == 5


def test_book_walk_beyond_the_book_is_incomplete():
    q = impact_quote(CLOB, BOOK, "buy", 2_000 * USD)  # the asks hold $500 + $1,010
    assert not q.complete
    assert (q.size, q.filled_notional) == (15 * S, 1_510 * USD)


def test_pool_price_is_read_off_its_quote_curve():
    oracle = 100 * P
    # $1,500 at $100 is 15 SOL: halfway between the 10 and 20 SOL rungs
    q = impact_quote(POOL, POOL_BOOK, "buy", 1_500 * USD, oracle)
    assert q.complete and q.size == 15 * S
    assert q.avg_price == Decimal("100.15") * P
    assert q.impact_bps == 15 and q.fee_bps == 0 and q.cost_bps == 15  # fees are in the price
    q = impact_quote(POOL, POOL_BOOK, "sell", 1_500 * USD, oracle)
    assert q.avg_price == Decimal("99.85") * P and q.impact_bps == 15
    # below the first rung the curve extends: 5 SOL at 100.05, 0.5 SOL at 100.005
    assert impact_quote(POOL, POOL_BOOK, "buy", 500 * USD, oracle).avg_price == Decimal("100.05") * P
    assert impact_quote(POOL, POOL_BOOK, "buy", 50 * USD, oracle).avg_price == Decimal("100.005") * P
    # beyond the largest rung the pool cannot quote it
    q = impact_quote(POOL, POOL_BOOK, "buy", 3_000 * USD, oracle)
    assert not q.complete and q.size == 20 * S and q.filled_notional == 2_000 * USD


def test_no_quote_from_a_book_that_cannot_be_trusted():
    gapped = book_of(snap([("99", 1)], [("100", 1)]))
    gapped.needs_resync = True
    assert impact_quote(CLOB, gapped, "buy", 100 * USD) is None
    assert impact_quote(CLOB, book_of(snap([], [])), "buy", 100 * USD) is None
    assert impact_quote(CLOB, BOOK, "buy", 0) is None


def test_ladder_and_the_side_by_side_table():
    ladder = impact_ladder(CLOB, BOOK, (1_005 * USD, 500 * USD))
    assert [(q.side, q.notional) for q in ladder] == [
        ("buy", 500 * USD), ("sell", 500 * USD), ("buy", 1_005 * USD), ("sell", 1_005 * USD)
    ]
    bus, cache = Bus(), MarketCache()
    cache.attach(bus)
    cache.add_markets([POOL, CLOB])
    bus.publish("book.book.SOL-PERP", snap([("99", 5), ("98", 10)], [("100", 5), ("101", 10)]))
    bus.publish("book.pool.SOL-PERP", snap([("99.90", 10), ("99.80", 10)], [("100.10", 10), ("100.20", 10)], "pool"))
    bus.publish("oracle.pool.SOL-PERP", OraclePrice("pool", "SOL-PERP", 0, 100 * P))
    table = impact_table(cache, "SOL-PERP", (1_500 * USD,), {"book": 0})
    # order-book venues first, then pools; the pool measured from its oracle
    assert [(q.venue, q.side) for q in table] == [("book", "buy"), ("book", "sell"), ("pool", "buy"), ("pool", "sell")]
    assert table[0].fee_bps == 0
    assert table[2].reference == 100 * P and table[2].avg_price == Decimal("100.15") * P
