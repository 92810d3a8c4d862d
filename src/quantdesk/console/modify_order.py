"""A small modal to change an open order's price or size."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from quantdesk.core.model import Market, Order
from quantdesk.trading.ticket import TicketError, parse_base_size, parse_price


class ModifyOrderScreen(ModalScreen[tuple[int | None, int | None] | None]):
    """Dismisses with (new price or None, new size or None), or None when closed."""

    DEFAULT_CSS = """
    ModifyOrderScreen { align: center middle; }
    ModifyOrderScreen > Vertical {
        width: 64; height: auto; padding: 0 1; border: thick $accent; background: $surface;
    }
    ModifyOrderScreen .row { height: 1; }
    ModifyOrderScreen .label { width: 14; color: $text-muted; }
    ModifyOrderScreen Input { width: 20; height: 1; border: none; padding: 0 1; background: $boost; }
    ModifyOrderScreen Input:focus { background: $accent 30%; }
    ModifyOrderScreen #modify-title { text-style: bold; }
    ModifyOrderScreen #modify-error { color: $error; text-style: bold; height: auto; }
    ModifyOrderScreen #modify-keys { color: $text-muted; }
    """
    BINDINGS: ClassVar = [
        Binding("escape", "close", "close", id="modify.close"),
        Binding("enter", "confirm", "apply", id="modify.apply"),
    ]

    def __init__(self, order: Order, market: Market) -> None:
        super().__init__()
        self.order = order
        self.market = market

    def compose(self) -> ComposeResult:
        o, m = self.order, self.market
        priced = o.price > 0
        with Vertical():
            yield Static(
                f"Modify {o.order_id}: {o.side.upper()} {o.type.replace('_', '-')} {o.market} on {o.venue}",
                id="modify-title",
            )
            if priced:
                with Horizontal(classes="row"):
                    yield Static("Limit price", classes="label")
                    yield Input(f"{m.price(o.price).normalize():f}", id="price", compact=True)
            with Horizontal(classes="row"):
                yield Static(f"Size {m.base}", classes="label")
                yield Input(f"{m.size(o.size).normalize():f}", id="size", compact=True)
            yield Static(f"filled so far {m.size(o.filled).normalize():f} {m.base}", classes="label")
            yield Static(id="modify-error")
            yield Static("enter apply · esc close", id="modify-keys")

    def on_mount(self) -> None:
        self.query(Input).first().focus()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def action_confirm(self) -> None:
        o, m = self.order, self.market
        try:
            price = None
            if self.query("#price"):
                price = parse_price(m, self.query_one("#price", Input).value)
            size = parse_base_size(m, self.query_one("#size", Input).value)
        except TicketError as exc:
            self.query_one("#modify-error", Static).update(f"✗ {exc.message}")
            return
        if size <= o.filled:
            self.query_one("#modify-error", Static).update(
                f"✗ size must stay above the {m.size(o.filled).normalize():f} {m.base} already filled; cancel instead"
            )
            return
        new_price = price if price is not None and price != o.price else None
        new_size = size if size != o.size else None
        if new_price is None and new_size is None:
            self.query_one("#modify-error", Static).update("✗ nothing changed: type a new price or size, or esc")
            return
        self.dismiss((new_price, new_size))

    def action_close(self) -> None:
        self.dismiss(None)
