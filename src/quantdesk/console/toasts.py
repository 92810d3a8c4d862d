"""Which notifications the toast rack shows, so that every toast on screen is
whole and none covers the risk panes (positions, orders).

Toasts stack at the top right, down to the first risk pane under them (or the
bottom of the pane grid). When they do not all fit, errors have the room
first, oldest first; the other toasts fill what is left, newest first, and the
older ones that find no room are dismissed. An error that finds no room waits,
still timing out, until one above it goes.

The App hands Textual's toast rack only what ``fit`` chose; each frame it asks
again, cheaply, because a toast expiring, a resize, a layout change or the
command line opening all change the room.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from textual.app import ScreenStackError
from textual.content import Content
from textual.css.query import NoMatches
from textual.notifications import Notification, Notifications
from textual.widgets._toast import ToastRack

from quantdesk.console.panes.base import Pane
from quantdesk.console.ticked import Ticked

if TYPE_CHECKING:
    from textual.app import App
    from textual.geometry import Region
    from textual.screen import Screen
    from textual.widget import Widget

WIDTH = 60  # a toast's width, or the screen's when narrower
GAP = 1  # blank rows above each toast: toasts stacked touching read as one
CHROME_COLUMNS = 3  # the coloured left border and one column of padding each side
RISK_PANES = frozenset({"positions", "orders"})

# The App's CSS for the rack and its toasts, from the figures ``rows`` counts with.
CSS = f"""
ToastRack {{
    dock: top;
    align: right top;
    margin: 0;
    height: auto;
    overflow: hidden;
}}
Toast {{
    width: {WIDTH};
    max-width: 100%;
    padding: 0 1;
    margin-top: {GAP};
}}
"""


@dataclass(frozen=True, slots=True)
class Item:
    """One notification as the stack sees it: its rows on screen and whether it is an error."""

    rows: int
    error: bool


def fit(items: Sequence[Item], room: int) -> tuple[list[int], list[int]]:
    """Which of ``items`` (oldest first) to show in ``room`` rows, and which to
    dismiss, by index; the rest wait. A toast taller than the room counts as
    the room: alone it shows cut short rather than never."""
    rows = [min(i.rows, room) for i in items]
    shown: list[int] = []
    left = room
    for n, item in enumerate(items):
        if not item.error:
            continue
        if rows[n] > left:
            break  # the later errors wait behind this one, keeping their order
        shown.append(n)
        left -= rows[n]
    dropped: list[int] = []
    others = [n for n, i in enumerate(items) if not i.error]
    for n in reversed(others):  # newest first: the oldest go when the room runs out
        if dropped or rows[n] > left:
            dropped.append(n)
        else:
            shown.append(n)
            left -= rows[n]
    return sorted(shown), sorted(dropped)


def toast_width(screen_width: int) -> int:
    return max(1, min(WIDTH, screen_width))


def rows(notification: Notification, width: int) -> int:
    """The rows ``notification``'s toast takes at ``width`` columns, its gap
    above included: its title and message wrapped as the toast wraps them."""
    message = Content.from_markup(notification.message) if notification.markup else Content(notification.message)
    text = Content.assemble(notification.title, "\n", message) if notification.title else message
    return GAP + len(text.wrap(max(1, width - CHROME_COLUMNS)))


def room(top_of: Sequence[Region], screen: Region, width: int) -> int:
    """The rows from the top of ``screen`` down to the highest of ``top_of``
    (the risk panes, the bottom bars) that the toast column, the right-most
    ``width`` columns, would reach."""
    left = screen.right - width
    bottom = screen.bottom
    for r in top_of:
        if r.width and r.height and r.right > left:
            bottom = min(bottom, r.y)
    return max(0, bottom - screen.y)


class ToastStack:
    """The App's side: what its screen's toast rack is handed, refreshed when
    the notifications or the room change."""

    def __init__(self, app: App[Any]) -> None:
        self.app = app
        self._last: tuple[object, ...] | None = None
        self._limit_key: tuple[object, ...] | None = None
        self._limit_widgets: list[Widget] = []

    def _limits(self, screen: Screen[Any]) -> list[Widget]:
        """The risk panes and the bottom bars (hidden ones have empty regions):
        looked up again only when the screen, its panes or its children change,
        not at every frame a toast is up."""
        key = (screen, Ticked.mounts, len(screen.children))
        if key != self._limit_key:
            widgets: list[Widget] = [p for p in screen.query(Pane) if p.pane_type in RISK_PANES]
            widgets += screen.query("StatusBar, CommandLine")
            self._limit_widgets, self._limit_key = widgets, key
        return self._limit_widgets

    def tick(self) -> None:
        """Once a frame: fit again if a toast expired or the room moved."""
        if self.app._notifications or self._last:  # nothing to do without toasts, nor to take down
            self.refresh(force=False)

    def refresh(self, *, force: bool = True) -> None:
        app = self.app
        try:
            screen = app.screen
            rack = screen.get_child_by_type(ToastRack)
        except (ScreenStackError, NoMatches):  # no screen yet, or one without a rack: a later refresh finds it
            return
        if not screen.size.area:
            return  # not laid out yet: fitted on the first frame
        width = toast_width(screen.size.width)
        space = room([w.region for w in self._limits(screen)], screen.region, width)
        notes = list(app._notifications)
        key = (id(screen), space, width, *(n.identity for n in notes))
        if key == self._last and not force:
            return
        shown, dropped = fit([Item(rows(n, width), n.severity == "error") for n in notes], space)
        for n in dropped:
            del app._notifications[notes[n]]
        kept = [n.identity for i, n in enumerate(notes) if i not in dropped]
        self._last = (id(screen), space, width, *kept) if kept else None
        rack.styles.max_height = space
        picked = Notifications()
        for n in shown:
            picked.add(notes[n])
        # The rack takes a toast down but leaves its holder, a blank row that
        # also stops the toast coming back: a waiting error shown again.
        keep = {ToastRack._toast_id(n) for n in picked}
        for holder in list(rack.children):
            if holder.id not in keep:
                holder.remove()
        app.call_later(rack.show, picked)
