"""Open positions per venue and market, and each account's equity."""

from __future__ import annotations

from collections.abc import Hashable

from rich.text import Text

from quantdesk.model import PRICE_DECIMALS, AccountState, Market, Position
from quantdesk.ui import format as fmt
from quantdesk.ui.panes.base import Column, Pane, Table, register_pane

COLUMNS = [
    Column("Market", 8, "left"),
    Column("Venue", 9, "left"),
    Column("Side", 5, "left"),
    Column("Size", 8),
    Column("Entry", 9),
    Column("Mark", 9),
    Column("uPnL", 9),
    Column("rPnL", 8),
    Column("Liq", 9),
    Column("Lev", 5),
    Column("Margin", 8),
]


def usd(value: int | None, *, sign: bool = False) -> str:
    """Quote amounts are held at price precision (1e6 USD)."""
    return fmt.fixed(value, PRICE_DECIMALS, 2, sign=sign)


@register_pane
class PositionsPane(Pane):
    pane_type = "positions"
    pane_title = "POSITIONS"

    def state_key(self, now_ns: int) -> Hashable:
        rev = self.cache.rev
        return (rev["position"], rev["account"], rev["mark"])

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        s = self.style
        cache = self.cache
        table = Table(COLUMNS)
        lines = [self._accounts_line(), table.header(s("pane--header"))]
        positions = [p for _, p in sorted(cache.positions.items()) if p.base != 0]
        if not positions:
            lines.append(Text(""))
            lines.append(Text("No open positions", s("pane--dim"), end=""))
            return lines
        for p in positions:
            market = cache.markets.get((p.venue, p.market))
            lines.append(table.row(self._cells(p, market)))
        return lines

    def _cells(self, p: Position, market: Market | None) -> list:
        s = self.style
        long = p.base > 0

        def price(v: int | None) -> str:
            if v is None:
                return "—"
            return fmt.price(v, market) if market else fmt.fixed(v, PRICE_DECIMALS, 4)

        size = fmt.size(abs(p.base), market) if market else fmt.fixed(abs(p.base), 9, 4)
        return [
            (p.market, s("pane--title")),
            (p.venue, s("pane--dim")),
            ("LONG" if long else "SHORT", s("pane--bid") if long else s("pane--ask")),
            (size, None),
            (price(p.entry_price), None),
            (price(p.mark_price or None), None),
            (usd(p.unrealized_pnl, sign=True), self._pnl_style(p.unrealized_pnl)),
            (usd(p.realized_pnl, sign=True), self._pnl_style(p.realized_pnl)),
            (price(p.liquidation_price), s("pane--warn") if p.liquidation_price else s("pane--dim")),
            (fmt.leverage(p.leverage_bps), None),
            (usd(p.margin), None),
        ]

    def _pnl_style(self, value: int):
        if not value:
            return None
        return self.style("pane--gain") if value > 0 else self.style("pane--loss")

    def _accounts_line(self) -> Text:
        s = self.style
        t = Text(no_wrap=True, end="")
        accounts: list[AccountState] = [a for _, a in sorted(self.cache.accounts.items())]
        if not accounts:
            venues = getattr(self.session, "venues", {}).values()
            if any(getattr(v, "can_trade", False) for v in venues):
                t.append("Account: waiting for account state…", s("pane--dim"))
            else:
                t.append("Account: none (these venues are read-only market data)", s("pane--dim"))
            return t
        for i, a in enumerate(accounts):
            if i:
                t.append("   ")
            t.append(a.venue, s("pane--title"))
            t.append("  equity ", s("pane--label"))
            t.append(f"${usd(a.equity)}")
            t.append("  free ", s("pane--label"))
            t.append(f"${usd(a.free_collateral)}")
            t.append("  lev ", s("pane--label"))
            t.append(fmt.leverage(a.leverage_bps))
            t.append("  health ", s("pane--label"))
            t.append(f"{a.health}%", s("pane--gain") if a.health >= 50 else s("pane--warn"))
        return t
