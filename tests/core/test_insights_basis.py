"""Basis against hand-computed values: mark vs oracle vs a cross-venue index."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.insights.basis import basis_table, market_basis, median
from quantdesk.core.model import Event, Market, MarkPrice, OraclePrice, topic_for

A = Market("a", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 1_000_000)
B = Market("b", "SOL-PERP", "SOL", "USDC", "pool", 1, 1_000_000, price_decimals=8)  # a finer precision
C = Market("c", "SOL-PERP", "SOL", "USDC", "pool", 1, 1_000_000)


def test_mark_oracle_and_index_per_venue():
    bus, cache = Bus(), MarketCache()
    cache.attach(bus)
    cache.add_markets([A, B, C])
    events: list[Event] = [
        MarkPrice("a", "SOL-PERP", 0, 100_200_000),
        OraclePrice("a", "SOL-PERP", 0, 100_000_000),
        MarkPrice("b", "SOL-PERP", 0, 10_000_000_000),  # 100.00 at 1e8
        OraclePrice("b", "SOL-PERP", 0, 10_010_000_000),  # 100.10
        OraclePrice("c", "SOL-PERP", 0, 99_900_000),  # no mark yet
    ]
    for ev in events:
        bus.publish(topic_for(ev), ev)
    mb = market_basis(cache, "SOL-PERP")
    assert mb.index == Decimal("100")  # median of 100.00, 100.10, 99.90
    a, b, c = mb.venues
    assert (a.premium_bps, a.oracle_index_bps, a.mark_index_bps) == (Decimal(20), 0, Decimal(20))
    assert b.premium_bps.quantize(Decimal("0.0001")) == Decimal("-9.9900")  # -0.10 / 100.10
    assert b.oracle_index_bps == 10 and b.mark_index_bps == 0
    assert c.premium_bps is None and c.oracle_index_bps == -10
    rich, cheap, gap = mb.widest
    assert (rich.venue, cheap.venue, gap) == ("a", "b", Decimal(20))
    assert [m.market for m in basis_table(cache)] == ["SOL-PERP"]


def test_median():
    assert median([]) is None
    assert median([Decimal(3), Decimal(1)]) == 2
    assert median([Decimal(5), Decimal(1), Decimal(2)]) == 2
