"""The ranked board: warnings, then opportunities by what they earn, then
signals; recomputed when the cache changes, and only what changed."""

from __future__ import annotations

from decimal import Decimal

from quantdesk.core.insights.engine import InsightsEngine
from quantdesk.core.model import BookDelta, Funding, Position, topic_for

from support.insights_cache import P, S, book_event, three_venues


def positions(bus) -> None:
    for p in (
        Position("book", "SOL-PERP", 10 * S, -1_000 * P, 100 * P, 100 * P, liquidation_price=95 * P),  # 5 % away
        Position("pool", "SOL-PERP", -1 * S, 100 * P, 100 * P, 100 * P, liquidation_price=150 * P),  # 50 % away
    ):
        bus.publish(topic_for(p), p)


def test_board_ranks_warnings_then_opportunities_then_signals():
    bus, cache = three_venues()
    positions(bus)
    bus.publish("book.book2.SOL-PERP", book_event("book2", [(99_990_000, 4_000 * S)], [(100_010_000, 1_000 * S)], seq=2))
    report = InsightsEngine().report(cache, 7)
    assert [(i.severity, i.kind, i.venues) for i in report.insights] == [
        ("warning", "liquidation", ("book",)),
        ("opportunity", "carry", ("book2", "book")),
        ("signal", "imbalance", ("book2",)),
    ]
    warn, pair, skew = report.insights
    assert warn.figures["distance"] == Decimal("0.05")
    assert warn.headline == "long 5.00% from liquidation"  # no trades yet: no volatility, no sigma
    assert "liq 95.00" in warn.detail
    assert pair.figures["net_per_day"] == Decimal("2.314286")  # $3.60 - $9.00 / 7
    assert pair.headline == "long book2 / short book: $2.31/day net per $10,000"
    assert skew.figures["imbalance"] == Decimal("0.6") and skew.headline == "book +0.60: bids heavy"
    # every position's figures are in the report, near liquidation or not
    assert [(r.venue, r.distance) for r in report.positions] == [("book", Decimal("0.05")), ("pool", Decimal("0.5"))]
    assert report.ts == 7 and report.notional == 10_000 * P


def test_a_cross_between_venues_is_an_opportunity_after_fees():
    bus, cache = three_venues()
    # book2's bid is now 20 bp above book's ask, and 15 bp above the pool's $10k price
    bus.publish("book.book2.SOL-PERP", book_event("book2", [(100_210_000, 1_000 * S)], [(100_230_000, 1_000 * S)], seq=2))
    report = InsightsEngine().report(cache, 0)
    cross = [i for i in report.insights if i.kind == "cross"]
    # (buy venue, sell venue), the larger edge first
    assert [(i.severity, i.venues) for i in cross] == [("opportunity", ("book", "book2")), ("opportunity", ("pool", "book2"))]
    # sell 100.21, buy 100.01: 0.20 / 100.01 = 19.998 bp, less 3.5 bp a leg
    edge = (Decimal("100.21") - Decimal("100.01")) / Decimal("100.01") * 10_000 - 7
    assert cross[0].figures["edge_bps"] == edge
    assert cross[0].figures["value"] == Decimal(int(edge * 10_000 * P / 10_000)) / P
    # the pool's price has its fees in it: only book2's taker fee comes off
    assert cross[1].figures["edge_bps"] == (Decimal("100.21") - Decimal("100.06")) / Decimal("100.06") * 10_000 - Decimal("3.5")


def test_a_funding_rate_predicted_to_turn_is_a_signal():
    bus, cache = three_venues()
    f = Funding("book", "SOL-PERP", 1, 10_000, -2_000, 3600, 0)
    bus.publish(topic_for(f), f)
    turns = [i for i in InsightsEngine().report(cache, 0).insights if i.kind == "funding-turn"]
    assert [(i.venues, i.headline) for i in turns] == [(("book",), "funding turns: shorts pay next")]


def test_recomputed_on_change_and_only_what_changed():
    bus, cache = three_venues()
    engine = InsightsEngine()
    first = engine.report(cache, 0)
    assert engine.report(cache, 1) is first  # nothing moved: the same report
    pool_quotes = [q for q in first.impact if q.venue == "pool"]
    bus.publish("book.book.SOL-PERP", BookDelta("book", "SOL-PERP", 2, 5, bids=[(99_990_000, 9_000 * S)]))
    second = engine.report(cache, 2)
    assert second is not first
    book_fig = next(b for b in second.books if b.venue == "book")
    assert book_fig.imbalance == Decimal(8_000) / 10_000
    assert [i.kind for i in second.insights] == ["carry", "imbalance"]
    # the pool's book did not move: its quotes were kept, not recomputed
    assert all(a is b for a, b in zip(pool_quotes, [q for q in second.impact if q.venue == "pool"]))
    assert not any(a is b for a, b in zip(first.impact[:2], second.impact[:2]))


def test_warnings_rank_the_nearest_liquidation_first():
    bus, cache = three_venues()
    for venue, liq in (("book2", 92 * P), ("book", 95 * P), ("pool", 89 * P)):
        p = Position(venue, "SOL-PERP", 10 * S, -1_000 * P, 100 * P, 100 * P, liquidation_price=liq)
        bus.publish(topic_for(p), p)
    warnings = [i for i in InsightsEngine().report(cache, 0).insights if i.severity == "warning"]
    # 5 %, then 8 %; 11 % is outside the 10 % warning band
    assert [(i.venues, i.figures["distance"]) for i in warnings] == [(("book",), Decimal("0.05")), (("book2",), Decimal("0.08"))]
