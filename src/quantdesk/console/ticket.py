"""The order ticket: a modal for one market on one venue, opened with b / s.

It shows the touch and, live as the trader types, the estimated fill price and
slippage from the book, the fee, and the position, leverage, liquidation price
and free collateral the order would leave (from the paper account's preview).
Enter sends, escape closes. Bad input is explained under the fields and
nothing is sent. The screen only builds a ``TicketPlan``; the App sends it
through the router and shows the outcome as a notification.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, cast

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Input, Static

from quantdesk.core.model import Market, OrderType, Side
from quantdesk.trading.ticket import (
    ORDER_TYPES,
    Preview,
    TicketError,
    TicketInput,
    TicketPlan,
    build_plan,
    needs_price,
    needs_trigger,
    plain,
    preview,
    step_price,
)
from quantdesk.console import format as fmt

if TYPE_CHECKING:
    from quantdesk.core.book import OrderBook
    from quantdesk.trading.ticket import FillPreviewer
    from quantdesk.venues.session import Session

PRICE_FIELDS = ("price", "trigger_price", "scale_to", "take_profit", "stop_loss")
REFRESH_S = 0.25  # the preview follows the book a few times a second


class Choice(Widget, can_focus=True):
    """One of a few values, cycled with left/right or space (the order type)."""

    DEFAULT_CSS = """
    Choice { height: 1; width: 24; background: $boost; padding: 0 1; }
    Choice:focus { background: $accent 30%; text-style: bold; }
    """
    BINDINGS: ClassVar = [
        Binding("right,space", "cycle(1)", "next type", show=False, id="ticket.type_next"),
        Binding("left", "cycle(-1)", "previous type", show=False, id="ticket.type_prev"),
    ]
    value: reactive[str] = reactive("")

    class Changed(Message):
        def __init__(self, choice: Choice) -> None:
            super().__init__()
            self.choice = choice

    def __init__(self, options: tuple[tuple[str, str], ...], value: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.options = options
        self.set_reactive(Choice.value, value)

    def render(self) -> Text:
        label = dict(self.options).get(self.value, self.value)
        return Text(f"◂ {label} ▸")

    def action_cycle(self, step: int) -> None:
        values = [v for v, _ in self.options]
        i = values.index(self.value) if self.value in values else 0
        self.value = values[(i + step) % len(values)]

    def watch_value(self) -> None:
        self.post_message(self.Changed(self))


class Flag(Widget, can_focus=True):
    """An on/off field, toggled with space (enter still sends the ticket).
    Drawn as ``[x] label`` so its state reads without colour."""

    DEFAULT_CSS = """
    Flag { height: 1; width: auto; padding: 0 1; }
    Flag:focus { background: $accent 30%; text-style: bold; }
    """
    BINDINGS: ClassVar = [Binding("space", "flip", "toggle", show=False, id="ticket.toggle")]
    value: reactive[bool] = reactive(False)

    class Changed(Message):
        def __init__(self, flag: Flag) -> None:
            super().__init__()
            self.flag = flag

    def __init__(self, label: str, value: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self.label = label
        self.set_reactive(Flag.value, value)

    def render(self) -> Text:
        return Text(f"[{'x' if self.value else ' '}] {self.label}")

    def action_flip(self) -> None:
        self.value = not self.value

    def watch_value(self) -> None:
        self.post_message(self.Changed(self))


class TicketScreen(ModalScreen[TicketPlan | None]):
    DEFAULT_CSS = """
    TicketScreen { align: center middle; }
    TicketScreen > #ticket {
        width: 84;
        height: auto;
        padding: 0 1;
        border: thick $accent;
        background: $surface;
    }
    TicketScreen.-sell > #ticket { border: thick $error; }
    TicketScreen .row { height: 1; margin: 0 0 0 0; }
    TicketScreen .label { width: 12; color: $text-muted; }
    TicketScreen .hint { width: auto; color: $text-muted; padding: 0 1; }
    TicketScreen Input { width: 18; height: 1; border: none; padding: 0 1; background: $boost; }
    TicketScreen Input:focus { background: $accent 30%; }
    TicketScreen Input.-narrow { width: 8; }
    TicketScreen Input.-invalid { background: $error 30%; }
    TicketScreen #ticket-title { text-style: bold; height: 1; }
    TicketScreen #touch { height: 1; color: $text-muted; }
    TicketScreen #preview { height: auto; margin-top: 1; }
    TicketScreen #ticket-error { height: auto; color: $error; text-style: bold; }
    TicketScreen #ticket-keys { height: 1; color: $text-muted; }
    TicketScreen .-hidden { display: none; }
    """
    BINDINGS: ClassVar = [
        Binding("enter", "confirm", "send", id="ticket.send"),
        Binding("escape", "close", "close", id="ticket.close"),
        Binding("up", "step(1)", "price up a tick", show=False, id="ticket.tick_up"),
        Binding("down", "step(-1)", "price down a tick", show=False, id="ticket.tick_down"),
        Binding("pageup", "step(10)", "price up 10 ticks", show=False, id="ticket.ticks_up"),
        Binding("pagedown", "step(-10)", "price down 10 ticks", show=False, id="ticket.ticks_down"),
    ]

    def __init__(
        self,
        session: Session,
        market: Market,
        side: Side,
        account: FillPreviewer | None = None,  # the venue's account, for the preview
        order_type: OrderType = "limit",
        size: str = "",
    ) -> None:
        super().__init__(classes="-sell" if side == "sell" else "")
        self.session = session
        self.cache = session.cache
        self.market = market
        self.side: Side = side
        self.account = account
        self.initial_type = order_type
        self.initial_size = size
        self.plan: TicketPlan | None = None
        self.error: TicketError | None = None
        self.last_preview: Preview | None = None
        self._book_rev = -1
        self._shown_error = False  # after a refused confirm the message turns loud

    # -- layout ------------------------------------------------------------
    def compose(self) -> ComposeResult:
        m = self.market
        with Vertical(id="ticket"):
            yield Static(id="ticket-title")
            yield Static(id="touch")
            with Horizontal(classes="row"):
                yield Static("Type", classes="label")
                yield Choice(ORDER_TYPES, self.initial_type, id="type")
                yield Static("←/→ change", classes="hint")
            with Horizontal(classes="row"):
                yield Static("Size", classes="label", id="size-label")
                yield Input(self.initial_size, placeholder=f"{m.base}", id="size", compact=True)
                yield Flag("size in USD", id="quote")
            with Horizontal(classes="row", id="price-row"):
                yield Static("Limit price", classes="label")
                yield Input(placeholder="↑/↓ from touch", id="price", compact=True)
                yield Static("↑/↓ a tick · PgUp/PgDn 10", classes="hint")
            with Horizontal(classes="row", id="trigger-row"):
                yield Static("Trigger", classes="label")
                yield Input(placeholder="oracle price", id="trigger_price", compact=True)
                yield Static("fires on the oracle price", classes="hint")
            with Horizontal(classes="row"):
                yield Static("Flags", classes="label")
                yield Flag("post-only", id="post_only")
                yield Flag("reduce-only", id="reduce_only")
                yield Flag("IOC", id="ioc")
            with Horizontal(classes="row", id="scale-row"):
                yield Static("Scale", classes="label")
                yield Input(placeholder="N", id="scale_count", classes="-narrow", compact=True)
                yield Static(" orders from the price to ", classes="hint")
                yield Input(placeholder="end price", id="scale_to", compact=True)
            with Horizontal(classes="row", id="bracket-row"):
                yield Static("Bracket", classes="label")
                yield Static("TP ", classes="hint")
                yield Input(placeholder="take-profit", id="take_profit", compact=True)
                yield Static(" SL ", classes="hint")
                yield Input(placeholder="stop-loss", id="stop_loss", compact=True)
            yield Static(id="preview")
            yield Static(id="ticket-error")
            yield Static("enter send · esc close · tab next field · space toggles a flag", id="ticket-keys")

    def on_mount(self) -> None:
        self._update_title()
        self._show_fields()
        self.refresh_preview()
        self.set_interval(REFRESH_S, self._follow_book, name="ticket-preview")
        self.query_one("#size", Input).focus()

    def _update_title(self) -> None:
        m = self.market
        title = Text()
        title.append(f" {self.side.upper()} ", "bold reverse green" if self.side == "buy" else "bold reverse red")
        title.append(f" {m.symbol} on {m.venue}", "bold")
        self.query_one("#ticket-title", Static).update(title)
        self.query_one("#size-label", Static).update("Size USD" if self.size_in_quote else f"Size {m.base}")

    def _show_fields(self) -> None:
        kind = self.order_type
        self.query_one("#price-row").set_class(not needs_price(kind), "-hidden")
        self.query_one("#trigger-row").set_class(not needs_trigger(kind), "-hidden")
        self.query_one("#scale-row").set_class(kind != "limit", "-hidden")
        self.query_one("#bracket-row").set_class(kind not in ("market", "limit"), "-hidden")

    # -- reading the fields ----------------------------------------------------
    @property
    def order_type(self) -> OrderType:
        return cast(OrderType, self.query_one("#type", Choice).value)  # the choice offers only ORDER_TYPES

    @property
    def size_in_quote(self) -> bool:
        return self.query_one("#quote", Flag).value or self.query_one("#size", Input).value.strip().startswith("$")

    def _text(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def ticket_input(self) -> TicketInput:
        kind = self.order_type
        hidden_price = not needs_price(kind)
        hidden_trigger = not needs_trigger(kind)
        return TicketInput(
            side=self.side,
            type=kind,
            size=self._text("size"),
            size_in_quote=self.size_in_quote,
            price="" if hidden_price else self._text("price"),
            trigger_price="" if hidden_trigger else self._text("trigger_price"),
            post_only=self.query_one("#post_only", Flag).value,
            reduce_only=self.query_one("#reduce_only", Flag).value,
            ioc=self.query_one("#ioc", Flag).value,
            scale_count=self._text("scale_count") if kind == "limit" else "",
            scale_to=self._text("scale_to") if kind == "limit" else "",
            take_profit=self._text("take_profit") if kind in ("market", "limit") else "",
            stop_loss=self._text("stop_loss") if kind in ("market", "limit") else "",
        )

    def _book(self) -> OrderBook | None:
        return self.cache.book(self.market.venue, self.market.symbol)

    def _oracle(self) -> int:
        o = self.cache.oracle.get((self.market.venue, self.market.symbol))
        return o.price if o is not None else 0

    # -- live preview ----------------------------------------------------------
    @on(Input.Changed)
    @on(Flag.Changed)
    def _on_field_changed(self, event: Message) -> None:
        self._update_title()
        self.refresh_preview()

    @on(Choice.Changed)
    def _on_type_changed(self, event: Choice.Changed) -> None:
        self._show_fields()
        self.refresh_preview()

    @on(Input.Submitted)
    def _on_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_confirm()

    def _follow_book(self) -> None:
        rev = self.cache.rev["book"] + self.cache.rev["oracle"]
        if rev != self._book_rev:
            self.refresh_preview()

    def refresh_preview(self) -> None:
        self._book_rev = self.cache.rev["book"] + self.cache.rev["oracle"]
        book = self._book()
        self._show_touch(book)
        for name in ("size", *PRICE_FIELDS, "scale_count"):
            self.query_one(f"#{name}", Input).remove_class("-invalid")
        try:
            self.plan = build_plan(self.ticket_input(), self.market, book, self._oracle())
            self.error = None
        except TicketError as exc:
            self.plan, self.error = None, exc
        prev = self.query_one("#preview", Static)
        err = self.query_one("#ticket-error", Static)
        if self.error is not None:
            self.last_preview = None
            prev.update(Text("Preview: fill in the fields above", "dim"))
            if self._shown_error or not self.error.message.startswith("enter "):
                self._mark_invalid(self.error.field)
                err.update(f"✗ {self.error.message}")
            else:
                err.update("")
            return
        err.update("")
        assert self.plan is not None
        self.last_preview = preview(self.plan, self.market, book, self._oracle(), self.account)
        prev.update(self._preview_text(self.last_preview))

    def _mark_invalid(self, field: str) -> None:
        try:
            self.query_one(f"#{field}", Input).add_class("-invalid")
        except Exception:
            pass

    def _show_touch(self, book: OrderBook | None) -> None:
        m = self.market
        t = Text(no_wrap=True)
        bid = book.best_bid() if book is not None else None
        ask = book.best_ask() if book is not None else None
        t.append("bid ", "dim")
        t.append(f"{fmt.price(bid[0], m)} × {fmt.size(bid[1], m)}" if bid else "—", "green")
        t.append("   ask ", "dim")
        t.append(f"{fmt.price(ask[0], m)} × {fmt.size(ask[1], m)}" if ask else "—", "red")
        t.append("   oracle ", "dim")
        oracle = self._oracle()
        t.append(fmt.price(oracle, m) if oracle else "—")
        self.query_one("#touch", Static).update(t)

    def _preview_text(self, p: Preview) -> Text:
        m = self.market
        t = Text()
        t.append("Est. fill ", "dim")
        if p.fill_price is None:
            t.append("—")
        else:
            t.append(fmt.price(p.fill_price, m), "bold")
        t.append("  slippage ", "dim")
        t.append(f"{fmt.bps(p.slippage_bps)} bps" if p.slippage_bps is not None else "none (rests)")
        t.append(f"  {p.liquidity}", "dim")
        t.append("  size ", "dim")
        t.append(f"{fmt.size(p.size, m)} {m.base}")
        t.append("  notional ", "dim")
        t.append(f"${fmt.fixed(p.notional, m.price_decimals, 2)}")
        t.append("\nFee ", "dim")
        if p.fee is None:
            t.append("—")
        elif p.fee < 0:
            t.append(f"-${fmt.fixed(-p.fee, m.price_decimals, 2)} rebate", "green")
        else:
            t.append(f"${fmt.fixed(p.fee, m.price_decimals, 2)}")
        if p.position_after is not None:
            t.append("  position after ", "dim")
            if p.position_after == 0:
                t.append("flat")
            else:
                long = p.position_after > 0
                t.append(f"{'LONG' if long else 'SHORT'} {fmt.size(abs(p.position_after), m)}", "green" if long else "red")
                t.append(f" @ {fmt.price(p.entry_after, m)}")
            t.append("  leverage ", "dim")
            t.append(fmt.leverage(p.leverage_bps))
            t.append("  liq ", "dim")
            t.append(fmt.price(p.liquidation_price, m) if p.liquidation_price else "none", "yellow")
            t.append("  free ", "dim")
            t.append(f"${fmt.fixed(p.free_collateral, m.price_decimals, 2)}")
        else:
            t.append("  (no account preview on this venue)", "dim")
        for note in p.notes:
            t.append(f"\n· {note}", "dim")
        return t

    # -- keys ------------------------------------------------------------------
    def action_step(self, ticks: int) -> None:
        focused = self.focused
        if not isinstance(focused, Input) or focused.id not in PRICE_FIELDS:
            if ticks > 0:
                self.focus_previous()
            else:
                self.focus_next()
            return
        book = self._book()
        touch = None
        if book is not None:
            level = book.best_bid() if self.side == "buy" else book.best_ask()
            touch = level[0] if level else None
        if touch is None:
            touch = self._oracle() or None
        new = step_price(self.market, focused.value, ticks, touch)
        if new is not None:
            focused.value = plain(self.market.price(new))
            focused.cursor_position = len(focused.value)

    def action_confirm(self) -> None:
        self.refresh_preview()
        if self.plan is None:
            self._shown_error = True
            self.refresh_preview()
            if self.error is not None:
                try:
                    self.query_one(f"#{self.error.field}").focus()
                except Exception:
                    pass
            return
        self.dismiss(self.plan)

    def action_close(self) -> None:
        self.dismiss(None)
