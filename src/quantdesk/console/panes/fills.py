"""The account's own fills on every venue, newest first."""

from __future__ import annotations

from collections.abc import Hashable

from rich.text import Text

from quantdesk.core.model import Fill, Market
from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, Pane, Table

COLUMNS = [
    Column("Time", 12, "left"),
    Column("Market", 8, "left"),
    Column("Venue", 9, "left"),
    Column("Side", 4, "left"),
    Column("Size", 9),
    Column("Price", 10),
    Column("Fee", 8),
    Column("Liq", 5, "left"),
    Column("Order", 14, "left"),
]


fill_time = fmt.time_of_day


class FillsPane(Pane):
    pane_type = "fills"

    def state_key(self, now_ns: int) -> Hashable:
        return self.cache.rev["fill"]

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        s = self.style
        fills = self.cache.fills  # newest first
        table = Table(COLUMNS)
        lines = [table.header(s("pane--header"))]
        if not fills:
            lines.append(Text(""))
            lines.append(Text("No fills yet.", s("pane--dim"), end=""))
            return lines
        for f in list(fills)[: max(0, height - 1)]:
            lines.append(table.row(self._cells(f, self.cache.markets.get((f.venue, f.market)))))
        return lines

    def _cells(self, f: Fill, market: Market | None) -> list:
        s = self.style
        buy = f.side == "buy"
        price = fmt.price(f.price, market) if market else str(f.price)
        size = fmt.size(f.size, market) if market else str(f.size)
        fee_decimals = market.price_decimals if market else 6
        return [
            (fill_time(f.ts), s("pane--dim")),
            (f.market, s("pane--title")),
            (f.venue, s("pane--dim")),
            ("BUY" if buy else "SELL", s("pane--bid") if buy else s("pane--ask")),
            (size, None),
            (price, None),
            (fmt.fixed(f.fee, fee_decimals, 2, sign=f.fee < 0), s("pane--gain") if f.fee < 0 else None),
            (f.liquidity, s("pane--dim")),
            (f.order_id, s("pane--dim")),
        ]
