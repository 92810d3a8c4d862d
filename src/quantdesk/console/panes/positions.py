"""Open positions per venue and market, and each account's equity.

Close the selected position (c) or all of them (C), each after a confirmation,
with reduce-only market orders through the App's router."""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding

from quantdesk.core.model import PRICE_DECIMALS, AccountState, Market, Position
from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, Table
from quantdesk.console.panes.row_cursor import CURSOR_CSS_CLASS
from quantdesk.console.panes.selectable import SelectablePane, pane_binding

# Risk first: market, side, size, uPnL and Liq never go. As the pane narrows,
# rPnL goes first, then Lev, Entry, Mark, Venue and Margin; narrower still,
# the compact form folds the side into a signed size and names the base asset.
COLUMNS = [
    Column("Market", 8, "left"),
    Column("Venue", 9, "left", drop=2),
    Column("Side", 5, "left"),
    Column("Size", 8),
    Column("Entry", 9, drop=4),
    Column("Mark", 9, drop=3),
    Column("uPnL", 9),
    Column("rPnL", 8, drop=6),
    Column("Liq", 9),
    Column("Lev", 5, drop=5),
    Column("Margin", 8, drop=1),
]
COMPACT = [
    Column("Mkt", 5, "left"),
    Column("Size", 9),
    Column("uPnL", 9),
    Column("Liq", 9),
]


def usd(value: int | None, *, sign: bool = False) -> str:
    """Quote amounts are held at price precision (1e6 USD)."""
    return fmt.fixed(value, PRICE_DECIMALS, 2, sign=sign)


class PositionsPane(SelectablePane):
    pane_type = "positions"

    BINDINGS: ClassVar = [
        Binding("up", "cursor(-1)", "previous position", show=False, id="positions.cursor_up"),
        Binding("down", "cursor(1)", "next position", show=False, id="positions.cursor_down"),
        pane_binding("positions.close", "close_selected"),
        pane_binding("positions.close_all", "close_all"),
    ]


    def state_key(self, now_ns: int) -> Hashable:
        rev = self.cache.rev
        return (rev["position"], rev["account"], rev["mark"], self.cursor.key)

    # -- selection and closing -----------------------------------------------
    def open_positions(self) -> list[Position]:
        return [p for _, p in sorted(self.cache.positions.items()) if p.base != 0]

    def selected(self) -> Position | None:
        rows = self.open_positions()
        i = self.cursor.pick([(p.venue, p.market) for p in rows])
        return None if i is None else rows[i]

    def selected_market(self) -> tuple[str, str] | None:
        p = self.selected()
        return None if p is None else (p.venue, p.market)

    def row_keys(self) -> list[Hashable]:
        return [(p.venue, p.market) for p in self.open_positions()]

    def _confirm_close(self, positions: list[Position], title: str) -> None:
        from quantdesk.console.confirm import ConfirmScreen

        trading = getattr(self.app, "trading", None)  # the App's TradingController
        if not positions:
            self.app.notify("No open position to close.", severity="warning")
            return
        if trading is None:
            return
        detail = "\n".join(
            f"{'LONG' if p.base > 0 else 'SHORT'} {self.size_text(p)} {p.market} on {p.venue} "
            "with a reduce-only market order"
            for p in positions
        )
        keys = [(p.venue, p.market) for p in positions]

        async def answered(yes: bool | None) -> None:
            if yes:
                await trading.close_positions(keys)

        self.app.push_screen(ConfirmScreen(title, detail, yes="close"), answered)

    def size_text(self, p: Position) -> str:
        market = self.cache.markets.get((p.venue, p.market))
        return fmt.size(abs(p.base), market) if market else fmt.fixed(abs(p.base), 9, 4)

    def action_close_selected(self) -> None:
        p = self.selected()
        self._confirm_close([p] if p else [], f"Close {p.market} on {p.venue}?" if p else "")

    def action_close_all(self) -> None:
        rows = self.open_positions()
        self._confirm_close(rows, f"Close all {len(rows)} position{'s' if len(rows) != 1 else ''}?")

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        s = self.style
        cache = self.cache
        table = Table(COLUMNS).fit(width)
        compact = table.width > width
        if compact:
            table = Table(COMPACT)
        lines = [*self._accounts_lines(width), table.header(s("pane--header"))]
        positions = [p for _, p in sorted(cache.positions.items()) if p.base != 0]
        if not positions:
            lines.append(Text(""))
            lines.append(Text("No open positions", s("pane--dim"), end=""))
            return lines
        i = self.cursor.pick([(p.venue, p.market) for p in positions])
        for k, p in enumerate(positions):
            market = cache.markets.get((p.venue, p.market))
            row = table.row(self._compact_cells(p, market) if compact else self._cells(p, market))
            if k == i and len(positions) > 1:
                row.stylize(s(CURSOR_CSS_CLASS))
            lines.append(row)
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

    def _compact_cells(self, p: Position, market: Market | None) -> list:
        s = self.style
        full = self._cells(p, market)
        base = market.base if market else p.market.split("-", 1)[0]
        sign = "+" if p.base > 0 else "-"
        return [(base, s("pane--title")), (sign + full[3][0], full[2][1]), full[6], full[8]]

    def _pnl_style(self, value: int) -> Style | None:
        if not value:
            return None
        return self.style("pane--gain") if value > 0 else self.style("pane--loss")

    def _accounts_lines(self, width: int) -> list[Text]:
        """Every account on one line if it fits, else one line each, in a
        shorter form where even that is too wide: equity is never cut."""
        line = self._accounts_line()
        accounts = [a for _, a in sorted(self.cache.accounts.items())]
        if line.cell_len <= width or len(accounts) < 1:
            return [line]
        equities = self._equities_line(accounts)
        if equities.cell_len <= width:
            return [equities]
        out = []
        for a in accounts:
            # Narrower and narrower forms; the last one (equity and health) is kept whatever the width.
            for level in (0, 1, 2, 3):
                line = self._accounts_line([a], level=level)
                if line.cell_len <= width:
                    break
            out.append(line)
        return out

    def _equities_line(self, accounts: list[AccountState]) -> Text:
        """``sim-drift $9,998.98 sim-jup $10,000.00``: each venue's equity alone."""
        t = Text(no_wrap=True, end="")
        for i, a in enumerate(accounts):
            if i:
                t.append(" ")
            t.append(a.venue, self.style("pane--title"))
            t.append(f" ${usd(a.equity)}")
        return t

    def _accounts_line(self, only: list[AccountState] | None = None, *, level: int = 0) -> Text:
        """``level`` 0 is the full line; 1 drops leverage and shortens labels;
        2 shows free collateral compact ($10.0K); 3 leaves it out."""
        s = self.style
        short = level >= 1
        t = Text(no_wrap=True, end="")
        accounts: list[AccountState] = only if only is not None else [a for _, a in sorted(self.cache.accounts.items())]
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
            t.append(" eq " if short else "  equity ", s("pane--label"))
            t.append(f"${usd(a.equity)}")
            if level < 3:
                t.append(" free " if short else "  free ", s("pane--label"))
                if level < 2:
                    t.append(f"${usd(a.free_collateral)}")
                else:
                    t.append(fmt.compact(a.free_collateral, PRICE_DECIMALS, prefix="$"))
            if not short:
                t.append("  lev ", s("pane--label"))
                t.append(fmt.leverage(a.leverage_bps))
            t.append(" h " if short else "  health ", s("pane--label"))
            t.append(f"{a.health}%", s("pane--gain") if a.health >= 50 else s("pane--warn"))
        return t
