"""Cross-venue views of one market: each venue's touch, the best bid and ask
across venues, and each venue's basis against a reference venue.

Venues are ordered order-book venues first (price is discovered on a book; a
pool quotes around an oracle), then by id; the reference is the first venue
with a mid. Basis of venue v is ``(mid_v - mid_ref) / mid_ref * 1e4`` bps.

Pure functions over a ``MarketCache``; the Spreads pane and ``quantdesk show
spreads`` both read through here so they always agree. Prices stay integers
at each market's precision; comparisons across venues go through the
market's ``price()`` (a ``Decimal`` in quote units) because two venues need
not share a precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Market

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class VenueQuote:
    """One venue's touch for a market. ``bid``/``ask`` are at the market's
    price precision; None when that side of the book is empty or not synced."""

    venue: str
    market: Market
    bid: int | None
    ask: int | None
    crossed: bool = False  # the venue's own book is crossed: its touch is left out (bid/ask None)

    @property
    def mid(self) -> Decimal | None:
        """Mid price in quote units (e.g. USD), exact."""
        if self.bid is None or self.ask is None:
            return None
        return (self.market.price(self.bid) + self.market.price(self.ask)) / 2

    @property
    def bid_price(self) -> Decimal | None:
        return None if self.bid is None else self.market.price(self.bid)

    @property
    def ask_price(self) -> Decimal | None:
        return None if self.ask is None else self.market.price(self.ask)


@dataclass(frozen=True, slots=True)
class BestPrice:
    venue: str
    price: Decimal  # quote units


@dataclass(frozen=True, slots=True)
class MarketSpread:
    """A market across every venue that lists it."""

    symbol: str
    quotes: list[VenueQuote]
    best_bid: BestPrice | None
    best_ask: BestPrice | None
    reference: str | None  # the venue basis is measured against
    basis: dict[str, Decimal]  # venue -> bps against the reference (venues with a mid, not the reference)
    basis_bps: Decimal | None  # the first other venue's basis: the headline figure of the market
    basis_pair: tuple[str, str] | None  # (that venue, reference) for ``basis_bps``

    @property
    def crossed(self) -> bool:
        """The best bid on one venue is at or above the best ask on another:
        buying on one and selling on the other pays before fees."""
        return (
            self.best_bid is not None
            and self.best_ask is not None
            and self.best_bid.venue != self.best_ask.venue
            and self.best_bid.price >= self.best_ask.price
        )


def basis_bps(mid_a: Decimal, mid_b: Decimal) -> Decimal | None:
    """How far venue a trades above venue b, in basis points of b's mid."""
    if mid_b <= 0:
        return None
    return (mid_a - mid_b) / mid_b * BPS


def market_price(cache: MarketCache, venue: str, market: str) -> Decimal | None:
    """The price of ``market`` on ``venue`` in quote units: the synced book's
    mid, else the oracle price (a pool venue has no book of its own)."""
    m = cache.markets.get((venue, market))
    if m is None:
        return None
    book = cache.books.get((venue, market))
    mid = book.mid() if book is not None and not book.needs_resync else None
    if mid is not None:
        return mid.scaleb(-m.price_decimals)
    oracle = cache.oracle.get((venue, market))
    return None if oracle is None else m.price(oracle.price)


def listing_venues(cache: MarketCache, symbol: str) -> list[str]:
    """The venues listing ``symbol``, order-book venues first, then by id."""
    found = [(m.kind != "clob", v) for (v, s), m in cache.markets.items() if s == symbol]
    return [v for _, v in sorted(found)]


def venue_quotes(cache: MarketCache, symbol: str, venues: list[str] | None = None) -> list[VenueQuote]:
    """The touch of ``symbol`` on each venue listing it, order-book venues first.
    A crossed book (a DLOB and its AMM overlapping for a moment) quotes nothing
    here: no best price, basis or arbitrage is built on it."""
    out = []
    for (venue, sym), market in cache.markets.items():
        if sym != symbol or (venues is not None and venue not in venues):
            continue
        book = cache.books.get((venue, sym))
        bid = ask = None
        crossed = book is not None and book.crossed
        if book is not None and not book.needs_resync and not crossed:
            b, a = book.best_bid(), book.best_ask()
            bid = None if b is None else b[0]
            ask = None if a is None else a[0]
        out.append(VenueQuote(venue, market, bid, ask, crossed))
    out.sort(key=lambda q: (q.market.kind != "clob", q.venue))
    return out


def best_bid(quotes: list[VenueQuote]) -> BestPrice | None:
    """The highest bid across venues; ties go to the venue listed first."""
    best: BestPrice | None = None
    for q in quotes:
        p = q.bid_price
        if p is not None and (best is None or p > best.price):
            best = BestPrice(q.venue, p)
    return best


def best_ask(quotes: list[VenueQuote]) -> BestPrice | None:
    """The lowest ask across venues; ties go to the venue listed first."""
    best: BestPrice | None = None
    for q in quotes:
        p = q.ask_price
        if p is not None and (best is None or p < best.price):
            best = BestPrice(q.venue, p)
    return best


def market_spread(cache: MarketCache, symbol: str, venues: list[str] | None = None) -> MarketSpread:
    quotes = venue_quotes(cache, symbol, venues)
    ref = next((q for q in quotes if q.mid is not None), None)
    ref_mid = None if ref is None else ref.mid
    basis: dict[str, Decimal] = {}
    if ref_mid is not None:
        for q in quotes:
            mid = q.mid
            if q is not ref and mid is not None:
                b = basis_bps(mid, ref_mid)
                if b is not None:
                    basis[q.venue] = b
    first = next(iter(basis), None)
    return MarketSpread(
        symbol,
        quotes,
        best_bid(quotes),
        best_ask(quotes),
        None if ref is None else ref.venue,
        basis,
        None if first is None else basis[first],
        None if first is None or ref is None else (first, ref.venue),
    )


def market_spreads(cache: MarketCache, venues: list[str] | None = None) -> list[MarketSpread]:
    """Every symbol in the cache, in the order first listed."""
    symbols = list(dict.fromkeys(sym for _, sym in cache.markets))
    return [market_spread(cache, s, venues) for s in symbols]
