"""Cross-venue prices: each venue's touch and mid per market, the best bid and
ask across venues, each venue's basis against the reference venue, and the
liquidity each venue offers near its mid.

Touches, best prices, the reference venue and basis come from
``quantdesk.core.spreads``, the same functions ``quantdesk show spreads`` prints,
so the pane and scripts always agree. All rows of one market use the same
number of decimals so prices line up across venues.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal

from rich.style import Style
from rich.text import Text

from quantdesk.core.insights.book import depth_within
from quantdesk.core.model import Market
from quantdesk.core.spreads import MarketSpread, VenueQuote, market_spread
from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, Pane, Table

LIQUIDITY_BAND_BPS = 10

COLUMNS = [
    Column("Market", 8, "left"),
    Column("Venue", 9, "left", min_width=7),
    Column("Bid", 11, min_width=9),
    Column("Ask", 11, min_width=9),
    Column("Mid", 12, drop=3),
    Column("Sprd bp", 7, drop=1),
    Column("Basis bp", 8, drop=2),
    Column("Oracle", 11, drop=4),
    Column(f"Liq ±{LIQUIDITY_BAND_BPS}bp", 10, drop=5),
]


class SpreadsPane(Pane):
    pane_type = "spreads"

    def state_key(self, now_ns: int) -> Hashable:
        rev = self.cache.rev
        return (rev["book"], rev["oracle"], len(self.cache.markets), self.health_key(now_ns))

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        cache = self.cache
        if not cache.markets:
            return self.message(["Waiting for venues to list their markets…"])
        s = self.style
        table = Table(COLUMNS).fit(width)
        lines = [*self.health_lines(now_ns), table.header(s("pane--header"))]
        # A venue's row is remade only when what it shows moved: its touch,
        # basis, oracle or book. Most frames move one venue of one market.
        self.pieces.start((width, len(cache.markets)))
        for symbol in self.ordered_symbols():
            lines.extend(self._market_lines(symbol, table, width))
        return lines

    def _market_lines(self, symbol: str, table: Table, width: int) -> list[Text]:
        ms = market_spread(self.cache, symbol)
        if not ms.quotes:
            return []
        ref = next((q for q in ms.quotes if q.venue == ms.reference), ms.quotes[0])
        places = fmt.price_decimals(ref.market, ref.bid or ref.ask)
        lines = [
            self.pieces.get(
                (q, symbol if i == 0 else "", places, ms.reference, ms.basis.get(q.venue), *self._inputs(q.market)),
                lambda: table.row(self._cells(ms, q, symbol if i == 0 else "", places)),
            )
            for i, q in enumerate(ms.quotes)
        ]
        best = (symbol, ms.best_bid, ms.best_ask, ms.crossed, places)
        lines.append(self.pieces.get(best, lambda: self._best_line(ms, places, table, width)))
        return lines

    def _inputs(self, m: Market) -> tuple[Hashable, Hashable]:
        """What a venue's row reads besides its quote: its oracle and its book (for the liquidity)."""
        book, oracle = self.cache.books.get((m.venue, m.symbol)), self.cache.oracle.get((m.venue, m.symbol))
        return (
            None if oracle is None else oracle.price,
            None if book is None else (id(book), book.seq, book.ts, book.needs_resync),
        )

    def _cells(self, ms: MarketSpread, q: VenueQuote, shown: str, places: int) -> list:
        s = self.style
        m = q.market
        mid = q.mid
        spread_bp = fmt.ratio_bps(q.ask - q.bid, (q.ask + q.bid) / Decimal(2)) if q.bid and q.ask else None
        basis: tuple[str, Style | None]
        if q.venue == ms.reference:
            basis = ("ref", s("pane--dim"))
        elif q.venue in ms.basis:
            b = ms.basis[q.venue]
            basis = (fmt.bps(b, sign=True), s("pane--gain") if b > 0 else s("pane--loss") if b < 0 else None)
        elif q.crossed:
            basis = ("crossed", s("pane--warn"))  # its own book is crossed: left out of best and basis
        else:
            basis = ("—", s("pane--dim"))
        oracle = self.cache.oracle.get((m.venue, m.symbol))
        liquidity = None
        book = self.cache.books.get((m.venue, m.symbol))
        if book is not None and mid is not None and not book.needs_resync:
            band = depth_within(book, LIQUIDITY_BAND_BPS, m.size_decimals)
            liquidity = None if band is None else band.notional
        return [
            (shown, s("pane--title")),
            (q.venue, s("pane--dim")),
            (fmt.price(q.bid, m, decimals=places), s("pane--bid")),
            (fmt.price(q.ask, m, decimals=places), s("pane--ask")),
            (fmt.quote_units(mid, min(m.price_decimals, places + 1)), s("pane--mid")),
            (fmt.bps(spread_bp), None),
            basis,
            (fmt.price(oracle.price if oracle else None, m, decimals=places), s("pane--dim")),
            (fmt.compact(liquidity, m.price_decimals, prefix="$"), None),
        ]

    def _best_line(self, ms: MarketSpread, places: int, table: Table, width: int) -> Text:
        """Best bid and best ask across venues; flags a cross-venue arbitrage."""
        s = self.style
        cols = table.all_columns  # as fitted: narrowed to the pane
        t = Text(no_wrap=True, end="")
        t.append(" " * (cols[0].width + 1))
        t.append("best".ljust(cols[1].width + 1), s("pane--label"))
        bid, ask = ms.best_bid, ms.best_ask
        if bid is None or ask is None:
            t.append("no two-sided quote yet", s("pane--dim"))
            return t
        t.append(fmt.quote_units(bid.price, places).rjust(cols[2].width) + " ", s("pane--bid"))
        t.append(fmt.quote_units(ask.price, places).rjust(cols[3].width) + " ", s("pane--ask"))
        gap = fmt.ratio_bps(ask.price - bid.price, (ask.price + bid.price) / 2)
        if ms.crossed:
            arb = f"ARB {fmt.bps(-gap if gap is not None else None)}bp"
            t.append(arb.rjust(cols[4].width) + " ", s("pane--warn"))
        elif table.shows(cols[4].header):
            t.append(" " * (cols[4].width + 1))
        if table.shows(cols[5].header):
            t.append(fmt.bps(gap).rjust(cols[5].width), s("pane--label"))
            where = f"  bid {bid.venue} · ask {ask.venue}"
            if t.cell_len + len(where) <= width:  # whole or not at all: half a venue name misleads
                t.append(where, s("pane--dim"))
        return t
