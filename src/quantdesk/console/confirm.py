"""A yes/no question in front of an action that cannot be undone (closing
positions, releasing the kill switch)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: auto;
        min-width: 44;
        max-width: 90;
        height: auto;
        padding: 1 2;
        border: thick $warning;
        background: $surface;
    }
    ConfirmScreen #confirm-title { text-style: bold; color: $warning; }
    ConfirmScreen #confirm-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [
        Binding("y,enter", "answer(True)", "yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "no", id="confirm.no"),
    ]

    def __init__(self, title: str, detail: str = "", yes: str = "yes") -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.yes = yes

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self.title_text, id="confirm-title")
            if self.detail:
                yield Static(self.detail, id="confirm-detail")
            yield Static(f"y / enter: {self.yes}    n / esc: keep as it is", id="confirm-keys")

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)
