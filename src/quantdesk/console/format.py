"""Fixed-point integers to display strings: the only place values become text.

State and math keep integers at market precision; a pane asks this module for
the string a trader reads. Decimals (not floats) do the scaling so a price is
never shown rounded the wrong way; floats appear only for ratios that are
cosmetic (bar widths, data ages).
"""

from __future__ import annotations

import time
from decimal import ROUND_HALF_EVEN, Decimal

from quantdesk.core.model import Market

DASH = "—"
_BLOCKS = " ▏▎▍▌▋▊▉█"


def decimals_for_step(step: int, precision: int) -> int:
    """Decimal places that show every multiple of ``step`` at ``precision``
    exactly: a 0.001 tick at 1e6 shows 3 places."""
    if step <= 0:
        return precision
    zeros = 0
    while step % 10 == 0 and zeros < precision:
        step //= 10
        zeros += 1
    return precision - zeros


SIGNIFICANT_DIGITS = 7  # for prices with no tick (a pool quoting oracle ± impact)


def price_decimals(market: Market, near: int | Decimal | None = None) -> int:
    """Places to show: the tick's, or for a market without a tick (tick 1 unit)
    about seven significant digits of a price ``near`` the one shown."""
    if market.tick_size > 1 or near is None:
        return decimals_for_step(market.tick_size, market.price_decimals)
    whole = abs(int(near)) // 10**market.price_decimals
    if whole == 0:
        return market.price_decimals
    return max(2, min(market.price_decimals, SIGNIFICANT_DIGITS - len(str(whole))))


def size_decimals(market: Market) -> int:
    return decimals_for_step(market.lot_size, market.size_decimals)


def fixed(value: int | Decimal | None, precision: int, shown: int, *, sign: bool = False, sep: bool = True) -> str:
    """``value`` scaled by ``10**-precision`` with ``shown`` places, thousands separated."""
    if value is None:
        return DASH
    d = Decimal(value).scaleb(-precision).quantize(Decimal(1).scaleb(-shown), rounding=ROUND_HALF_EVEN)
    spec = ("+" if sign else "") + ("," if sep else "") + f".{shown}f"
    return format(d, spec)


def quote_units(value: Decimal | None, places: int) -> str:
    """A value already in quote units (a Decimal like 145.2605), thousands separated."""
    if value is None:
        return DASH
    return format(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN), f",.{places}f")


def price(value: int | Decimal | None, market: Market, extra: int = 0, decimals: int | None = None) -> str:
    """A price at ``decimals`` places (default: the market's, see ``price_decimals``)."""
    shown = price_decimals(market, value) if decimals is None else decimals
    return fixed(value, market.price_decimals, min(market.price_decimals, shown + extra))


def size(value: int | None, market: Market) -> str:
    return fixed(value, market.size_decimals, size_decimals(market))


_SUFFIXES = ((Decimal(10) ** 12, "T"), (Decimal(10) ** 9, "B"), (Decimal(10) ** 6, "M"), (Decimal(10) ** 3, "K"))


def compact(value: int | Decimal | None, precision: int = 0, *, prefix: str = "") -> str:
    """Short human magnitude: 12.3K, 4.56M (three significant figures)."""
    if value is None:
        return DASH
    d = Decimal(value).scaleb(-precision)
    sign = "-" if d < 0 else ""
    d = abs(d)
    for scale, suffix in _SUFFIXES:
        if d >= scale:
            q = d / scale
            places = 2 if q < 10 else 1 if q < 100 else 0
            return f"{sign}{prefix}{q:.{places}f}{suffix}"
    places = 2 if d < 100 else 1 if d < 1000 else 0
    return f"{sign}{prefix}{d:.{places}f}"


def rate_pct(ppb: int | None, places: int = 4, *, sign: bool = True) -> str:
    """A rate in parts per billion as a percentage: 125_000 ppb -> +0.0125%."""
    if ppb is None:
        return DASH
    return fixed(ppb * 100, 9, places, sign=sign, sep=False) + "%"


def apr_pct(ppb_per_year: int | None, *, sign: bool = True) -> str:
    """An annualized rate (ppb per year) as a percentage with two places."""
    if ppb_per_year is None:
        return DASH
    return fixed(ppb_per_year * 100, 9, 2, sign=sign) + "%"


def bps(value: Decimal | None, places: int = 2, *, sign: bool = False) -> str:
    if value is None:
        return DASH
    return format(value.quantize(Decimal(1).scaleb(-places)), ("+" if sign else "") + f".{places}f")


def ratio_bps(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    """``numerator / denominator`` in basis points (None when undefined)."""
    if not denominator:
        return None
    return Decimal(numerator) * 10_000 / Decimal(denominator)


def countdown(ns: int | None) -> str:
    """Time left: 00:42, 59:59, 3:12:00; a past deadline shows 00:00."""
    if ns is None:
        return DASH
    s = max(0, ns // 1_000_000_000)
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}:{m:02d}:{sec:02d}" if h else f"{m:02d}:{sec:02d}"


def age(seconds: float | None) -> str:
    """Data age: 0.2s, 14s, 3m, 2h; None when nothing arrived yet."""
    if seconds is None or seconds == float("inf"):
        return DASH
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 120:
        return f"{int(seconds)}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h"


def clock(ns: int) -> str:
    """Wall-clock time in UTC: 2026-11-24 07:12:03 UTC."""
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(ns // 1_000_000_000))


def time_of_day(ns: int) -> str:
    """HH:MM:SS.mmm UTC, for rows stamped to the millisecond (fills, trades)."""
    return time.strftime("%H:%M:%S", time.gmtime(ns // 1_000_000_000)) + f".{ns // 1_000_000 % 1000:03d}"


def per_second(count: float | None) -> str:
    if count is None:
        return DASH
    return f"{count:,.0f}"


def bar(fraction: float, width: int) -> str:
    """A left-aligned horizontal bar ``width`` cells wide with 1/8-cell resolution."""
    if width <= 0:
        return ""
    eighths = int(round(max(0.0, min(1.0, fraction)) * width * 8))
    full, part = divmod(eighths, 8)
    text = "█" * full + (_BLOCKS[part] if part else "")
    return text.ljust(width)


def leverage(bps_value: int | None) -> str:
    """Leverage held as basis points of 1x: 25_000 -> 2.50x."""
    if bps_value is None:
        return DASH
    return fixed(bps_value, 4, 2, sep=False) + "x"

