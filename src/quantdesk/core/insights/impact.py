"""What a market order of a given notional would pay on each venue, side by side.

- Order-book venues: walk the book from the touch until the notional is spent;
  the average fill price against the mid is the impact, the taker fee comes
  on top.
- Pool venues (Jupiter Perps, sim-jup) fill at the oracle plus an open fee and
  a price-impact fee that grows with size. They publish that quote as a book
  whose level prices are the all-in average price of a trade as large as the
  sizes summed from the touch to that level. The price for any size is read
  off that curve, linearly between rungs (Jupiter's open and size-impact fees
  are linear in size, so only its capped open-interest term bends the line)
  and extended below the first rung; fees are already in the price.

Notionals are quote at price precision (USD 1e6); prices stay in price units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.book import OrderBook
from quantdesk.core.cache import MarketCache
from quantdesk.core.math.fixed import FEE_PRECISION
from quantdesk.core.model import Level, Market, MarketKind, Side

USD = 1_000_000
DEFAULT_NOTIONALS = tuple(n * USD for n in (1_000, 10_000, 100_000, 1_000_000))
BPS = Decimal(10_000)
# Taker fee added to a book venue's walk when the caller knows no better: the
# Drift-like 3.5 bp tier the simulated book venue charges. Pool quotes carry
# their fees in the price.
DEFAULT_TAKER_FEE_PPM: Mapping[MarketKind, int] = {"clob": 350, "pool": 0}
SIDES: tuple[Side, Side] = ("buy", "sell")
ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class ImpactQuote:
    venue: str
    market: str
    kind: MarketKind
    side: Side  # the taker's: "buy" lifts asks, "sell" hits bids
    notional: int  # asked for, quote at price precision
    filled_notional: int  # what the book or pool could take
    size: int  # base units filled
    avg_price: Decimal | None  # price units; None when nothing fills
    reference: Decimal  # the mid (book) or oracle (pool) it is measured against, price units
    fee_bps: Decimal  # taker fee on top of the price (0 for pools: in the price)

    @property
    def complete(self) -> bool:
        return self.filled_notional >= self.notional

    @property
    def impact_bps(self) -> Decimal | None:
        """Average price against the reference, positive when it costs the taker."""
        if self.avg_price is None or self.reference <= 0:
            return None
        move = (self.avg_price - self.reference) / self.reference * BPS
        return move if self.side == "buy" else -move

    @property
    def cost_bps(self) -> Decimal | None:
        """Impact plus the taker fee: the all-in cost of the trade."""
        impact = self.impact_bps
        return None if impact is None else impact + self.fee_bps


def _walk(levels: Sequence[Level], budgets: Sequence[int]) -> list[tuple[int, int]]:
    """(size, value) taken from ``levels`` until each of ``budgets`` (price x
    size units, ascending) is spent: one pass down the book for all of them."""
    out: list[tuple[int, int]] = []
    size = value = 0  # the levels taken whole so far
    i = 0
    n = len(levels)
    for budget in budgets:
        while i < n:
            price, avail = levels[i]
            level_value = price * avail
            if value + level_value > budget:
                break
            size += avail
            value += level_value
            i += 1
        if i < n and value < budget:
            price = levels[i][0]
            take = (budget - value) // price
            out.append((size + take, value + take * price))
        else:
            out.append((size, value))
    return out


def _pool_price(levels: Sequence[Level], size: int) -> tuple[int, Decimal | None]:
    """(size filled, average price) on a pool's quote curve for a trade of ``size``."""
    if not levels or size <= 0:
        return 0, None
    points: list[tuple[int, int]] = []  # (cumulative size, price)
    cum = 0
    for price, inc in levels:
        cum += inc
        points.append((cum, price))
    if size > points[-1][0]:
        return points[-1][0], Decimal(points[-1][1])  # beyond the pool's largest quote
    i = next(k for k, (c, _) in enumerate(points) if c >= size)
    if i == 0:
        if len(points) == 1 or points[1][0] == points[0][0]:
            return size, Decimal(points[0][1])
        (c0, p0), (c1, p1) = points[0], points[1]
    else:
        (c0, p0), (c1, p1) = points[i - 1], points[i]
    return size, p0 + Decimal(p1 - p0) * (size - c0) / (c1 - c0)


def impact_quotes(
    market: Market,
    book: OrderBook,
    side: Side,
    notionals: Sequence[int],
    reference: int | Decimal | None = None,
    taker_fee_ppm: int | None = None,
) -> list[ImpactQuote]:
    """The fill of a ``side`` market order for each of ``notionals`` (quote,
    ascending, positive). ``reference`` defaults to the book's mid (a pool's
    oracle should be passed); empty when the book is resyncing or has no price
    to measure from."""
    if book.needs_resync or not notionals:
        return []
    ref = Decimal(reference) if reference else book.mid()
    if ref is None or ref <= 0:
        return []
    levels = book.sorted_asks() if side == "buy" else book.sorted_bids()
    scale = 10**market.size_decimals
    out = []
    if market.kind == "pool":
        for notional in notionals:
            want = int(Decimal(notional * scale) / ref)
            size, avg = _pool_price(levels, want)
            if avg is not None and side == "buy":
                avg = max(avg, ref)  # never better than the oracle, however far below the first rung
            elif avg is not None:
                avg = min(avg, ref)
            filled = notional if size >= want else int(ref * size / scale)
            out.append(ImpactQuote(market.venue, market.symbol, "pool", side, notional, filled, size, avg, ref, ZERO))
        return out
    fee_ppm = DEFAULT_TAKER_FEE_PPM[market.kind] if taker_fee_ppm is None else taker_fee_ppm
    fee_bps = Decimal(fee_ppm) * BPS / FEE_PRECISION
    touch = levels[0][0] if levels else 0
    for notional, (size, value) in zip(notionals, _walk(levels, [n * scale for n in notionals])):
        avg = Decimal(value) / size if size else None
        filled = value // scale
        if size and notional * scale - value < touch:
            filled = notional  # what is left is less than one base unit at the touch
        out.append(ImpactQuote(market.venue, market.symbol, "clob", side, notional, filled, size, avg, ref, fee_bps))
    return out


def impact_quote(
    market: Market,
    book: OrderBook,
    side: Side,
    notional: int,
    reference: int | Decimal | None = None,
    taker_fee_ppm: int | None = None,
) -> ImpactQuote | None:
    """``impact_quotes`` of one notional; None when it cannot be quoted."""
    if notional <= 0:
        return None
    quotes = impact_quotes(market, book, side, [notional], reference, taker_fee_ppm)
    return quotes[0] if quotes else None


def impact_ladder(
    market: Market,
    book: OrderBook,
    notionals: Sequence[int] = DEFAULT_NOTIONALS,
    reference: int | Decimal | None = None,
    taker_fee_ppm: int | None = None,
) -> list[ImpactQuote]:
    """A buy and a sell quote for each notional, smallest first."""
    ordered = sorted(n for n in set(notionals) if n > 0)
    by_side = [impact_quotes(market, book, side, ordered, reference, taker_fee_ppm) for side in SIDES]
    return [q for pair in zip(*by_side) for q in pair]


def cached_ladder(
    cache: MarketCache,
    venue: str,
    symbol: str,
    notionals: Sequence[int] = DEFAULT_NOTIONALS,
    taker_fee_ppm: Mapping[str, int] | None = None,
) -> list[ImpactQuote]:
    """``impact_ladder`` on the cached book of ``symbol`` at ``venue``: pools
    are measured from their oracle, books from their mid; ``taker_fee_ppm``
    maps venue ids to their fee (else ``DEFAULT_TAKER_FEE_PPM`` of the kind)."""
    key = (venue, symbol)
    market = cache.markets.get(key)
    book = cache.books.get(key)
    if market is None or book is None:
        return []
    oracle = cache.oracle.get(key) if market.kind == "pool" else None
    fee = None if taker_fee_ppm is None else taker_fee_ppm.get(venue)
    return impact_ladder(market, book, notionals, oracle.price if oracle else None, fee)


def market_impact(
    cache: MarketCache,
    venue: str,
    symbol: str,
    side: Side,
    notional: int,
    taker_fee_ppm: Mapping[str, int] | None = None,
) -> ImpactQuote | None:
    """One quote of ``cached_ladder``."""
    return next((q for q in cached_ladder(cache, venue, symbol, [notional], taker_fee_ppm) if q.side == side), None)


def impact_table(
    cache: MarketCache,
    symbol: str,
    notionals: Sequence[int] = DEFAULT_NOTIONALS,
    taker_fee_ppm: Mapping[str, int] | None = None,
) -> list[ImpactQuote]:
    """Every venue listing ``symbol``, order-book venues first, each with its
    buy and sell quotes per notional: the side-by-side comparison."""
    venues = sorted((m.kind != "clob", v) for (v, s), m in cache.markets.items() if s == symbol)
    return [q for _, venue in venues for q in cached_ladder(cache, venue, symbol, notionals, taker_fee_ppm)]
