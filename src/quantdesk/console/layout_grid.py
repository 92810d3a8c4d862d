"""A ``Layout`` on screen: a Textual grid of panes at their cells and spans.

Textual places grid children in reading order, each into the next free cell.
Panes are therefore added sorted by (row, column), with an empty filler for
every cell no pane covers; then every pane lands exactly where its layout says.
"""

from __future__ import annotations

import logging
from typing import Any

from textual import events
from textual.app import ComposeResult
from textual.containers import Grid
from textual.widget import Widget
from textual.widgets import Static

from quantdesk.console.kept_paint import KeptPaint
from quantdesk.console.layouts import Layout, PaneSpec
from quantdesk.console.panes import catalogue
from quantdesk.console.panes.base import Pane, PaneSession

log = logging.getLogger(__name__)


class MissingPane(Static, can_focus=True):
    """Stands in for a catalogued pane whose module could not be loaded, saying so."""

    DEFAULT_CSS = """
    MissingPane {
        height: 1fr;
        width: 1fr;
        border: round $panel-lighten-2;
        color: $text-muted;
        padding: 0 1;
    }
    MissingPane:focus { border: round $accent; }
    """

    def __init__(self, spec: PaneSpec, **kw: Any) -> None:
        super().__init__(f"The {spec.type} pane is not available in this version.", **kw)
        self.spec = spec
        self.pane_type = spec.type
        self.border_title = catalogue.title(spec.type)


class Filler(Widget):
    """An empty grid cell."""

    DEFAULT_CSS = "Filler { height: 1fr; width: 1fr; }"


def make_pane(spec: PaneSpec, session: PaneSession, pane_id: str) -> Widget:
    """The widget for one layout entry, given the settings its catalogue entry takes."""
    try:
        entry = catalogue.get(spec.type)
        cls = catalogue.pane_class(spec.type)
    except (catalogue.UnknownPane, ImportError, AttributeError):
        log.exception("the %s pane could not be loaded", spec.type)
        return MissingPane(spec, id=pane_id)
    kwargs = {}
    for param in entry.params:
        value = getattr(spec, param.name, None)
        if value is not None:
            kwargs[param.name] = value
    widget = cls(session, id=pane_id, **kwargs)
    widget.layout_spec = spec  # what to save back
    return widget


SHORT_ROWS = 30  # a terminal shorter than this evens out the layout's row heights


def row_weights(heights: list[int], rows: int) -> list[float]:
    """The layout's row proportions, evened out on a short terminal: no row
    weighs more than 1.5 times the lightest, so a 24-row screen still shows a
    position row under the accounts and the header."""
    if rows >= SHORT_ROWS or not heights:
        return [float(h) for h in heights]
    cap = min(heights) * 1.5
    return [min(float(h), cap) for h in heights]


class PaneGrid(Grid, KeptPaint):
    """The grid the panes sit in; its own (hidden) background is painted once."""


class LayoutGrid(PaneGrid):
    """The panes of one layout."""

    DEFAULT_CSS = """
    LayoutGrid {
        height: 1fr;
        grid-gutter: 0;
    }
    """

    def __init__(self, layout: Layout, session: PaneSession, **kw: Any) -> None:
        super().__init__(**kw)
        self.layout_model = layout
        self.session = session
        self.styles.grid_size_columns = layout.columns
        self.styles.grid_size_rows = layout.rows
        # Always set: the layout file alone decides the proportions.
        widths = layout.column_widths or [1] * layout.columns
        heights = layout.row_heights or [1] * layout.rows
        self.styles.grid_columns = " ".join(f"{w}fr" for w in widths)
        self._heights = heights
        self.styles.grid_rows = " ".join(f"{h}fr" for h in heights)

    def on_resize(self, event: events.Resize) -> None:
        self.styles.grid_rows = " ".join(f"{h:g}fr" for h in row_weights(self._heights, event.size.height))

    def compose(self) -> ComposeResult:
        layout = self.layout_model
        covered = set().union(*(p.cells() for p in layout.panes))
        items: list[tuple[tuple[int, int], PaneSpec | None]] = [((p.row, p.column), p) for p in layout.panes]
        items += [(cell, None) for cell in ((r, c) for r in range(layout.rows) for c in range(layout.columns)) if cell not in covered]
        seen: dict[str, int] = {}
        for _cell, spec in sorted(items, key=lambda x: x[0]):
            if spec is None:
                yield Filler()
                continue
            n = seen[spec.type] = seen.get(spec.type, 0) + 1
            widget = make_pane(spec, self.session, spec.type if n == 1 else f"{spec.type}-{n}")
            widget.styles.row_span = spec.row_span
            widget.styles.column_span = spec.column_span
            yield widget

    def current_layout(self, name: str | None = None) -> Layout:
        """The arrangement as it is now, with each pane's current market and venue."""
        panes = []
        for w in self.children:
            spec: PaneSpec | None = getattr(w, "layout_spec", None) or getattr(w, "spec", None)
            if spec is None:
                continue
            update = {}
            if isinstance(w, Pane):
                for attr in ("market", "venue", "timeframe"):
                    value = getattr(w, attr, None)
                    if isinstance(value, str):
                        update[attr] = value
            panes.append(spec.model_copy(update=update))
        data = self.layout_model.model_copy(update={"panes": panes})
        if name is not None:
            data = data.model_copy(update={"name": name})
        return data
