"""One pane line (a rich ``Text``) to the ``Strip`` Textual paints.

What ``Text.render`` followed by ``Strip.apply_style``, ``crop_extend`` and
``simplify`` would give, in one pass: a frame re-renders every changed line,
and those four steps each copy the line's segments. Lines whose characters
are all one cell wide (numbers, bars, box drawing: nearly every pane line)
are cut and padded by index; others go through Textual's cell-aware crop.

A line's own style applies under its spans, as it would printed by a rich
``Console``; ``Text.render`` alone leaves a line without spans unstyled.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.strip import Strip

StyleKey = tuple["Style | str", ...]


class LineRenderer:
    """Renders lines over one pane's base style; remembers each combination
    of styles it has met (a pane uses a few dozen), so a frame combines none."""

    def __init__(self, console: Console, base: Style) -> None:
        self.console = console
        self._interned: dict[Style, Style] = {}
        self.base = self._own(base)
        self._combined: dict[StyleKey, Style] = {}

    def _own(self, style: Style) -> Style:
        own = self._interned.get(style)
        if own is None:
            own = style.copy()
            own._ansi = None  # drawn afresh for this renderer's console
            self._interned[own] = own
        return own

    def _style(self, key: StyleKey) -> Style:
        style = self._combined.get(key)
        if style is None:
            get = self.console.get_style
            parts = [s if isinstance(s, Style) else get(s, default=Style.null()) for s in key]
            style = self.base + Style.combine(parts) if parts else self.base
            # One object per distinct style, so runs merge on identity; and this
            # renderer's own: rich shares equal styles process-wide and each
            # keeps the escape codes of the first console it was drawn for.
            style = self._own(style)
            self._combined[key] = style
        return style

    def runs(self, text: Text) -> list[tuple[int, int, Style]]:
        """The line's maximal runs of one style: (start, end, style)."""
        plain = text.plain
        n = len(plain)
        own = text.style
        head: StyleKey = (own,) if own else ()
        spans = [s for s in text.spans if s.end > s.start and s.start < n and s.style]
        pieces: list[tuple[int, int, StyleKey]] = []
        if not spans:
            pieces.append((0, n, head))
        elif all(a.end <= b.start for a, b in zip(spans, spans[1:])):
            at = 0  # what Table.row makes: side by side, left to right
            for span in spans:
                if span.start > at:
                    pieces.append((at, span.start, head))
                end = min(span.end, n)
                pieces.append((span.start, end, (*head, span.style)))
                at = end
            if at < n:
                pieces.append((at, n, head))
        else:
            # Overlapping spans: each stretch takes every span over it, in the
            # order they were added (later ones win, as in rich).
            cuts = sorted({0, n, *(s.start for s in spans), *(min(s.end, n) for s in spans)})
            for start, end in zip(cuts, cuts[1:]):
                pieces.append((start, end, (*head, *(s.style for s in spans if s.start <= start and s.end >= end))))
        out: list[tuple[int, int, Style]] = []
        known = self._combined.get
        for start, end, key in pieces:  # contiguous, left to right
            if end <= start:
                continue
            style = known(key)
            if style is None:
                style = self._style(key)
            if out and out[-1][2] is style:
                out[-1] = (out[-1][0], end, style)
            else:
                out.append((start, end, style))
        return out

    def strip(self, text: Text, width: int) -> Strip:
        """``text`` as exactly ``width`` cells: cut, or padded in the base style."""
        plain = text.plain
        runs = self.runs(text)
        if not (plain.isascii() and plain.isprintable()) and cell_len(plain) != len(plain):  # wide characters: cut by cells
            segments = [Segment(plain[a:b], style) for a, b, style in runs]
            return Strip(segments).crop_extend(0, width, self.base).simplify()
        segments = []
        for a, b, style in runs:
            if a >= width:
                break
            segments.append(Segment(plain[a : min(b, width)], style))
        short = width - len(plain)
        if short > 0:
            if segments and segments[-1].style is self.base:
                last = segments.pop()
                segments.append(Segment(last.text + " " * short, self.base))
            else:
                segments.append(Segment(" " * short, self.base))
        return Strip(segments, width)
