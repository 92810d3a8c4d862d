"""Paint a key's effect in the same turn as the key."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.widget import Widget

if TYPE_CHECKING:
    from textual.screen import Screen


def paint_now(screen: Screen[object]) -> None:
    """Send the screen's pending changes to the terminal now.

    Textual would take three turns of message queues (each widget posts an
    update to its screen when idle, the idle screen starts its update timer)
    and then wait for the timer's next tick, at most 60 a second: a key's
    effect could reach the terminal 17 ms or more after its action ran. Here
    the widgets that asked for a repaint are handed to the screen directly and
    the screen's update runs in this turn. Nothing happens when nothing
    changed, while the App batches updates, or off the current screen; a
    layout change is left to Textual's own path."""
    if screen.app._batch_count or not screen.is_current or screen._layout_required:
        return
    for widget in screen.walk_children(Widget, with_self=False):
        if widget._repaint_required and not widget._layout_required and widget.display:
            widget._repaint_required = False
            screen._dirty_widgets.add(widget)  # what the screen's Update handler does
    if screen._dirty_widgets or screen._repaint_required:
        screen._on_timer_update()  # what the update timer's tick does (Textual 8)
