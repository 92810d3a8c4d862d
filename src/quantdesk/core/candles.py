"""Candles (OHLCV bars): the chart timeframes, bars built from trades or price
samples, finer bars rolled up into coarser ones, and a venue's own bars.

A venue with a candle service (Drift's data API) sends finished and forming
bars; every other venue's bars are built here from what the bus carries:
trades on an order-book venue, oracle prices (and trades, at that price) on a
pool venue, where the oracle price is the trade price. Bars start on UTC
boundaries of their timeframe (``ts - ts % step``), so 1m bars roll up exactly
into 5m and 15m, and 1h bars into 4h and 1d.

A bar in which nothing traded repeats the last close with zero volume, as
venue candle services do: the series has no holes, so a bar's place is its
index. Prices and sizes stay integers at the market's precision.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

from quantdesk.core.model import SIZE_DECIMALS, Candle

SECOND_NS = 1_000_000_000

# Name -> seconds, shortest first: the order ``+``/``-`` step through.
TIMEFRAMES: dict[str, int] = {"1m": 60, "5m": 300, "15m": 900, "1h": 3_600, "4h": 14_400, "1d": 86_400}
TIMEFRAME_NAMES: tuple[str, ...] = tuple(TIMEFRAMES)
DEFAULT_TIMEFRAME = "15m"

MINUTES_KEPT = 1_440  # a day of 1m bars: 288 5m bars, 96 15m bars
HOURS_KEPT = 1_080  # 45 days of 1h bars: 270 4h bars, 45 1d bars
SERIES_KEPT = 2_000  # a venue's own bars per timeframe


class UnknownTimeframe(ValueError):
    pass


def parse_timeframe(text: str) -> str:
    """The canonical name of a timeframe (``1H`` -> ``1h``); UnknownTimeframe
    naming the choices otherwise."""
    name = text.strip().lower()
    if name not in TIMEFRAMES:
        raise UnknownTimeframe(f"unknown timeframe {text!r}; choose one of {', '.join(TIMEFRAME_NAMES)}")
    return name


def timeframe_ns(timeframe: str) -> int:
    return TIMEFRAMES[timeframe] * SECOND_NS


def step_timeframe(timeframe: str, step: int) -> str:
    """The next longer (``step`` 1) or shorter (-1) timeframe, stopping at the ends."""
    i = TIMEFRAME_NAMES.index(timeframe) + step
    return TIMEFRAME_NAMES[min(max(i, 0), len(TIMEFRAME_NAMES) - 1)]


class Bar:
    """A forming or finished bar; ``notional`` is price x size in price units
    times size units (exact), turned into quote only when a candle is read."""

    __slots__ = ("start", "open", "high", "low", "close", "volume", "notional")

    def __init__(self, start: int, price: int) -> None:
        self.start = start
        self.open = self.high = self.low = self.close = price
        self.volume = 0
        self.notional = 0


class CandleBuilder:
    """Bars of one timeframe from trades and price samples, the newest ``keep``."""

    __slots__ = ("step", "bars", "size_scale")

    def __init__(self, step_s: int, keep: int, size_decimals: int = SIZE_DECIMALS) -> None:
        if step_s <= 0 or keep <= 0:
            raise ValueError("a candle builder needs a positive step and a positive number of bars to keep")
        self.step = step_s * SECOND_NS
        self.bars: deque[Bar] = deque(maxlen=keep)
        self.size_scale = 10**size_decimals

    def add(self, ts: int, price: int, size: int = 0) -> bool:
        """A trade (``size`` > 0) or a price sample (``size`` 0) at ``ts`` ns.
        False when nothing changed: a price of 0 or less, or a print older than
        every bar kept."""
        if price <= 0:
            return False
        start = ts - ts % self.step
        bars = self.bars
        if not bars:
            bar = Bar(start, price)
            bars.append(bar)
        else:
            last = bars[-1]
            if start == last.start:
                bar = last
            elif start > last.start:
                self._fill(last, start)
                bar = Bar(start, price)
                bars.append(bar)
            else:  # a late print: the bars are contiguous, so its bar's place is known
                i = len(bars) - 1 - (last.start - start) // self.step
                if i < 0:
                    return False
                bar = bars[i]
            if price > bar.high:
                bar.high = price
            elif price < bar.low:
                bar.low = price
            if bar is bars[-1]:  # a late print does not know whether it came last in its bar
                bar.close = price
        if size > 0:
            bar.volume += size
            bar.notional += price * size
        return True

    def _fill(self, last: Bar, start: int) -> None:
        """Flat bars at the last close for the steps nothing traded in (at most
        as many as are kept)."""
        missing = (start - last.start) // self.step - 1
        keep = self.bars.maxlen or 0
        first = start - min(missing, keep) * self.step
        for t in range(first, start, self.step):
            self.bars.append(Bar(t, last.close))

    def candles(self, venue: str, market: str, timeframe: str) -> list[Candle]:
        scale = self.size_scale
        return [
            Candle(venue, market, timeframe, b.start, b.open, b.high, b.low, b.close, b.volume, b.notional // scale)
            for b in self.bars
        ]


def aggregate(candles: Iterable[Candle], timeframe: str) -> list[Candle]:
    """Finer bars (oldest first) rolled up into ``timeframe`` bars: the first
    open, the highest high, the lowest low, the last close, the volumes summed."""
    step = timeframe_ns(timeframe)
    out: list[Candle] = []
    bar: list[int] = []  # start, open, high, low, close, volume, quote of the bar being rolled up
    venue = market = ""
    for c in candles:
        start = c.ts - c.ts % step
        if bar and start == bar[0]:
            bar[2] = max(bar[2], c.high)
            bar[3] = min(bar[3], c.low)
            bar[4] = c.close
            bar[5] += c.volume
            bar[6] += c.quote_volume
            continue
        if bar:
            out.append(Candle(venue, market, timeframe, *bar))
        venue, market = c.venue, c.market
        bar = [start, c.open, c.high, c.low, c.close, c.volume, c.quote_volume]
    if bar:
        out.append(Candle(venue, market, timeframe, *bar))
    return out


class MarketCandles:
    """Every chart timeframe of one market, kept as two tiers (1m and 1h bars)
    so a trade costs two bar updates; the other timeframes are rolled up when read."""

    __slots__ = ("minutes", "hours", "pool")

    def __init__(self, size_decimals: int = SIZE_DECIMALS, *, pool: bool = False) -> None:
        self.minutes = CandleBuilder(60, MINUTES_KEPT, size_decimals)
        self.hours = CandleBuilder(3_600, HOURS_KEPT, size_decimals)
        self.pool = pool  # a pool market: its bars follow the oracle price, trades add volume

    def add(self, ts: int, price: int, size: int = 0) -> bool:
        bars = self.minutes.bars
        if bars and price > 0:
            m = bars[-1]
            if 0 <= ts - m.start < self.minutes.step:
                # The hot path, a print in the forming minute: that minute lies in the
                # forming hour, so both bars take it here without the builders' checks.
                h = self.hours.bars[-1]
                for bar in (m, h):
                    if price > bar.high:
                        bar.high = price
                    elif price < bar.low:
                        bar.low = price
                    bar.close = price
                    if size > 0:
                        bar.volume += size
                        bar.notional += price * size
                return True
        changed = self.minutes.add(ts, price, size)
        return self.hours.add(ts, price, size) or changed

    def candles(self, venue: str, market: str, timeframe: str) -> list[Candle]:
        """The bars of ``timeframe`` (one of ``TIMEFRAMES``), oldest first."""
        if timeframe == "1m":
            return self.minutes.candles(venue, market, "1m")
        if timeframe == "1h":
            return self.hours.candles(venue, market, "1h")
        tier = self.minutes if TIMEFRAMES[timeframe] < 3_600 else self.hours
        fine = tier.candles(venue, market, "1m" if tier is self.minutes else "1h")
        out = aggregate(fine, parse_timeframe(timeframe))
        if out and len(tier.bars) == tier.bars.maxlen and fine[0].ts != out[0].ts:
            del out[0]  # its first bars were let go: what is left of it would misstate its open and range
        return out


class CandleSeries:
    """A venue's own bars of one market and timeframe, oldest first: a newer bar
    is appended, one with a start already held replaces it (the forming bar's
    updates), the oldest go beyond ``keep``."""

    __slots__ = ("candles", "keep")

    def __init__(self, keep: int = SERIES_KEPT) -> None:
        self.candles: list[Candle] = []
        self.keep = keep

    def upsert(self, candle: Candle) -> None:
        bars = self.candles
        if not bars or candle.ts > bars[-1].ts:
            bars.append(candle)
            if len(bars) > self.keep:
                del bars[: len(bars) - self.keep]
            return
        if candle.ts == bars[-1].ts:
            bars[-1] = candle
            return
        lo, hi = 0, len(bars)
        while lo < hi:  # the first bar at or after the candle's start
            mid = (lo + hi) // 2
            if bars[mid].ts < candle.ts:
                lo = mid + 1
            else:
                hi = mid
        if bars[lo].ts == candle.ts:
            bars[lo] = candle
        elif len(bars) < self.keep:  # an older bar still fits
            bars.insert(lo, candle)


def last(candles: Sequence[Candle], n: int) -> list[Candle]:
    """The newest ``n`` bars, oldest first."""
    return list(candles[-n:]) if n > 0 else []
