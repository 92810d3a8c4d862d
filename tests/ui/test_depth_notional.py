"""The depth ladder's ``Total $``: what taking every level from the touch to a
row costs, the running sum of size times each level's own price."""

from __future__ import annotations

from quantdesk.core.book import OrderBook
from quantdesk.core.model import BookSnapshot, Market
from quantdesk.console.panes.depth import cumulative_notional

SOL = Market("sim-drift", "SOL-PERP", "SOL", "USDC", "clob", tick_size=1_000, lot_size=10_000_000)
USD = 10**6
SOL_UNIT = 10**9


def test_total_is_the_sum_of_each_levels_notional_not_cumulative_size_at_the_last_price():
    book = OrderBook("sim-drift", "SOL-PERP")
    book.apply(BookSnapshot("sim-drift", "SOL-PERP", 1, 0,
                            bids=[(99 * USD, 1 * SOL_UNIT), (90 * USD, 10 * SOL_UNIT)],
                            asks=[(100 * USD, 1 * SOL_UNIT), (110 * USD, 2 * SOL_UNIT)]))
    # asks: 1 x 100 = 100, then + 2 x 110 = 320 (3 x 110 would say 330)
    assert cumulative_notional(book.depth("ask", 5), SOL) == [100 * USD, 320 * USD]
    # bids: 1 x 99 = 99, then + 10 x 90 = 999 (11 x 90 would say 990)
    assert cumulative_notional(book.depth("bid", 5), SOL) == [99 * USD, 999 * USD]
