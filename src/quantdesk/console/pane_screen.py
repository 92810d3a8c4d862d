"""A pane opened on demand over the layout (``SOL-PERP FHIST`` when the layout
has no funding history pane); Esc or q closes it, the layout is as it was."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import ModalScreen

from quantdesk.console.panes.base import Pane

TICK_S = 0.25  # the App's frame timer draws the layout's panes; this one is drawn here


class PaneScreen(ModalScreen[None]):
    BINDINGS: ClassVar = [Binding("escape", "dismiss", "close", show=False), Binding("q", "dismiss", "close", show=False)]
    DEFAULT_CSS = """
    PaneScreen { align: center middle; }
    PaneScreen > Pane { width: 95%; height: 80%; background: $surface; }
    """

    def __init__(self, pane: Pane) -> None:
        super().__init__()
        self.pane = pane

    def compose(self) -> ComposeResult:
        self.pane.border_subtitle = "Esc closes"
        yield self.pane

    def on_mount(self) -> None:
        self.pane.focus()
        self.set_interval(TICK_S, self.draw)
        self.call_after_refresh(self.draw)

    def draw(self) -> None:
        self.pane.tick(self.pane.session.clock())
