"""Widgets that keep their painted lines (border, padding and content,
through the App's line filters) from one frame to the next.

Textual paints a widget through its styles cache, which walks every line of
every widget the frame's dirty area touches (the whole screen's container
and status bar included) and composes each changed line again from the CSS:
about a third of the console's CPU on a busy feed. Between two repaints a
pane's frame is the same but for the content lines it changed, so a
``KeptPaint`` widget hands back what it painted last and composes just those
lines: their edges come from Textual's own last paint, the content between
from the widget's ``render_line``, through the same filters. Anything else
(a resize, focus, a title, a theme, a clipped paint, styles with tint,
opacity or an outline) goes back to Textual's path, which paints everything.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from rich.segment import Segment
from textual.geometry import Region
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget


class KeptPaint(Widget):
    """A widget whose painted lines are kept until they change. Mix it in
    after the Textual class (Textual reads CSS type names along first bases).

    ``line_api`` widgets (their ``render_line`` is cheap and is what they
    show) recompose a line a region refresh touched; others paint afresh."""

    line_api: ClassVar[bool] = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._kept_lines: list[Strip] | None = None
        self._kept_key: Hashable = None
        self._kept_dirty: set[int] = set()  # content lines to compose again
        self._kept_top = 0  # rows above the content: top border, padding
        self._kept_edges: tuple[list[Segment], list[Segment]] | None = None  # left and right of a content line
        self._kept_content = (0, 0)  # the content's width and height when kept

    def render_lines(self, crop: Region) -> list[Strip]:
        painted = self._reuse(crop)
        if painted is None:
            painted = super().render_lines(crop)
            self._keep(crop, painted)
        return painted

    def _set_dirty(self, *regions: Region) -> None:
        # Textual's one way in for a repaint: a whole widget for size, styles
        # and title, regions (content coordinates) for what the widget changed.
        if regions and self.line_api and self._kept_lines is not None:
            for region in regions:
                self._kept_dirty.update(region.line_range)
        else:
            self._kept_lines = None
        super()._set_dirty(*regions)

    def _reuse(self, crop: Region) -> list[Strip] | None:
        lines = self._kept_lines
        if lines is None or crop != Region(0, 0, *self.outer_size) or self._frame_key() != self._kept_key:
            return None
        if self.auto_links and self.hover_style._link_id:
            return None  # a hovered link is styled by Textual's path
        if self._kept_dirty:
            assert self._kept_edges is not None
            left, right = self._kept_edges
            filters = self.get_line_filters()
            background = self.background_colors[1]
            width, rows = self._kept_content
            outer = self.outer_size.width
            changed, self._kept_dirty = self._kept_dirty, set()
            for y in changed:
                if not 0 <= y < rows:
                    continue
                line = self.render_line(y)
                if line.cell_length != width:
                    self._kept_lines = None  # Textual pads or cuts it: its path paints
                    return None
                # What Textual's path gives, without a strip per filter and join.
                segments = list(line)
                for line_filter in filters:
                    segments = line_filter.apply(segments, background)
                lines[self._kept_top + y] = Strip([*left, *segments, *right], outer)
        return list(lines)

    def _keep(self, crop: Region, painted: list[Strip]) -> None:
        """Keep what Textual painted, when it is the whole widget and its styles
        are ones ``_reuse`` composes exactly."""
        self._kept_lines = None
        self._kept_dirty.clear()
        width, height = self.outer_size
        if crop != Region(0, 0, width, height) or len(painted) != height or not self._composable():
            return
        top, right, bottom, left = self.styles.gutter
        if (top + bottom, left + right) != (height - self.size.height, width - self.size.width) or not self.size:
            return
        if not all(strip.cell_length == width for strip in painted):
            return
        sample = painted[top]
        self._kept_top = top
        self._kept_edges = (list(sample.crop(0, left)), list(sample.crop(width - right, width)))
        self._kept_content = (width - left - right, height - top - bottom)
        self._kept_lines = list(painted)
        self._kept_key = self._frame_key()

    def _frame_key(self) -> Hashable:
        # The content's size follows from this and the styles; a style change repaints whole.
        return (self.outer_size, tuple(self.get_line_filters()))

    def _composable(self) -> bool:
        """Styles whose content lines are their edges plus the content line, as Textual draws them."""
        styles = self.styles
        if styles.tint.a or self.opacity != 1.0 or styles.text_opacity != 1.0:
            return False
        if any(edge for edge, _colour in styles.outline):
            return False
        return not (styles.has_rule("hatch") and styles.hatch != "none")


class DeskScreen(Screen[None], KeptPaint):
    """The App's first screen, under the panes: its background is painted once,
    not walked again at every frame the panes repaint."""
