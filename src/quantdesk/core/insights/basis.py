"""Basis: how each venue's mark and oracle sit against each other and against
a cross-venue index.

Per venue and market: the mark (the venue's own price: an AMM/book mark on
Drift, the oracle itself on a pool), the oracle, and the book's mid. The index
of a market is the median of its venues' oracle prices, so a venue whose
oracle drifts from the rest shows it. Three spreads in bps:

- premium: mark against its own oracle (what drives the next funding rate);
- oracle against the index;
- mark against the index: the basis a cross-venue trade captures.

Prices across venues compare in quote units (``Market.price``), since venues
need not share a precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.cache import MarketCache

BPS = Decimal(10_000)


def spread_bps(a: Decimal | None, b: Decimal | None) -> Decimal | None:
    """How far ``a`` sits above ``b``, in bps of ``b``."""
    if a is None or b is None or b <= 0:
        return None
    return (a - b) / b * BPS


def median(values: list[Decimal]) -> Decimal | None:
    if not values:
        return None
    xs = sorted(values)
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


@dataclass(frozen=True, slots=True)
class VenueBasis:
    venue: str
    market: str
    mark: Decimal | None  # quote units
    oracle: Decimal | None
    mid: Decimal | None
    index: Decimal | None  # the market's cross-venue index

    @property
    def premium_bps(self) -> Decimal | None:
        return spread_bps(self.mark, self.oracle)

    @property
    def oracle_index_bps(self) -> Decimal | None:
        return spread_bps(self.oracle, self.index)

    @property
    def mark_index_bps(self) -> Decimal | None:
        return spread_bps(self.mark, self.index)


@dataclass(frozen=True, slots=True)
class MarketBasis:
    market: str
    index: Decimal | None
    venues: list[VenueBasis]

    @property
    def widest(self) -> tuple[VenueBasis, VenueBasis, Decimal] | None:
        """The two venues whose marks are furthest apart: (rich, cheap, bps of the cheap one)."""
        marked = [v for v in self.venues if v.mark is not None]
        if len(marked) < 2:
            return None
        rich = max(marked, key=lambda v: (v.mark, v.venue))
        cheap = min(marked, key=lambda v: (v.mark, v.venue))
        gap = spread_bps(rich.mark, cheap.mark)
        return None if gap is None else (rich, cheap, gap)


def market_basis(cache: MarketCache, symbol: str) -> MarketBasis:
    rows: list[tuple[str, Decimal | None, Decimal | None, Decimal | None]] = []
    for (venue, sym), market in sorted(cache.markets.items()):
        if sym != symbol:
            continue
        key = (venue, sym)
        mark, oracle, book = cache.mark.get(key), cache.oracle.get(key), cache.books.get(key)
        mid = book.mid() if book is not None and not book.needs_resync else None
        rows.append(
            (
                venue,
                None if mark is None else market.price(mark.price),
                None if oracle is None else market.price(oracle.price),
                None if mid is None else mid.scaleb(-market.price_decimals),
            )
        )
    index = median([o for _, _, o, _ in rows if o is not None])
    return MarketBasis(symbol, index, [VenueBasis(v, symbol, m, o, mid, index) for v, m, o, mid in rows])


def basis_table(cache: MarketCache) -> list[MarketBasis]:
    """Every market in the cache, in the order first listed."""
    symbols = list(dict.fromkeys(sym for _, sym in cache.markets))
    return [market_basis(cache, s) for s in symbols]
