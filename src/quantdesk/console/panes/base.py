"""What every pane shares: frame-driven repaint, tables, reading the cache.

Which pane types exist, their titles and parameters is the catalogue's job
(``quantdesk.console.panes.catalogue``).

A pane draws with Textual's Line API. The App calls ``tick(now_ns)`` once per
frame; the pane compares a cheap ``state_key`` (the cache revision counters it
depends on, plus whatever else it shows) with the key it last drew, and only
when that moved does it rebuild its lines. Lines that came out identical are
not repainted, so a busy feed costs a few changed rows per frame, never a
repaint per message.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, ClassVar, Protocol, TypeVar, runtime_checkable

from rich.style import Style
from rich.text import Span, Text
from textual.geometry import Region
from textual.strip import Strip

from quantdesk.console import format as fmt
from quantdesk.console.panes import catalogue
from quantdesk.console.kept_paint import KeptPaint
from quantdesk.console.ticked import Ticked
from quantdesk.console.freshness import NOT_LIVE, venue_state

if TYPE_CHECKING:
    from quantdesk.console.layouts import PaneSpec
    from quantdesk.core.cache import MarketCache

log = logging.getLogger(__name__)
T = TypeVar("T")


class PaneSession(Protocol):
    """What every pane reads of the running session (``venues.session.Session``):
    the market cache and the clock. Panes that list venues read ``venues`` when
    the session has them."""

    @property
    def cache(self) -> MarketCache: ...

    @property
    def clock(self) -> Callable[[], int]: ...


@runtime_checkable
class CyclesMarkets(Protocol):
    """A pane that shows one market on one venue and steps through them."""

    def cycle_market(self, step: int) -> None: ...

    def cycle_venue(self, step: int) -> None: ...

@dataclass(frozen=True, slots=True)
class Column:
    header: str
    width: int
    align: str = "right"  # "left" | "right" | "center"
    # When the pane is too narrow, columns go highest number first; 0 never goes
    # (a position's size, uPnL and liquidation price, an account's equity).
    drop: int = 0
    # A column may narrow down to this many cells before a table is cut at the
    # pane's edge (None: never narrower): a venue name ellipsized beats an Ask
    # column pushed off screen.
    min_width: int | None = None


Cell = str | tuple[str, Style | str | None]


class Table:
    """Fixed-width columns so numbers line up on their decimal points across rows."""

    def __init__(self, columns: Sequence[Column], gap: int = 1, *, keep: Sequence[bool] | None = None) -> None:
        self.all_columns = list(columns)
        self.gap = gap
        self._keep = list(keep) if keep is not None else [True] * len(self.all_columns)
        self.columns = [c for c, k in zip(self.all_columns, self._keep) if k]
        self._headers: dict[Style | str | None, Text] = {}

    def fit(self, width: int) -> Table:
        """The same table without the columns that do not fit ``width``, dropped
        in their ``drop`` order (highest first; ``drop=0`` columns always stay).
        Rows are still given every cell; a dropped column's cell is skipped."""
        return _fitted(tuple(self.all_columns), self.gap, width)

    def _fit(self, width: int) -> Table:
        keep = [True] * len(self.all_columns)
        order = sorted((c.drop, i) for i, c in enumerate(self.all_columns) if c.drop)
        table = Table(self.all_columns, self.gap, keep=keep)
        while table.width > width and order:
            _, i = order.pop()
            keep[i] = False
            table = Table(self.all_columns, self.gap, keep=keep)
        excess = table.width - width
        if excess <= 0:
            return table
        columns = list(self.all_columns)
        for i, col in enumerate(columns):  # leftmost give first: the key columns read on, ellipsized
            if keep[i] and col.min_width is not None and excess > 0:
                cut = min(excess, col.width - col.min_width)
                if cut > 0:
                    columns[i] = replace(col, width=col.width - cut)
                    excess -= cut
        return Table(columns, self.gap, keep=keep)

    def shows(self, header: str) -> bool:
        return any(c.header == header for c in self.columns)

    @property
    def width(self) -> int:
        return sum(c.width for c in self.columns) + self.gap * (len(self.columns) - 1)

    def header(self, style: Style | str | None = None) -> Text:
        """The header row; the same object for the same style (every build asks
        for it), so callers that add to it take a copy."""
        header = self._headers.get(style)
        if header is None:
            header = self._headers[style] = self.row([c.header for c in self.all_columns], style)
        return header

    def row(self, cells: Sequence[Cell], style: Style | str | None = None) -> Text:
        # The line is assembled as one string and its spans, as Text.append
        # would leave them but without a call per cell: every frame builds
        # hundreds of these rows.
        sep = " " * self.gap
        if len(cells) == len(self.all_columns) and len(self.columns) != len(self.all_columns):
            cells = [c for c, k in zip(cells, self._keep) if k]
        parts: list[str] = []
        spans: list[Span] = []
        offset = 0
        for i, (col, cell) in enumerate(zip(self.columns, cells)):
            value, cell_style = (cell, None) if isinstance(cell, str) else cell
            if i and sep:
                # The gap takes the next cell's style: fewer style runs, fewer
                # escape codes sent to the terminal.
                parts.append(sep)
                if cell_style:
                    spans.append(Span(offset, offset + len(sep), cell_style))
                offset += len(sep)
            if not value.isprintable():
                # Control codes (venue data may hold any) would move the cursor
                # or take no cell and shift the columns after them.
                value = "".join(c for c in value if c.isprintable())
            if len(value) > col.width:
                value = value[: col.width - 1] + "…" if col.align == "left" else "#" * col.width
            if col.align == "left":
                value = value.ljust(col.width)
            elif col.align == "center":
                value = value.center(col.width)
            else:
                value = value.rjust(col.width)
            if value:
                parts.append(value)
                if cell_style:
                    spans.append(Span(offset, offset + len(value), cell_style))
                offset += len(value)
        return _clean_text("".join(parts), style or "", spans)


def _clean_text(plain: str, style: Style | str, spans: list[Span]) -> Text:
    """A line whose characters are already free of control codes (``row``
    strips each cell): rich's constructor would scan the whole line again,
    a third of a row's cost. (``tests/console/test_line_render.py`` checks the
    result against the constructor's.)"""
    text = Text(style=style, no_wrap=True, end="", spans=spans)
    text._text = [plain]
    text._length = len(plain)
    return text


@lru_cache(maxsize=256)
def _fitted(columns: tuple[Column, ...], gap: int, width: int) -> Table:
    """Fitting is the same for the same columns and width: every build of every
    pane asks again. (Tables are not changed once made, so one serves all.)"""
    return Table(columns, gap)._fit(width)


def _same_text(a: Text, b: Text) -> bool:
    """Whether two lines render alike: the same characters, spans and styles."""
    return a is b or (
        a.plain == b.plain
        and a.style == b.style
        and a.spans == b.spans
        and (a.justify, a.overflow, a.no_wrap) == (b.justify, b.overflow, b.no_wrap)
    )


class BuildMemo:
    """What a pane's last build made, by what each piece was made from: a row
    or section whose inputs did not move is reused rather than formatted again
    (and, being the same line, not rendered again either).

    ``start(shape)`` opens a build; a different shape (columns, widths, scale:
    whatever every piece depends on) drops everything kept. Only the pieces a
    build asked for are kept for the next, so the memo never outgrows a screen.
    """

    def __init__(self) -> None:
        self._shape: Hashable = object()
        self._last: dict[Hashable, object] = {}
        self._now: dict[Hashable, object] = {}

    def start(self, shape: Hashable) -> None:
        self._last = self._now if shape == self._shape else {}
        self._now = {}
        self._shape = shape

    def reset(self) -> None:
        """Forget everything: the next build remakes every piece (a theme change)."""
        self._shape = object()
        self._now = {}

    def get(self, key: Hashable, make: Callable[[], T]) -> T:
        value = self._last.get(key)
        if value is None:
            value = self._now.get(key)
        if value is None:
            value = make()
        self._now[key] = value
        return value  # type: ignore[return-value]  # each key's piece is what its ``make`` returned


class Pane(Ticked, KeptPaint, can_focus=True):
    """Base of the dashboard panes. Subclasses set ``pane_type`` (their id in
    the catalogue, which gives the title) and implement ``state_key`` and ``build``."""

    line_api = True  # render_line is the pane's lines: a changed one is composed alone

    pane_type: ClassVar[str] = ""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "pane--header",
        "pane--title",
        "pane--dim",
        "pane--label",
        "pane--bid",
        "pane--ask",
        "pane--bid-bar",
        "pane--ask-bar",
        "pane--gain",
        "pane--loss",
        "pane--warn",
        "pane--error",
        "pane--flash",
        "pane--flash-fade",
        "pane--mid",
        "pane--up",
        "pane--down",
        "pane--stale",
    }

    DEFAULT_CSS = """
    Pane {
        height: 1fr;
        width: 1fr;
        padding: 0 0 0 1;
        border: round $panel-lighten-2;
        border-title-color: $text-muted;
        border-title-style: bold;
        border-subtitle-color: $text-muted;
    }
    Pane:focus {
        border: round $accent;
        border-title-color: $accent;
    }
    Pane > .pane--header { color: $text-muted; text-style: bold; }
    Pane > .pane--title { color: $text; text-style: bold; }
    Pane > .pane--dim { color: $text-muted; }
    Pane > .pane--label { color: $text-muted; }
    Pane > .pane--bid { color: $bid; }
    Pane > .pane--ask { color: $ask; }
    Pane > .pane--bid-bar { color: $bid 35%; }
    Pane > .pane--ask-bar { color: $ask 35%; }
    Pane > .pane--gain { color: $gain; }
    Pane > .pane--loss { color: $loss; }
    Pane > .pane--warn { color: $warn; text-style: bold; }
    Pane > .pane--error { color: $loss; text-style: bold; }
    Pane > .pane--flash { background: $flash 40%; color: $text; text-style: bold; }
    Pane > .pane--flash-fade { background: $flash 15%; color: $text; }
    Pane > .pane--mid { color: $text; text-style: bold; }
    Pane > .pane--up { color: $up; }
    Pane > .pane--down { color: $down; }
    Pane > .pane--stale { color: $stale; }
    """

    layout_spec: PaneSpec | None = None  # the layout entry it was made from, saved back with the layout

    def __init__(self, session: PaneSession, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.session = session
        self.cache: MarketCache = session.cache
        self.border_title = self.pane_title
        self._key: Hashable = object()
        self._strips: list[Strip] = []
        self._texts: list[Text] = []  # the lines the strips were rendered from
        self._last_error = ""
        self.pieces = BuildMemo()  # rows or sections a build may reuse from the last

    @property
    def pane_title(self) -> str:
        return catalogue.title(self.pane_type)

    # -- subclass interface ------------------------------------------------
    def state_key(self, now_ns: int) -> Hashable:
        """Everything the drawing depends on; the pane redraws when it changes.
        Start from the cache revisions (``self.cache.rev[...]``) it reads.
        Every pane type defines it (Textual widgets cannot be ABCs)."""
        raise TypeError(f"{type(self).__name__} does not define state_key()")

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        """The pane's lines, top to bottom (extra lines are cut, missing ones blank)."""
        raise TypeError(f"{type(self).__name__} does not define build()")

    # -- frame -------------------------------------------------------------
    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self.invalidate())

    def on_resize(self) -> None:
        self.invalidate()

    def invalidate(self) -> None:
        """Forget what was drawn (and the styles it was drawn with) so the next
        frame rebuilds every line: after a resize, a theme or a CSS change."""
        self._key = object()
        self._strips = []
        self._texts = []
        self.forget_styles()
        self.pieces.reset()  # they hold the styles of before
        self.refresh()

    def tick(self, now_ns: int) -> bool:
        """Called once per frame; rebuilds and repaints only if the state moved."""
        width, height = self.size
        if width <= 0 or height <= 0:
            return False
        try:
            key = (self.state_key(now_ns), width, height)
            if key == self._key:
                return False
            self._key = key
            texts = self.build(now_ns, width, height)
            self._last_error = ""
        except Exception as exc:  # a drawing bug must not take the terminal down
            texts = self._error_lines(exc)
        self._show(texts, width, height)
        return True

    def _error_lines(self, exc: Exception) -> list[Text]:
        what = f"{type(exc).__name__}: {exc}"
        if what != self._last_error:
            log.exception("%s pane failed to draw", self.pane_type)
            self._last_error = what
        log_path = getattr(self.app, "log_path", None)
        where = f" Details are in {log_path}." if log_path else ""
        return [
            Text(f"This pane could not be drawn ({what}).", self.style("pane--error")),
            Text(f"The rest of the terminal keeps working.{where}", self.style("pane--dim")),
            Text("Please report it with that log file.", self.style("pane--dim")),
        ]

    def _show(self, texts: list[Text], width: int, height: int) -> None:
        render = self.line_renderer()
        blank = Strip.blank(width, render.base)
        strips: list[Strip] = []
        old_texts, old = self._texts, self._strips
        same_size = len(old) == height
        texts = texts[:height]
        for y, text in enumerate(texts):
            # Most lines of a rebuilt pane read as before: keep their strip
            # rather than render the same text again.
            if same_size and y < len(old_texts) and _same_text(text, old_texts[y]):
                strips.append(old[y])
                continue
            strips.append(render.strip(text, width))
        strips.extend([blank] * (height - len(strips)))
        self._texts = texts
        self._strips = strips
        if len(old) != height:
            self.refresh()
            return
        # Repaint the changed lines whole, borders included: Textual then sends
        # each as the strip it has, where a part of a line costs it a cut strip
        # per line and frame (more CPU than the cells it saves on the wire).
        # One refresh for them all: each call costs Textual a dirty-check.
        left = -self.styles.gutter.left
        outer = self.outer_size.width
        changed = [
            Region(left, y, outer, 1) for y in range(height) if strips[y] is not old[y] and strips[y] != old[y]
        ]
        if changed:
            self.refresh(*changed)

    def render_line(self, y: int) -> Strip:
        if 0 <= y < len(self._strips):
            return self._strips[y]
        return Strip.blank(self.size.width, self.style(""))

    # -- reading the cache -------------------------------------------------
    def ordered_symbols(self, venue: str | None = None) -> list[str]:
        """Market symbols in the venues' own order (Drift's market index: SOL,
        BTC, ETH), optionally only those ``venue`` lists."""
        order: dict[str, tuple[int, str]] = {}
        for (v, sym), m in self.cache.markets.items():
            if venue is None or v == venue:
                order[sym] = min(order.get(sym, (m.index, sym)), (m.index, sym))
        return sorted(order, key=order.__getitem__)

    def health_key(self, now_ns: int) -> tuple:
        """Each venue's liveness, with its age while it is not live (for ``state_key``)."""
        out = []
        for venue in self.cache.venues():
            state, age = venue_state(self.cache, venue, now_ns)
            out.append((venue, state, int(age) if state in NOT_LIVE and age is not None else None))
        return tuple(out)

    def health_lines(self, now_ns: int) -> list[Text]:
        """One warning line per venue whose data is not live, saying how old it is."""
        lines = []
        for venue, state, age in self.health_key(now_ns):
            if state in NOT_LIVE:
                since = f" for {fmt.age(float(age))}" if age is not None else ""
                lines.append(
                    Text(f"{venue} is {state}{since}: its figures may be out of date.", self.style("pane--warn"))
                )
        return lines

    # -- drawing aids ------------------------------------------------------
    def style(self, component: str) -> Style:
        """The rich style of a component class ("" for the pane's own): ``component_style``."""
        return self.component_style(component)

    def message(self, lines: Sequence[str], component: str = "pane--dim") -> list[Text]:
        style = self.style(component)
        return [Text(line, style) for line in lines]
