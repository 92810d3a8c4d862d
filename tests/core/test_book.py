"""OrderBook: snapshots, deltas, gaps, crossed books, depth and impact."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from quantdesk.core.book import DepthLevel, OrderBook
from quantdesk.core.model import BookDelta, BookSnapshot

P = 1_000_000  # $1 at price precision
S = 1_000_000_000  # 1 unit at size precision


def snap(seq, bids, asks, ts=0):
    return BookSnapshot("v", "SOL-PERP", seq, ts, bids, asks)


def delta(seq, bids=(), asks=(), ts=0):
    return BookDelta("v", "SOL-PERP", seq, ts, list(bids), list(asks))


def book_with(bids, asks, seq=10):
    b = OrderBook("v", "SOL-PERP")
    b.apply_snapshot(snap(seq, bids, asks))
    return b


def test_new_book_waits_for_a_snapshot():
    b = OrderBook("v", "SOL-PERP")
    assert b.needs_resync
    assert b.apply_delta(delta(1, bids=[(99 * P, S)])) is False
    assert b.bids == {} and b.gaps == 0  # not a gap: there was nothing to follow yet
    assert b.best_bid() is None and b.mid() is None and b.spread_bps() is None


def test_snapshot_replaces_the_book_and_drops_empty_levels():
    b = book_with([(99 * P, S), (98 * P, 0)], [(100 * P, 2 * S)], seq=10)
    assert not b.needs_resync
    assert (b.seq, b.bids, b.asks) == (10, {99 * P: S}, {100 * P: 2 * S})
    b.apply_snapshot(snap(20, [(97 * P, 3 * S)], [(101 * P, S)], ts=5))
    assert b.sorted_bids() == [(97 * P, 3 * S)]
    assert b.sorted_asks() == [(101 * P, S)]
    assert (b.seq, b.ts) == (20, 5)


def test_touch_mid_and_spread():
    b = book_with([(98 * P, S), (99 * P, S)], [(101 * P, S), (100 * P, S)])
    assert b.best_bid() == (99 * P, S)
    assert b.best_ask() == (100 * P, S)
    assert b.mid() == Decimal(99_500_000)
    assert b.spread() == P
    # 1 / 99.5 * 1e4
    assert b.spread_bps().quantize(Decimal("0.0001")) == Decimal("100.5025")


def test_delta_sets_levels_and_size_zero_deletes():
    b = book_with([(99 * P, S)], [(100 * P, S)], seq=10)
    assert b.apply_delta(delta(11, bids=[(99 * P, 5 * S), (99_500_000, S)], asks=[(100 * P, 0)], ts=7))
    assert b.best_bid() == (99_500_000, S)  # the read after a change sees it
    assert b.bids == {99 * P: 5 * S, 99_500_000: S}
    assert b.best_ask() is None
    assert (b.seq, b.ts) == (11, 7)
    assert b.apply_delta(delta(12, asks=[(100 * P, 0)]))  # deleting a missing level is harmless
    assert b.asks == {}


def test_gap_flags_resync_counts_once_and_freezes_until_snapshot():
    b = book_with([(99 * P, S)], [(100 * P, S)], seq=10)
    assert b.apply_delta(delta(11, bids=[(99 * P, 2 * S)]))
    assert b.apply_delta(delta(13, bids=[(99 * P, 9 * S)])) is False  # 12 went missing
    assert b.needs_resync and b.gaps == 1
    assert b.apply_delta(delta(14, bids=[(99 * P, 9 * S)])) is False
    assert b.gaps == 1  # one gap, one count: later deltas just wait
    assert b.bids == {99 * P: 2 * S}  # nothing applied on top of a broken sequence
    b.apply_snapshot(snap(14, [(99 * P, 9 * S)], [(100 * P, S)]))
    assert not b.needs_resync
    assert b.apply_delta(delta(15, asks=[(100 * P, 3 * S)]))
    assert b.asks == {100 * P: 3 * S}
    assert b.gaps == 1


def test_stale_and_duplicate_deltas_are_ignored():
    b = book_with([(99 * P, S)], [(100 * P, S)], seq=10)
    assert b.apply_delta(delta(11, bids=[(99 * P, 2 * S)]))
    assert b.apply_delta(delta(11, bids=[(99 * P, 7 * S)]))  # a replay of 11
    assert b.apply_delta(delta(4, asks=[(100 * P, 0)]))  # older than the snapshot
    assert b.bids == {99 * P: 2 * S} and b.asks == {100 * P: S}
    assert b.seq == 11 and not b.needs_resync and b.gaps == 0


def test_crossed_book_is_detected():
    assert not book_with([(99 * P, S)], [(100 * P, S)]).crossed
    assert book_with([(100 * P, S)], [(100 * P, S)]).crossed  # locked counts
    b = book_with([(99 * P, S)], [(100 * P, S)], seq=1)
    b.apply_delta(delta(2, bids=[(101 * P, S)]))  # a bid above the ask: a missed delete
    assert b.crossed
    b.apply_delta(delta(3, asks=[(100 * P, 0), (102 * P, S)]))
    assert not b.crossed
    assert not book_with([(99 * P, S)], []).crossed  # one empty side is not crossed


def test_depth_lists_best_levels_with_cumulative_size():
    b = book_with([(97 * P, 4 * S), (99 * P, S), (98 * P, 2 * S)], [(100 * P, 3 * S), (101 * P, S)])
    assert b.depth("bid", 2) == [DepthLevel(99 * P, S, S), DepthLevel(98 * P, 2 * S, 3 * S)]
    assert b.depth("bid", 10) == [
        DepthLevel(99 * P, S, S),
        DepthLevel(98 * P, 2 * S, 3 * S),
        DepthLevel(97 * P, 4 * S, 7 * S),
    ]
    assert b.depth("ask", 5) == [DepthLevel(100 * P, 3 * S, 3 * S), DepthLevel(101 * P, S, 4 * S)]


# Impact worked by hand. Asks: 2 @ 100, 3 @ 101, 5 @ 103. Bids: 1 @ 99, 4 @ 98.
IMPACT_BOOK = ([(99 * P, S), (98 * P, 4 * S)], [(100 * P, 2 * S), (101 * P, 3 * S), (103 * P, 5 * S)])


def test_impact_buy_walks_the_asks():
    b = book_with(*IMPACT_BOOK)
    imp = b.impact("buy", 4 * S)
    # 2 @ 100 + 2 @ 101 = 402 for 4: average 100.5, 0.5 above the 100 touch = 50 bps
    assert imp.filled == 4 * S and imp.complete
    assert imp.notional == 100 * P * 2 * S + 101 * P * 2 * S
    assert imp.avg_price == Decimal(100_500_000)
    assert imp.worst_price == 101 * P
    assert imp.slippage_bps == Decimal(50)


def test_impact_buy_larger_than_the_book_fills_partially():
    b = book_with(*IMPACT_BOOK)
    imp = b.impact("buy", 12 * S)
    # all 10 available: 200 + 303 + 515 = 1018, average 101.8 = 180 bps over 100
    assert imp.filled == 10 * S and not imp.complete
    assert imp.avg_price == Decimal(101_800_000)
    assert imp.worst_price == 103 * P
    assert imp.slippage_bps == Decimal(180)


def test_impact_sell_hits_the_bids_and_slippage_is_positive():
    b = book_with(*IMPACT_BOOK)
    imp = b.impact("sell", 3 * S)
    # 1 @ 99 + 2 @ 98 = 295 for 3: average 98.3333.., (99 - 98.3333)/99 = 67.34 bps
    assert imp.filled == 3 * S
    assert imp.avg_price.quantize(Decimal("0.01")) == Decimal("98333333.33")
    assert imp.worst_price == 98 * P
    assert imp.slippage_bps.quantize(Decimal("0.0001")) == Decimal("67.3401")


def test_impact_inside_the_touch_has_no_slippage_and_empty_side_gives_none():
    b = book_with(*IMPACT_BOOK)
    imp = b.impact("buy", S)
    assert imp.avg_price == 100 * P and imp.slippage_bps == 0
    assert b.impact("buy", 0) is None
    assert book_with(IMPACT_BOOK[0], []).impact("buy", S) is None


def test_snapshot_of_a_book_rebuilds_the_same_book():
    b = book_with(*IMPACT_BOOK, seq=3)
    b.apply_delta(delta(4, bids=[(99 * P, 0)], ts=9))
    s = b.snapshot()
    assert (s.seq, s.ts) == (4, 9)
    assert s.bids == [(98 * P, 4 * S)]  # best first
    assert s.asks == [(100 * P, 2 * S), (101 * P, 3 * S), (103 * P, 5 * S)]
    copy = OrderBook("v", "SOL-PERP")
    copy.apply_snapshot(s)
    assert copy.bids == b.bids and copy.asks == b.asks


# -- property: any delta stream equals a plain dict model -------------------------
level = st.tuples(st.integers(90, 110).map(lambda x: x * P), st.sampled_from([0, 0, S, 2 * S, 3 * S, 7 * S]))
deltas = st.lists(st.tuples(st.lists(level, max_size=4), st.lists(level, max_size=4), st.booleans()), max_size=60)


@settings(max_examples=200, deadline=None)
@given(start_bids=st.lists(level, max_size=8), start_asks=st.lists(level, max_size=8), stream=deltas)
def test_random_deltas_match_a_reference_dict_model(start_bids, start_asks, stream):
    ref = {"bid": {}, "ask": {}}
    for side, levels in (("bid", start_bids), ("ask", start_asks)):
        for p, s in levels:
            if s:
                ref[side][p] = s
            else:
                ref[side].pop(p, None)
    b = OrderBook("v", "SOL-PERP")
    b.apply_snapshot(snap(0, sorted(ref["bid"].items(), reverse=True), sorted(ref["ask"].items())))
    for seq, (bids, asks, read_now) in enumerate(stream, start=1):
        assert b.apply_delta(delta(seq, bids, asks))
        for side, levels in (("bid", bids), ("ask", asks)):
            for p, s in levels:
                if s:
                    ref[side][p] = s
                else:
                    ref[side].pop(p, None)
        if read_now:  # reads between deltas must never see a stale sorted cache
            assert b.best_bid() == max(ref["bid"].items(), default=None)
            assert b.best_ask() == min(ref["ask"].items(), default=None)
    assert b.bids == ref["bid"] and b.asks == ref["ask"]
    assert b.sorted_bids() == sorted(ref["bid"].items(), reverse=True)
    assert b.sorted_asks() == sorted(ref["ask"].items())
    cum = 0
    for got, (p, s) in zip(b.depth("bid", 5), sorted(ref["bid"].items(), reverse=True)[:5]):
        cum += s
        assert got == DepthLevel(p, s, cum)
    assert b.crossed == (bool(ref["bid"]) and bool(ref["ask"]) and max(ref["bid"]) >= min(ref["ask"]))
    assert b.seq == len(stream) and not b.needs_resync


def test_crossing_size_is_the_overlap_that_would_trade():
    assert book_with([(99 * P, S)], [(100 * P, S)]).crossing_size() == 0
    # bids 101 x 2S and 100 x 1S against asks 100 x 1S, 100.5 x 5S: 101 takes 100's S and S of 100.5;
    # 100 does not reach 100.5 any more
    b = book_with([(101 * P, 2 * S), (100 * P, S)], [(100 * P, S), (100 * P + P // 2, 5 * S)])
    assert b.crossing_size() == 2 * S
    assert book_with([(100 * P, S)], [(100 * P, 3 * S)]).crossing_size() == S  # locked at one price
