"""The quote ladder: what opening a position of each size would cost, shaped as a book.

Jupiter Perps has no order book: every trade fills at the oracle price and
pays an open fee plus a price-impact fee that grows with size and with the
last minute's open-interest imbalance (so a long and a short of one size may
pay differently). To compare it with a book venue at equal size, each rung of
the ladder gives the all-in price of a long (an ask: oracle plus fees) and of
a short (a bid: oracle minus fees), and the ladder is published as
``BookSnapshot`` levels for the Depth pane. Sizes are USD notionals with 6 decimals; prices USD 1e6; book
sizes in base units at ``size_decimals``.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.venues.jupiter.position_math import BPS_POWER, base_fee_usd, impact_delta, minute_imbalance, price_impact_fee_usd
from quantdesk.venues.jupiter.views import CustodyView

USD = 1_000_000
DEFAULT_LADDER_USD = tuple(n * USD for n in (1_000, 10_000, 50_000, 100_000, 250_000, 500_000, 1_000_000))


@dataclass(frozen=True)
class QuoteRung:
    size_usd: int
    size_base: int  # at the book's size decimals
    execution_price: int  # the oracle price the trade fills at
    open_fee_usd: int  # base fee
    long_impact_fee_usd: int  # price-impact fee of opening a long of this size now
    short_impact_fee_usd: int
    long_price: int  # all-in price of a long: execution price plus fees per unit
    short_price: int  # all-in price of a short

    @property
    def fee_usd(self) -> int:
        """A long's open and price-impact fees."""
        return self.open_fee_usd + self.long_impact_fee_usd

    @property
    def fee_bps(self) -> Decimal:
        return Decimal(self.fee_usd * BPS_POWER) / self.size_usd

    @property
    def short_fee_bps(self) -> Decimal:
        return Decimal((self.open_fee_usd + self.short_impact_fee_usd) * BPS_POWER) / self.size_usd


def quote_ladder(
    custody: CustodyView,
    oracle_price: int,
    sizes_usd: tuple[int, ...] = DEFAULT_LADDER_USD,
    size_decimals: int = 9,
    now_s: int = 0,
) -> list[QuoteRung]:
    """One rung per size, priced at ``now_s`` (unix seconds: the imbalance window
    moves with time); sizes the custody could not take (over its max position
    size) are left out."""
    if oracle_price <= 0:
        return []
    rungs = []
    minute = minute_imbalance(custody.price_impact, now_s)  # the same for every rung
    for size in sorted(s for s in sizes_usd if s > 0):
        if custody.max_position_size_usd and size > custody.max_position_size_usd:
            continue
        fee = base_fee_usd(size, custody.increase_position_bps)
        scalar, buf = custody.trade_impact_fee_scalar, custody.price_impact
        long_impact = price_impact_fee_usd(size, scalar, buf, now_s, impact_delta("long", True, size), minute)
        short_impact = price_impact_fee_usd(size, scalar, buf, now_s, impact_delta("short", True, size), minute)
        # fees spread over the size, in price units
        long_per_unit = oracle_price * (fee + long_impact) // size
        short_per_unit = oracle_price * (fee + short_impact) // size
        rungs.append(
            QuoteRung(
                size_usd=size,
                size_base=size * 10**size_decimals // oracle_price,
                execution_price=oracle_price,
                open_fee_usd=fee,
                long_impact_fee_usd=long_impact,
                short_impact_fee_usd=short_impact,
                long_price=oracle_price + long_per_unit,
                short_price=max(0, oracle_price - short_per_unit),
            )
        )
    return rungs


def ladder_levels(rungs: list[QuoteRung]) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(bids, asks) best first: the short and long all-in prices of each rung.

    A level's size is what its rung adds to the one before, so the sizes summed
    from the touch to a level are that rung's whole size: the convention of
    every pool venue's book (a level's price is the average all-in price of a
    trade as large as the cumulative size), read by the Depth pane's totals and
    the insights' pool quotes."""
    sizes = [r.size_base - (rungs[i - 1].size_base if i else 0) for i, r in enumerate(rungs)]
    bids = [(r.short_price, n) for r, n in zip(rungs, sizes)]
    asks = [(r.long_price, n) for r, n in zip(rungs, sizes)]
    return bids, asks
