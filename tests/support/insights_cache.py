"""A fixed three-venue cache the insights tests compute by hand:

- ``book`` (order book): SOL 99.99 / 100.01, funding +0.001 %/h (longs pay);
- ``book2`` (order book): the same book, funding -0.0005 %/h (shorts pay);
- ``pool``: oracle $100, quotes 100.06 / 99.94 up to 100 SOL ($10k), borrow 0.0005 %/h.
"""

from __future__ import annotations

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import BookSnapshot, Event, Funding, Market, MarkPrice, OraclePrice, topic_for

P = 1_000_000
S = 1_000_000_000
HOUR_NS = 3600 * 10**9
NEXT_TS = 5 * HOUR_NS

MARKETS = [
    Market("book", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 1_000_000),
    Market("book2", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 1_000_000),
    Market("pool", "SOL-PERP", "SOL", "USDC", "pool", 1, 1_000_000),
]


def book_event(venue: str, bids: list[tuple[int, int]], asks: list[tuple[int, int]], seq: int = 1) -> BookSnapshot:
    return BookSnapshot(venue, "SOL-PERP", seq, 0, bids, asks)


def three_venues() -> tuple[Bus, MarketCache]:
    bus, cache = Bus(), MarketCache()
    cache.attach(bus)
    cache.add_markets(MARKETS)
    events: list[Event] = [
        book_event("book", [(99_990_000, 1_000 * S)], [(100_010_000, 1_000 * S)]),
        book_event("book2", [(99_990_000, 1_000 * S)], [(100_010_000, 1_000 * S)]),
        book_event("pool", [(99_940_000, 100 * S)], [(100_060_000, 100 * S)]),
        OraclePrice("pool", "SOL-PERP", 0, 100 * P),
        Funding("book", "SOL-PERP", 0, 10_000, 10_000, 3600, NEXT_TS),
        Funding("book2", "SOL-PERP", 0, -5_000, -5_000, 3600, NEXT_TS),
        Funding("pool", "SOL-PERP", 0, 5_000, 5_000, 3600, NEXT_TS, kind="borrow"),
        MarkPrice("pool", "SOL-PERP", 0, 100 * P),
    ]
    for ev in events:
        bus.publish(topic_for(ev), ev)
    return bus, cache
