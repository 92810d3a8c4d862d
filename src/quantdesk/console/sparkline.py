"""Signed bar strips around a zero line, for rate histories.

Rows above the zero line hold the positive values as bars rising from it, rows
below hold the negative ones hanging from it, in eighths of a cell: a bar that
ends inside a cell below the line is drawn as the cell's upper part, by
painting the rest of the cell in the background colour (block characters
fill from the bottom only). Where a value is not above zero the row just
above the line shows a thin dim stroke: the zero line. A value not known
(before the history starts) is left blank. One column per value.

Two rows make the Funding pane's sparklines; the funding history chart uses
more. Values are integers (ppb per hour); ``scale`` is the magnitude that
fills the rows on its side.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.color import Color
from rich.style import Style
from rich.text import Text

EIGHTHS = " ▁▂▃▄▅▆▇█"
ZERO = "▁"


_painted: dict[tuple[int, Style, Color | None], tuple[str, Style]] = {}


def _hanging(k: int, style: Style, background: Color | None) -> tuple[str, Style]:
    """The upper ``k`` eighths of a cell in ``style``'s colour (one Style object per
    shape, so a row of equal cells stays one run)."""
    if k >= 8:
        return "█", style
    if background is None or style.color is None:  # no background to paint with: the nearest stroke
        return ("▔" if k <= 2 else "▀" if k <= 5 else "█"), style
    key = (k, style, background)
    got = _painted.get(key)
    if got is None:
        got = _painted[key] = (EIGHTHS[8 - k], Style(color=background, bgcolor=style.color))
    return got


def signed_bars(
    values: Sequence[int | None],
    rows: int,
    scale: int,
    up: Style,
    down: Style,
    zero: Style,
    background: Color | None,
    *,
    signed: bool = True,
) -> list[Text]:
    """``rows`` lines of ``len(values)`` cells: half above the zero line (rounded
    up), or all of them when the values cannot go below it (``signed=False``: a
    borrow rate, which every position pays)."""
    above = (rows + 1) // 2 if signed else rows
    below = rows - above
    scale = max(1, scale)
    cells: list[list[tuple[str, Style | None]]] = [[(" ", None)] * len(values) for _ in range(rows)]
    for x, v in enumerate(values):
        if v is None:
            continue
        if v > 0:
            eighths = max(1, min(above * 8, -(-v * above * 8 // scale)))
            for r in range(above):  # r counts up from the line
                fill = min(8, eighths - 8 * r)
                if fill > 0:
                    cells[above - 1 - r][x] = (EIGHTHS[fill], up)
            continue
        cells[above - 1][x] = (ZERO, zero)
        if v < 0 and below:
            eighths = max(1, min(below * 8, -(v * below * 8 // scale)))  # ceil(|v| x cells / scale)
            for r in range(below):  # r counts down from the line
                fill = min(8, eighths - 8 * r)
                if fill > 0:
                    cells[above + r][x] = _hanging(fill, down, background)
    return [_line(row) for row in cells]


def _line(row: list[tuple[str, Style | None]]) -> Text:
    text = Text(no_wrap=True, end="")
    if not row:
        return text
    start, current = 0, row[0][1]
    for x in range(1, len(row)):
        if row[x][1] is not current:
            text.append("".join(c for c, _ in row[start:x]), current)
            start, current = x, row[x][1]
    text.append("".join(c for c, _ in row[start:]), current)
    return text


def magnitude(values: Sequence[int | None]) -> int:
    """The largest absolute value (0 for none): the scale that fills the rows."""
    return max((abs(v) for v in values if v is not None), default=0)
