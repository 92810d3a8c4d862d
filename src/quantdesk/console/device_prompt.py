""""Confirm on your Ledger": shown while a hardware signer waits for the
trader, with the transaction's summary; Escape gives up on the signature."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class DevicePromptScreen(ModalScreen[bool]):
    """Dismissed with True when the device answered, False when the trader
    cancelled here (the signature is then discarded)."""

    DEFAULT_CSS = """
    DevicePromptScreen { align: center middle; }
    DevicePromptScreen > Vertical {
        width: auto; min-width: 44; max-width: 90; height: auto;
        padding: 1 2; border: thick $accent; background: $surface;
    }
    DevicePromptScreen #device-title { text-style: bold; color: $accent; }
    DevicePromptScreen #device-keys { color: $text-muted; margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "cancel", "cancel", id="device.cancel")]

    def __init__(self, summary: str = "") -> None:
        super().__init__()
        self.summary = summary

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static("Confirm on your Ledger", id="device-title")
            if self.summary:
                yield Static(self.summary, id="device-summary")
            yield Static("check the transaction on the device and approve or reject it there    esc: cancel here",
                         id="device-keys")  # fmt: skip

    def action_cancel(self) -> None:
        self.dismiss(False)
