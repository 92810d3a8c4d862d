"""The account's open orders on every venue; cancel one, cancel all, modify one.

Below them, while there is room, the orders that ended most recently and
what became of them (filled, cancelled, expired, rejected, and why): an
order a venue finishes later, such as a position request a keeper executes
or lets expire, leaves the open list and says so here.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.text import Text
from textual.binding import Binding

from quantdesk.core.model import Market, Order
from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, Table
from quantdesk.console.panes.row_cursor import CURSOR_CSS_CLASS
from quantdesk.console.panes.selectable import SelectablePane, pane_binding

# Market, side, size and price always stay; as the pane narrows the flags go
# first, then the trigger, filled size, order id, venue, status and type.
COLUMNS = [
    Column("Order", 15, "left", drop=3),
    Column("Market", 8, "left"),
    Column("Venue", 9, "left", drop=2),
    Column("Side", 4, "left"),
    Column("Type", 8, "left", drop=1),
    Column("Size", 8),
    Column("Filled", 7, drop=4),
    Column("Price", 9),
    Column("Trigger", 9, drop=5),
    Column("Status", 9, "left", drop=1),
    Column("Flags", 6, "left", drop=6),
]
TYPE_SHORT = {
    "market": "MKT",
    "limit": "LIMIT",
    "stop_market": "STOP",
    "stop_limit": "STOP LMT",
    "take_profit_market": "TP",
    "take_profit_limit": "TP LMT",
}


ENDED_SHOWN = 3


def ended_status(o: Order) -> str:
    """``expired`` for an order the venue let run out, else its status."""
    return "expired" if o.status == "cancelled" and o.reason.startswith("expired") else o.status


def outcome(o: Order) -> str:
    """``ord1 filled`` / ``o2 expired: no keeper executed it ...``: what became of an ended order."""
    status = ended_status(o)
    if not o.reason:
        return f"{o.order_id} {status}"
    if o.reason.startswith(status):
        return f"{o.order_id} {o.reason}"
    return f"{o.order_id} {status}: {o.reason}"


def flags(o: Order) -> str:
    return " ".join(f for f, on in (("PO", o.post_only), ("RO", o.reduce_only), ("IOC", o.ioc and o.type == "limit")) if on)


class OrdersPane(SelectablePane):
    pane_type = "orders"

    BINDINGS: ClassVar = [
        Binding("up", "cursor(-1)", "previous order", show=False, id="orders.cursor_up"),
        Binding("down", "cursor(1)", "next order", show=False, id="orders.cursor_down"),
        pane_binding("orders.cancel", "cancel_selected"),
        pane_binding("orders.modify", "modify_selected"),
    ]


    # -- rows ----------------------------------------------------------------
    def rows(self) -> list[Order]:
        """Open orders, newest first."""
        return sorted(self.cache.orders.values(), key=lambda o: (-o.ts, o.order_id))

    def selected(self) -> Order | None:
        rows = self.rows()
        i = self.cursor.pick([o.order_id for o in rows])
        return None if i is None else rows[i]

    def selected_market(self) -> tuple[str, str] | None:
        o = self.selected()
        return None if o is None else (o.venue, o.market)

    # -- frame ---------------------------------------------------------------
    def state_key(self, now_ns: int) -> Hashable:
        return (self.cache.rev["order"], self.cursor.key, self.has_focus)

    def _ended(self, table: Table, room: int) -> list[Text]:
        """The latest ended orders and what became of the newest, in ``room`` lines (none if too few)."""
        ended = list(self.cache.ended_orders)[: min(ENDED_SHOWN, room - 2)]
        if not ended:
            return []
        s = self.style
        lines = [Text("Ended", s("pane--dim"), end="")]
        for o in ended:
            lines.append(table.row(self._cells(o, self.cache.markets.get((o.venue, o.market)), ended=True)))
        lines.append(Text(outcome(ended[0]), s("pane--dim"), no_wrap=True, end=""))
        return lines

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        s = self.style
        rows = self.rows()
        table = Table(COLUMNS).fit(width)
        n = len(rows)
        head = Text(no_wrap=True, end="")
        head.append(f"{n} open order{'s' if n != 1 else ''}", s("pane--title"))
        head.append("   c cancel · m modify · ↑/↓ select", s("pane--dim"))
        lines = [head, table.header(s("pane--header"))]
        if not rows:
            lines.append(Text(""))
            lines.append(Text("No open orders. Press b to buy or s to sell.", s("pane--dim"), end=""))
            return lines + self._ended(table, height - len(lines))
        i = self.cursor.pick([o.order_id for o in rows])
        visible = max(1, height - len(lines))
        first = 0 if i is None or i < visible else i - visible + 1
        for k, o in enumerate(rows[first : first + visible], start=first):
            row = table.row(self._cells(o, self.cache.markets.get((o.venue, o.market))))
            if k == i:
                row.stylize(s(CURSOR_CSS_CLASS))
            lines.append(row)
        return lines + self._ended(table, height - len(lines))

    def _cells(self, o: Order, market: Market | None, ended: bool = False) -> list:
        s = self.style

        def price(v: int) -> str:
            if not v:
                return "—"
            return fmt.price(v, market) if market else str(v)

        def size(v: int) -> str:
            return fmt.size(v, market) if market else str(v)

        buy = o.side == "buy"
        if ended:
            dim = s("pane--dim")
            return [(o.order_id, dim), (o.market, dim), (o.venue, dim), ("BUY" if buy else "SELL", dim),
                    (TYPE_SHORT.get(o.type, o.type), dim), (size(o.size), dim), (size(o.filled), dim),
                    (price(o.price), dim), (price(o.trigger_price), dim), (ended_status(o), dim), (flags(o), dim)]  # fmt: skip
        return [
            (o.order_id, s("pane--dim")),
            (o.market, s("pane--title")),
            (o.venue, s("pane--dim")),
            ("BUY" if buy else "SELL", s("pane--bid") if buy else s("pane--ask")),
            (TYPE_SHORT.get(o.type, o.type), None),
            (size(o.size), None),
            (size(o.filled), s("pane--dim") if not o.filled else None),
            (price(o.price), None),
            (price(o.trigger_price), None),
            (o.status, s("pane--warn") if o.status == "triggered" else None),
            (flags(o), s("pane--dim")),
        ]

    # -- keys ----------------------------------------------------------------
    def row_keys(self) -> list[Hashable]:
        return [o.order_id for o in self.rows()]

    async def action_cancel_selected(self) -> None:
        o = self.selected()
        if o is None:
            self.app.notify("No open order to cancel.", severity="warning")
            return
        trading = getattr(self.app, "trading", None)  # the App's TradingController
        if trading is not None:
            await trading.cancel_order(o.venue, o.order_id)

    def action_modify_selected(self) -> None:
        from quantdesk.console.modify_order import ModifyOrderScreen

        o = self.selected()
        market = None if o is None else self.cache.markets.get((o.venue, o.market))
        if o is None or market is None:
            self.app.notify("No open order to modify.", severity="warning")
            return
        trading = getattr(self.app, "trading", None)  # the App's TradingController
        if trading is None:
            return

        async def apply(change: tuple[int | None, int | None] | None) -> None:
            if change is not None:
                await trading.modify_order(o.venue, o.order_id, price=change[0], size=change[1])

        self.app.push_screen(ModifyOrderScreen(o, market), apply)
