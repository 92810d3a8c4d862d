"""Candles built from trades and prices, rolled up, and a venue's own bars,
against OHLCV worked out by hand."""

from __future__ import annotations

import pytest

from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.candles import (
    HOURS_KEPT,
    CandleBuilder,
    CandleSeries,
    MarketCandles,
    UnknownTimeframe,
    aggregate,
    parse_timeframe,
    step_timeframe,
)
from quantdesk.core.model import Candle, Market, OraclePrice, Trade, topic_for

S = 1_000_000_000
T0 = 1_795_000_020 * S  # 2026-11-18 11:07:00 UTC: a minute boundary
SOL = Market("v", "SOL-PERP", "SOL", "USDC", "clob", 1_000, 10_000_000)
POOL = Market("p", "SOL-PERP", "SOL", "USDC", "pool", 1, 1)


def px(dollars: str) -> int:
    return SOL.to_price(dollars)


def sz(base: str) -> int:
    return SOL.to_size(base)


def test_one_minute_of_trades_is_one_bar_with_hand_computed_ohlcv():
    b = CandleBuilder(60, 10)
    # 12:00:05 buy 2 @ 100.00, :20 sell 1 @ 101.50, :40 1 @ 99.25, :59 0.5 @ 100.75
    for ts, price, size in ((5, "100.00", "2"), (20, "101.50", "1"), (40, "99.25", "1"), (59, "100.75", "0.5")):
        assert b.add(T0 + ts * S, px(price), sz(size))
    (c,) = b.candles("v", "SOL-PERP", "1m")
    assert (c.ts, c.open, c.high, c.low, c.close) == (T0, px("100.00"), px("101.50"), px("99.25"), px("100.75"))
    assert c.volume == sz("4.5")
    # 2 x 100 + 1 x 101.5 + 1 x 99.25 + 0.5 x 100.75 = 451.125 USD
    assert c.quote_volume == px("451.125")


def test_a_new_minute_opens_a_new_bar_and_quiet_minutes_repeat_the_close():
    b = CandleBuilder(60, 10)
    b.add(T0 + 10 * S, px("100"), sz("1"))
    b.add(T0 + 50 * S, px("102"), sz("1"))
    b.add(T0 + 200 * S, px("103"), sz("3"))  # 12:03:20: nothing traded in minutes 1 and 2
    bars = b.candles("v", "SOL-PERP", "1m")
    assert [c.ts for c in bars] == [T0, T0 + 60 * S, T0 + 120 * S, T0 + 180 * S]
    assert [(c.open, c.high, c.low, c.close, c.volume) for c in bars] == [
        (px("100"), px("102"), px("100"), px("102"), sz("2")),
        (px("102"), px("102"), px("102"), px("102"), 0),
        (px("102"), px("102"), px("102"), px("102"), 0),
        (px("103"), px("103"), px("103"), px("103"), sz("3")),
    ]


def test_a_late_print_lands_in_its_own_bar_without_moving_its_close():
    b = CandleBuilder(60, 10)
    b.add(T0 + 10 * S, px("100"), sz("1"))
    b.add(T0 + 70 * S, px("101"), sz("1"))
    assert b.add(T0 + 30 * S, px("98"), sz("2"))  # arrives after the next minute opened
    first, second = b.candles("v", "SOL-PERP", "1m")
    assert (first.low, first.close, first.volume) == (px("98"), px("100"), sz("3"))
    assert (second.open, second.close) == (px("101"), px("101"))
    assert not b.add(T0 - 3_600 * S, px("50"), sz("1"))  # older than any bar kept: dropped
    assert not b.add(T0 + 80 * S, 0, sz("1"))  # no price


def test_only_the_newest_bars_are_kept_even_across_a_long_gap():
    b = CandleBuilder(60, 5)
    b.add(T0, px("100"))
    b.add(T0 + 86_400 * S, px("105"))  # a day later: not 1,440 flat bars, only what is kept
    bars = b.candles("v", "SOL-PERP", "1m")
    assert len(bars) == 5
    assert bars[-1].ts == T0 + 86_400 * S and bars[-1].close == px("105")
    assert all(c.close == px("100") for c in bars[:-1])
    assert [c.ts for c in bars] == [T0 + 86_400 * S - i * 60 * S for i in range(4, -1, -1)]


def test_price_samples_move_the_bar_but_add_no_volume():
    b = CandleBuilder(60, 10)
    for ts, price in ((1, "150"), (2, "151"), (3, "149.5"), (4, "150.5")):
        b.add(T0 + ts * S, px(price))
    (c,) = b.candles("p", "SOL-PERP", "1m")
    assert (c.open, c.high, c.low, c.close, c.volume, c.quote_volume) == (
        px("150"), px("151"), px("149.5"), px("150.5"), 0, 0)


def test_minutes_roll_up_into_five_minute_bars():
    one = [
        Candle("v", "M", "1m", T0 + i * 60 * S, o, h, lo, c, v, q)
        for i, (o, h, lo, c, v, q) in enumerate(
            [(10, 12, 9, 11, 1, 10), (11, 15, 11, 14, 2, 20), (14, 14, 8, 9, 3, 30),
             (9, 10, 9, 10, 4, 40), (10, 11, 10, 11, 5, 50), (11, 13, 7, 12, 6, 60)]
        )
    ]
    # T0 is 11:07: the 5m bars start at 11:05 (11:07, 11:08, 11:09) and 11:10 (11:10 .. 11:12)
    five = aggregate(one, "5m")
    assert [(c.ts, c.open, c.high, c.low, c.close, c.volume, c.quote_volume) for c in five] == [
        (T0 - 120 * S, 10, 15, 8, 9, 6, 60),
        (T0 + 180 * S, 9, 13, 7, 12, 15, 150),
    ]
    assert all(c.timeframe == "5m" and c.venue == "v" for c in five)
    assert aggregate([], "1d") == []


def test_market_candles_answer_every_timeframe_from_two_tiers():
    mc = MarketCandles()
    day = T0 - T0 % (86_400 * S)
    for h in range(30):  # one trade an hour for 30 hours
        mc.add(day + h * 3_600 * S + 5 * S, px(str(100 + h)), sz("1"))
    hours = mc.candles("v", "SOL-PERP", "1h")
    assert len(hours) == 30 and hours[-1].close == px("129")
    days = mc.candles("v", "SOL-PERP", "1d")
    assert [(c.ts, c.open, c.high, c.low, c.close, c.volume) for c in days] == [
        (day, px("100"), px("123"), px("100"), px("123"), sz("24")),
        (day + 86_400 * S, px("124"), px("129"), px("124"), px("129"), sz("6")),
    ]
    assert len(mc.candles("v", "SOL-PERP", "4h")) == 8  # 00, 04, .. 24, 28 -> hours 0..29 in 8 four-hour bars
    fifteen = mc.candles("v", "SOL-PERP", "15m")  # minutes keep a day: the last 24 h of 15m bars
    assert fifteen[-1].close == px("129") and len(fifteen) <= 96
    assert mc.hours.bars.maxlen == HOURS_KEPT


def test_timeframes_parse_and_step_within_the_ends():
    assert parse_timeframe("1H") == "1h" and parse_timeframe(" 15m ") == "15m"
    with pytest.raises(UnknownTimeframe, match="choose one of 1m, 5m, 15m, 1h, 4h, 1d"):
        parse_timeframe("2h")
    assert step_timeframe("1h", 1) == "4h" and step_timeframe("1d", 1) == "1d" and step_timeframe("1m", -1) == "1m"


def test_a_venue_series_appends_replaces_the_forming_bar_and_inserts_older_ones():
    s = CandleSeries(keep=3)

    def c(minute: int, close: int) -> Candle:
        return Candle("drift", "SOL-PERP", "1m", T0 + minute * 60 * S, close, close, close, close)

    s.upsert(c(1, 10))
    s.upsert(c(2, 20))
    s.upsert(c(2, 21))  # the forming bar's update
    s.upsert(c(0, 5))  # an older bar, still room
    assert [(x.ts - T0) // (60 * S) for x in s.candles] == [0, 1, 2]
    assert s.candles[-1].close == 21
    s.upsert(c(3, 30))  # beyond keep: the oldest goes
    assert [(x.ts - T0) // (60 * S) for x in s.candles] == [1, 2, 3]
    s.upsert(c(1, 11))
    assert s.candles[0].close == 11


def _wired() -> tuple[Bus, MarketCache]:
    bus = Bus()
    cache = MarketCache()
    cache.attach(bus)
    cache.add_markets([SOL, POOL])
    return bus, cache


def test_the_cache_builds_bars_from_trades_on_a_book_venue_and_from_the_oracle_on_a_pool():
    bus, cache = _wired()
    for ev in (
        Trade("v", "SOL-PERP", T0 + 1 * S, px("100"), sz("1"), "buy"),
        Trade("v", "SOL-PERP", T0 + 2 * S, px("99"), sz("2"), "sell"),
        OraclePrice("v", "SOL-PERP", T0 + 3 * S, px("120")),  # a book venue's oracle is not a trade
        OraclePrice("p", "SOL-PERP", T0 + 1 * S, px("100.10")),
        OraclePrice("p", "SOL-PERP", T0 + 2 * S, px("100.30")),
        Trade("p", "SOL-PERP", T0 + 3 * S, px("100.20"), sz("5"), "buy"),
    ):
        bus.publish(topic_for(ev), ev)
    (book,), source = cache.candles_of("v", "SOL-PERP", "1m")
    assert source == "built"
    assert (book.open, book.high, book.low, book.close, book.volume) == (px("100"), px("100"), px("99"), px("99"), sz("3"))
    (pool,), _ = cache.candles_of("p", "SOL-PERP", "1m")
    # the pool's trade fills at its oracle (plus fees): it adds volume, the oracle sets the price
    assert (pool.open, pool.high, pool.low, pool.close, pool.volume) == (
        px("100.10"), px("100.30"), px("100.10"), px("100.30"), sz("5"))
    assert pool.quote_volume == px("501.50")
    assert cache.candle_rev[("v", "SOL-PERP")] == 2 and cache.candle_rev[("p", "SOL-PERP")] == 3


def test_the_venues_own_bars_win_over_built_ones_for_their_timeframe():
    bus, cache = _wired()
    bus.publish("trade.v.SOL-PERP", Trade("v", "SOL-PERP", T0, px("100"), sz("1"), "buy"))
    venue_bar = Candle("v", "SOL-PERP", "1h", T0 - T0 % (3_600 * S), px("90"), px("101"), px("89"), px("100"), sz("7"))
    rev = cache.candle_rev[("v", "SOL-PERP")]
    bus.publish(topic_for(venue_bar), venue_bar)
    assert cache.candle_rev[("v", "SOL-PERP")] == rev + 1
    assert cache.candles_of("v", "SOL-PERP", "1h") == ([venue_bar], "venue")
    bars, source = cache.candles_of("v", "SOL-PERP", "1m")  # no venue bars of 1m: built ones
    assert source == "built" and bars[0].close == px("100")
    assert cache.candles_of("v", "ETH-PERP", "1m") == ([], "built")
