"""What the resting book says beyond its touch: imbalance and depth near the mid.

``imbalance`` is the signed share of resting size on the bid over the top
``levels`` of each side: (bids - asks) / (bids + asks), from -1 (only asks)
through 0 (balanced) to +1 (only bids). It is the figure the Depth pane's
totals line shows as a percentage, and what ``IMBALANCE > 0.7`` alerts on.

``depth_within`` is what rests within ``bps`` of the mid on each side, in base
size and in quote (price precision), so a trader sees how much the book takes
before the price moves that far.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from quantdesk.core.book import OrderBook
from quantdesk.core.model import SIZE_DECIMALS

DEFAULT_LEVELS = 10
BPS = 10_000


def imbalance(book: OrderBook, levels: int = DEFAULT_LEVELS) -> Decimal | None:
    """(bid size - ask size) / (bid size + ask size) over the best ``levels`` of
    each side, in [-1, 1]; None for a book that is resyncing, crossed or empty."""
    if book.needs_resync or levels <= 0:
        return None
    bids = sum(size for _, size in book.sorted_bids()[:levels])
    asks = sum(size for _, size in book.sorted_asks()[:levels])
    total = bids + asks
    if total == 0 or book.crossed:
        return None
    return Decimal(bids - asks) / total


@dataclass(frozen=True, slots=True)
class BandDepth:
    """Resting liquidity within ``bps`` of ``mid``. Sizes in base units,
    notionals in quote at price precision (floored)."""

    bps: int
    mid: Decimal  # price units
    bid_size: int
    ask_size: int
    bid_notional: int
    ask_notional: int

    @property
    def notional(self) -> int:
        return self.bid_notional + self.ask_notional


def depth_within(book: OrderBook, bps: int, size_decimals: int = SIZE_DECIMALS) -> BandDepth | None:
    """Size and notional resting within ``bps`` of the book's mid on each side;
    None for a book without two sides or one that is resyncing."""
    mid = book.mid()
    if mid is None or book.needs_resync or mid <= 0:
        return None
    lo = mid * (BPS - bps) / BPS
    hi = mid * (BPS + bps) / BPS
    bid_size = bid_value = 0
    for price, size in book.sorted_bids():
        if price < lo:
            break
        bid_size += size
        bid_value += price * size
    ask_size = ask_value = 0
    for price, size in book.sorted_asks():
        if price > hi:
            break
        ask_size += size
        ask_value += price * size
    scale = 10**size_decimals
    return BandDepth(bps, mid, bid_size, ask_size, bid_value // scale, ask_value // scale)
