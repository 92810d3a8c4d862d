"""Book insights against hand-computed values: imbalance over the top levels
and the liquidity resting within a band around the mid."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.book import OrderBook
from quantdesk.core.insights import depth_within, imbalance
from quantdesk.core.model import BookDelta, BookSnapshot

P = 1_000_000  # price precision
S = 1_000_000_000  # size precision


def book(bids: list[tuple[str, int]], asks: list[tuple[str, int]]) -> OrderBook:
    b = OrderBook("v", "SOL-PERP")
    b.apply(
        BookSnapshot(
            "v",
            "SOL-PERP",
            1,
            0,
            [(int(Decimal(p) * P), n * S) for p, n in bids],
            [(int(Decimal(p) * P), n * S) for p, n in asks],
        )
    )
    return b


FIXED = book([("100.00", 3), ("99.90", 2), ("99.00", 5)], [("100.10", 1), ("100.20", 1), ("101.00", 4)])


def test_imbalance_counts_only_the_top_levels_of_each_side():
    assert imbalance(FIXED, 1) == Decimal(3 - 1) / 4  # 0.5
    assert imbalance(FIXED, 2) == Decimal(5 - 2) / 7
    assert imbalance(FIXED, 3) == Decimal("0.25")  # bids 10, asks 6
    assert imbalance(FIXED, 50) == Decimal("0.25")  # fewer levels than asked: all of them


def test_imbalance_is_signed_one_sided_books_are_plus_or_minus_one():
    assert imbalance(book([], [("100", 2)])) == -1
    assert imbalance(book([("100", 2)], [])) == 1
    asks_heavy = book([("99", 1)], [("101", 3)])
    assert imbalance(asks_heavy) == Decimal("-0.5")


def test_imbalance_refuses_books_it_cannot_trust():
    assert imbalance(book([], [])) is None
    assert imbalance(book([("101", 1)], [("100", 1)])) is None  # crossed
    gapped = book([("100", 1)], [("101", 1)])
    gapped.apply(BookDelta("v", "SOL-PERP", 5, 0, [(100 * P, 2 * S)]))  # seq 1 -> 5: a gap
    assert gapped.needs_resync
    assert imbalance(gapped) is None
    assert imbalance(FIXED, 0) is None


def test_depth_within_a_band_of_the_mid():
    # mid 100.05; 10 bp band: 99.94995 .. 100.15005
    d = depth_within(FIXED, 10)
    assert d is not None and d.mid == Decimal("100.05") * P
    assert (d.bid_size, d.ask_size) == (3 * S, 1 * S)
    assert (d.bid_notional, d.ask_notional) == (300 * P, 100_100_000)
    # 20 bp band: 99.8499 .. 100.2501 takes the second level of each side
    d = depth_within(FIXED, 20)
    assert (d.bid_size, d.ask_size) == (5 * S, 2 * S)
    assert d.bid_notional == 300 * P + 199_800_000
    assert d.ask_notional == 100_100_000 + 100_200_000
    assert d.notional == d.bid_notional + d.ask_notional


def test_depth_within_needs_two_sides():
    assert depth_within(book([("100", 1)], []), 10) is None
