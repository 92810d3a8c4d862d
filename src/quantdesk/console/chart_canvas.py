"""Drawing a candle chart as lines of text: candles, volume, price levels and axes.

Each text row is two half-rows of price, so a candle's wick and body end on
half a row: the light box-drawing strokes (``│ ╵ ╷``) draw wicks, the heavy
ones (``┃ ╹ ╻``) bodies, and the mixed ones (``╽ ╿``) where a wick meets a body
inside one cell. One column per bar, the newest at the right edge. Levels (the
mark and oracle prices, a position's entry and liquidation) are dashed lines
through the empty cells of their row, labelled on the price axis; one that
lies far outside the bars' range is labelled at the edge with an arrow rather
than squeezing the candles. Volume bars fill the rows under the plot in
eighths of a cell; the last row is the time axis.

Everything is integer arithmetic on prices at market precision; the text
comes from the formatting callbacks. Drawing a 120x36 chart takes a few
milliseconds (``benchmarks/chart_redraw.py``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from quantdesk.core.candles import TIMEFRAMES
from quantdesk.core.model import Candle

NONE, WICK, BODY = 0, 1, 2
# (top half, bottom half) of a cell -> its stroke
GLYPH = {
    (NONE, NONE): " ", (WICK, NONE): "╵", (NONE, WICK): "╷", (WICK, WICK): "│",
    (BODY, NONE): "╹", (NONE, BODY): "╻", (BODY, BODY): "┃", (WICK, BODY): "╽", (BODY, WICK): "╿",
}
EIGHTHS = " ▁▂▃▄▅▆▇█"
LEVEL_STROKE = "╌"
VOLUME_ROWS_MIN = 2
# Label steps of the time axis, seconds: the first at least one label's width of bars apart is used.
TIME_STEPS = (60, 300, 900, 1_800, 3_600, 7_200, 10_800, 14_400, 21_600, 43_200, 86_400, 172_800, 604_800, 1_209_600, 2_592_000)
DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class Level:
    """A horizontal line: ``tag`` labels it on the axis (``M`` mark, ``O`` oracle,
    ``E`` entry, ``L`` liquidation); earlier levels win a crowded row."""

    tag: str
    price: int
    style: Style


@dataclass(frozen=True, slots=True)
class Palette:
    up: Style
    down: Style
    volume_up: Style
    volume_down: Style
    axis: Style


def nice_step(span: int, count: int) -> int:
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about ``count`` steps over ``span``
    (at least ``span / count``)."""
    raw = max(1, span // max(1, count))
    power = 1
    while power * 10 <= raw:
        power *= 10
    for tenths in (10, 20, 25, 50):
        step = tenths * power // 10
        if step >= raw:
            return max(1, step)
    return 10 * power


def _time_label(ts_s: int, step_s: int) -> str:
    t = time.gmtime(ts_s)
    if step_s >= DAY_S or (ts_s % DAY_S == 0):
        return time.strftime("%d %b", t)
    return time.strftime("%H:%M", t)


def draw(
    candles: Sequence[Candle],
    levels: Sequence[Level],
    width: int,
    height: int,
    palette: Palette,
    price_text: Callable[[int], str],
    volume_text: Callable[[int], str],
) -> list[Text]:
    """``height`` lines of ``width`` cells: the plot, the volume rows, the time axis."""
    if width < 12 or height < 4 or not candles:
        return []
    volume_rows = max(VOLUME_ROWS_MIN, height // 6) if height >= 10 else 1
    plot_rows = height - volume_rows - 1
    # The axis is as wide as its longest label; the bars get the rest.
    lo = min(c.low for c in candles[-width:])
    hi = max(c.high for c in candles[-width:])
    widest = max(len(price_text(p)) for p in (lo, hi, *(lv.price for lv in levels)))
    axis = widest + 3  # " M " tag and a space before it
    plot_w = max(1, width - axis)
    bars = candles[-plot_w:]
    lo, hi = min(c.low for c in bars), max(c.high for c in bars)
    span = hi - lo
    near = [lv for lv in levels if lo - span // 2 <= lv.price <= hi + span // 2]
    for lv in near:
        lo, hi = min(lo, lv.price), max(hi, lv.price)
    if hi == lo:
        pad = max(1, hi // 1_000)
        lo, hi = lo - pad, hi + pad
    halves = 2 * plot_rows - 1  # the lowest half-row's index

    def pos(price: int) -> int:
        """The half-row of ``price``, 0 at the top."""
        y = ((hi - price) * halves * 2 + (hi - lo)) // (2 * (hi - lo))
        return 0 if y < 0 else halves if y > halves else y

    offset = plot_w - len(bars)  # fewer bars than columns: they sit at the right edge
    chars = [[" "] * plot_w for _ in range(plot_rows)]
    styles: list[list[Style | None]] = [[None] * plot_w for _ in range(plot_rows)]
    for i, c in enumerate(bars):
        x = offset + i
        style = palette.up if c.close >= c.open else palette.down
        y_hi, y_lo = pos(c.high), pos(c.low)
        b_top, b_bot = pos(max(c.open, c.close)), pos(min(c.open, c.close))
        for r in range(y_hi // 2, y_lo // 2 + 1):
            top, bottom = 2 * r, 2 * r + 1
            t = BODY if b_top <= top <= b_bot else WICK if y_hi <= top <= y_lo else NONE
            b = BODY if b_top <= bottom <= b_bot else WICK if y_hi <= bottom <= y_lo else NONE
            chars[r][x] = GLYPH[(t, b)]
            styles[r][x] = style

    labels: dict[int, tuple[str, Style]] = {}

    def label(row: int, text: str, style: Style) -> None:
        for d in (0, 1, -1, 2, -2, 3, -3):
            r = row + d
            if 0 <= r < plot_rows and r not in labels:
                labels[r] = (text, style)
                return

    for lv in near:  # lines first, so their labels sit on them
        r = pos(lv.price) // 2
        row_chars, row_styles = chars[r], styles[r]
        for x in range(plot_w):
            if row_styles[x] is None:
                row_chars[x] = LEVEL_STROKE
                row_styles[x] = lv.style
        label(r, f"{lv.tag} {price_text(lv.price)}", lv.style)
    last = bars[-1]
    label(pos(last.close) // 2, f"  {price_text(last.close)}", palette.up if last.close >= last.open else palette.down)
    for lv in levels:
        if lv not in near:  # far off the bars: at the edge it lies beyond
            above = lv.price > hi
            label(0 if above else plot_rows - 1, f"{lv.tag} {price_text(lv.price)}{'↑' if above else '↓'}", lv.style)
    step = nice_step(hi - lo, max(1, plot_rows // 4))
    tick = (lo // step + 1) * step
    while tick < hi:
        r = pos(tick) // 2
        if r not in labels and r - 1 not in labels and r + 1 not in labels:
            labels[r] = (f"  {price_text(tick)}", palette.axis)
        tick += step

    lines: list[Text] = []
    for r in range(plot_rows):
        text = _row(chars[r], styles[r])
        got = labels.get(r)
        if got is not None:
            text.append(" " + got[0].rjust(axis - 1)[: axis - 1], got[1])
        lines.append(text)
    lines.extend(_volume(bars, offset, plot_w, volume_rows, palette, volume_text, axis))
    lines.append(_time_axis(bars, offset, plot_w, palette.axis))
    return lines


def _row(chars: list[str], styles: list[Style | None]) -> Text:
    """One row as runs of equally styled cells."""
    text = Text(no_wrap=True, end="")
    start = 0
    current = styles[0]
    for x in range(1, len(chars)):
        s = styles[x]
        if s is not current:
            text.append("".join(chars[start:x]), current)
            start, current = x, s
    text.append("".join(chars[start:]), current)
    return text


def _volume(bars: Sequence[Candle], offset: int, plot_w: int, rows: int, palette: Palette,
            volume_text: Callable[[int], str], axis: int) -> list[Text]:
    peak = max(c.volume for c in bars)
    cells = rows * 8
    eighths = [0] * plot_w
    styles: list[Style | None] = [None] * plot_w
    for i, c in enumerate(bars):
        if peak and c.volume:
            eighths[offset + i] = max(1, c.volume * cells // peak)
        styles[offset + i] = palette.volume_up if c.close >= c.open else palette.volume_down
    out = []
    for k in range(rows):
        floor = (rows - 1 - k) * 8  # eighths below this row
        chars = [EIGHTHS[min(8, max(0, e - floor))] for e in eighths]
        text = _row(chars, styles)
        if k == 0:
            text.append(" " + f"V {volume_text(peak)}".rjust(axis - 1)[: axis - 1], palette.axis)
        out.append(text)
    return out


def _time_axis(bars: Sequence[Candle], offset: int, plot_w: int, style: Style) -> Text:
    tf_s = TIMEFRAMES.get(bars[-1].timeframe, 60)
    width = 6
    step = next((s for s in TIME_STEPS if s >= tf_s and s // tf_s >= width + 2 and s % tf_s == 0), TIME_STEPS[-1])
    cells = [" "] * plot_w
    end = -1
    for i, c in enumerate(bars):
        ts = c.ts // 1_000_000_000
        x = offset + i
        if ts % step or x <= end:
            continue
        text = _time_label(ts, step)
        if x + len(text) > plot_w:
            break
        cells[x : x + len(text)] = text
        end = x + len(text)
    return Text("".join(cells), style, no_wrap=True, end="")
