"""Carry against hand-computed values: funding and borrow in one annual unit,
the next payment, and cross-venue pairs ranked by net carry per day per $10k
after the cost of opening both legs."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.insights.carry import carries, carry, carry_pairs, holding_cost
from quantdesk.core.model import Funding

from support.insights_cache import NEXT_TS, three_venues

USD = 1_000_000


def test_funding_and_borrow_in_one_annual_unit_with_the_next_payment():
    # +0.001 %/h: 0.00001 x 8760 h = 8.76 %/yr, longs pay; on $10k the next hour is $0.10
    c = carry(Funding("book", "SOL-PERP", 0, 10_000, 12_000, 3600, NEXT_TS))
    assert (c.rate, c.predicted) == (Decimal("0.0876"), Decimal("0.10512"))
    assert (c.long_cost, c.short_cost) == (Decimal("0.0876"), Decimal("-0.0876"))
    assert c.change == Decimal("0.01752")  # heading up
    assert (c.next_ts, c.next_long, c.next_short) == (NEXT_TS, -120_000, 120_000)  # at the predicted rate
    # a borrow fee is paid by both sides
    b = carry(Funding("pool", "SOL-PERP", 0, 5_000, 5_000, 3600, NEXT_TS, kind="borrow"))
    assert (b.long_cost, b.short_cost) == (Decimal("0.0438"), Decimal("0.0438"))
    assert (b.next_long, b.next_short) == (-50_000, -50_000)
    # an eight-hour interval states the same yearly figure
    eight = carry(Funding("x", "SOL-PERP", 0, 80_000, 80_000, 8 * 3600, NEXT_TS))
    assert eight.rate == Decimal("0.0876")


def test_holding_cost_signs():
    f = Funding("book", "SOL-PERP", 0, -5_000, -5_000, 3600, 0)
    assert holding_cost(f, "long") == -43_800_000  # longs are paid
    assert holding_cost(f, "short") == 43_800_000


def test_pairs_ranked_by_net_carry_per_day_after_opening_both_legs():
    _, cache = three_venues()
    pairs = carry_pairs(cache)
    assert [(p.long_venue, p.short_venue) for p in pairs] == [
        ("book2", "book"),  # +13.14 %/yr: $3.60 a day
        ("pool", "book"),  # +4.38 %/yr: $1.20 a day, but the pool leg costs more to open
        ("book2", "pool"),  # 0
        ("pool", "book2"),
        ("book", "book2"),
        ("book", "pool"),
    ]
    best = pairs[0]
    assert best.carry == Decimal("0.1314") and best.per_day == 3_600_000
    # each book leg: 1 bp over the mid + 3.5 bp taker fee on $10k = $4.50
    assert best.open_cost == 9_000_000
    assert best.net_per_day == 3_600_000 - 9_000_000 // 7  # opening spread over 7 days
    assert best.break_even_days == Decimal("2.5")
    pool_book = pairs[1]
    # pool leg: 6 bp all-in (fees in its price), book leg $4.50
    assert (pool_book.per_day, pool_book.open_cost) == (1_200_000, 10_500_000)
    assert pool_book.net_per_day == 1_200_000 - 1_500_000
    assert pool_book.break_even_days == Decimal("8.75")
    assert [p.net_per_day for p in pairs[2:]] == [-1_500_000, -3_900_000, -4_885_714, -5_100_000]
    assert pairs[2].break_even_days is None  # no carry: never pays back


def test_a_longer_horizon_and_other_fees_reorder_nothing_but_the_figures():
    _, cache = three_venues()
    pairs = carry_pairs(cache, horizon_days=30, taker_fee_ppm={"book": 0, "book2": 0})
    best = pairs[0]
    assert (best.long_venue, best.short_venue, best.open_cost) == ("book2", "book", 2_000_000)  # 1 bp a leg
    assert best.net_per_day == 3_600_000 - 2_000_000 // 30
    assert carry_pairs(cache, markets=["BTC-PERP"]) == []


def test_a_leg_without_a_book_leaves_its_pairs_out():
    bus, cache = three_venues()
    del cache.books[("pool", "SOL-PERP")]
    pairs = carry_pairs(cache)
    assert {(p.long_venue, p.short_venue) for p in pairs} == {("book2", "book"), ("book", "book2")}
    assert [c.venue for c in carries(cache)] == ["book", "book2", "pool"]
