"""A pane of rows the trader selects and acts on (orders, positions)."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from textual.binding import Binding

from quantdesk.core import actions
from quantdesk.console.keymap import normalize_key
from quantdesk.console.panes.base import Pane, PaneSession
from quantdesk.console.panes.row_cursor import CURSOR_CSS_CLASS, RowCursor


def pane_binding(binding_id: str, action: str) -> Binding:
    """A pane key from the actions catalogue, so keymaps can remap it."""
    a = actions.BY_ID[binding_id]
    return Binding(normalize_key(a.key), action, a.description, key_display=a.key, show=False, id=binding_id)


class SelectablePane(Pane):
    COMPONENT_CLASSES: ClassVar[set[str]] = Pane.COMPONENT_CLASSES | {CURSOR_CSS_CLASS}
    DEFAULT_CSS = """
    SelectablePane > .pane--cursor { background: $accent 25%; }
    """

    def __init__(self, session: PaneSession, **kw: Any) -> None:
        super().__init__(session, **kw)
        self.cursor = RowCursor()

    def row_keys(self) -> list[Hashable]:
        """The keys of the rows on screen, in order; the cursor follows them."""
        raise TypeError(f"{type(self).__name__} does not define row_keys()")

    def action_cursor(self, step: int) -> None:
        self.cursor.move(self.row_keys(), step)
        self.tick(self.session.clock())
