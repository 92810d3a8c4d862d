"""Funding and borrow rates for every market on every venue.

Perp funding (paid between longs and shorts) and pool borrow fees (paid by
both sides to the pool) sit in one table in the same annualized units, the
``Type`` column saying which is which, so a trader can compare carry across
venues at a glance.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import ClassVar

from rich.style import Style
from rich.text import Text

from quantdesk.core.insights.carry import HoldSide, holding_cost
from quantdesk.core.model import Funding, MarkPrice, Market, OraclePrice
from quantdesk.console import format as fmt
from quantdesk.console import sparkline
from quantdesk.console.panes.base import Column, Pane, Table

HOUR_S = 3600
HOLD_SIDES: tuple[HoldSide, HoldSide] = ("long", "short")

# As the pane narrows, columns go highest ``drop`` first: the open interest,
# then when the rate next applies and the next rate; market, venue, rate and
# APR always stay.
COLUMNS = [
    Column("Market", 8, "left"),
    Column("Venue", 9, "left"),
    Column("Type", 7, "left", drop=1),
    Column("Rate 1h", 9),
    Column("Next 1h", 9, drop=4),
    Column("APR", 8),
    Column("Pays in", 7, drop=5),
    Column("OI long", 8, drop=7),
    Column("OI short", 8, drop=6),
    Column("OI $", 7, drop=2),
]
PREMIUM_COLUMNS = [
    Column("Premium", 8, "left"),
    Column("Venue", 9, "left"),
    Column("Mark", 12, drop=3),
    Column("Oracle", 12, drop=2),
    Column("Mark-oracle bp", 14),
    Column("Oracle conf bp", 14, drop=4),
]
CARRY_COLUMNS = [
    Column("Carry/yr", 8, "left"),
    Column("Cheapest long", 22, "left"),
    Column("Cheapest short", 22, "left", drop=1),
]
HISTORY_MIN = 16  # hours of rate history shown at least, when the pane is HISTORY_PANE_MIN wide
HISTORY_MAX = 48
HISTORY_PANE_MIN = 60
FOOTNOTE = "Rates per hour, + longs pay shorts. Borrow: both sides pay the pool. Carry − = you are paid."
FOOTNOTE_SHORT = "Per hour; + longs pay. Carry − = paid."


def _one_line(values: list[int | None], scale: int, up: Style, down: Style, zero: Style) -> Text:
    """A history in one line: each hour's size in eighths, its sign by colour."""
    text = Text(no_wrap=True, end="")
    for v in values:
        if v is None:
            text.append(" ")
        elif v == 0:
            text.append(sparkline.ZERO, zero)
        else:
            text.append(sparkline.EIGHTHS[max(1, -(-abs(v) * 8 // max(1, scale)))], up if v > 0 else down)
    return text


def hourly(rate: int, interval_s: int) -> int:
    """A per-interval rate restated per hour, so venues with other intervals compare."""
    return rate * HOUR_S // interval_s


class FundingPane(Pane):
    pane_type = "funding"

    COMPONENT_CLASSES: ClassVar[set[str]] = Pane.COMPONENT_CLASSES | {"funding--borrow-bar"}
    DEFAULT_CSS = """
    FundingPane > .funding--borrow-bar { color: $warn 50%; }
    """

    def state_key(self, now_ns: int) -> Hashable:
        rev = self.cache.rev
        # Countdowns tick once a second even when no rate changed.
        return (
            rev["funding"],
            rev["oi"],
            rev["oracle"],
            rev["mark"],
            len(self.cache.markets),
            now_ns // 1_000_000_000,
            self.health_key(now_ns),
        )

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        cache = self.cache
        if not cache.markets:
            return self.message(["Waiting for venues to list their markets…"])
        s = self.style
        # Rate history beside the table, in the room the columns leave: the numbers come
        # first (open interest included), the bars only when HISTORY_MIN hours fit
        # (FHIST shows the whole history on demand).
        table = Table(COLUMNS).fit(width)
        spare = width - table.width - 1
        hours = min(HISTORY_MAX, spare) if width >= HISTORY_PANE_MIN and spare >= HISTORY_MIN else 0
        header = table.header(s("pane--header"))
        if hours:
            header = header.copy()
            header.append(" " + f"Last {hours}h, 1/h".ljust(hours)[:hours], s("pane--header"))
        lines = [*self.health_lines(now_ns), header]
        symbols = self.ordered_symbols()
        # Rows are remade only when what they show moved (a rate, the open
        # interest, an oracle, the countdown's second): the premiums below
        # move with every mark, the rates far less often.
        self.pieces.start((width, height, len(cache.markets)))
        second = now_ns // 1_000_000_000
        rows: list[tuple[Hashable, Text, list[int | None], Funding | None]] = []
        for symbol in symbols:
            venues = sorted(v for v, sym in cache.markets if sym == symbol)
            for i, venue in enumerate(venues):
                key = (venue, symbol)
                market = cache.markets[key]
                f = cache.funding.get(key)
                history = cache.funding_history.get(key)
                values: list[int | None] = history.last(hours, now_ns) if history is not None and hours else [None] * hours
                shown = symbol if i == 0 else ""
                oracle = cache.oracle.get(key)
                inputs = ("rate", key, shown, f, cache.open_interest.get(key), None if oracle is None else oracle.price, second)
                row = self.pieces.get(inputs, lambda: table.row(self._cells(market, shown, f, now_ns)))
                rows.append((inputs, row, values, f))
        tall = hours > 0 and len(lines) + 2 * len(rows) + self._rest_height(symbols) <= height
        # One scale for all funding rows and one for all borrow rows: the bars compare across markets.
        scales: dict[str, int] = {}
        for _inputs, _row, values, f in rows:
            kind = f.kind if f is not None else "funding"
            scales[kind] = max(scales.get(kind, 0), sparkline.magnitude(values))
        for made_from, row, values, f in rows:
            scale = scales.get(f.kind if f is not None else "funding", 0)
            lines.extend(self.pieces.get(
                ("history", made_from, tuple(values), tall, scale),
                lambda: self._with_history(row, values, f, table.width, tall, scale),
            ))
        lines.append(Text(""))
        lines.extend(self._premiums(symbols, width))
        lines.append(Text(""))
        carry = Table(CARRY_COLUMNS).fit(width)
        lines.append(carry.header(s("pane--header")))
        for symbol in symbols:
            rates = tuple(f for (_v, sym), f in cache.funding.items() if sym == symbol)
            lines.append(self.pieces.get(
                ("carry", symbol, rates),
                lambda: carry.row([(symbol, s("pane--title")), *self._cheapest(rates)]),
            ))
        lines.append(Text(""))
        lines.append(
            Text(
                FOOTNOTE if len(FOOTNOTE) <= width else FOOTNOTE_SHORT,
                s("pane--dim"),
                no_wrap=True,
                end="",
            )
        )
        return lines

    def _rest_height(self, symbols: list[str]) -> int:
        """Lines below the rates table: the premiums, the carry table, the footnote and the gaps."""
        funding_rows = sum(1 for (_v, sym), f in self.cache.funding.items() if sym in symbols and f.kind == "funding")
        return 1 + (1 + funding_rows) + 1 + (1 + len(symbols)) + 1 + 1

    def _with_history(
        self, row: Text, values: list[int | None], f: Funding | None, at: int, tall: bool, scale: int
    ) -> list[Text]:
        """The rates row with its history: two lines around a zero line when the pane
        has room, else one line of bars coloured by sign."""
        if not values:
            return [row]
        s = self.style
        borrow = f is not None and f.kind == "borrow"
        up = s("funding--borrow-bar") if borrow else s("pane--gain")
        down = s("pane--loss")
        row = row.copy()
        row.append(" " * max(1, at - row.cell_len + 1))
        if not tall:
            row.append_text(_one_line(values, scale, up, down, s("pane--dim")))
            return [row]
        top, bottom = sparkline.signed_bars(values, 2, scale, up, down, s("pane--dim"), s("").bgcolor, signed=not borrow)
        row.append_text(top)
        under = Text(" " * (at + 1), no_wrap=True, end="")
        under.append_text(bottom)
        return [row, under]

    def _premiums(self, symbols: list[str], width: int) -> list[Text]:
        """Mark against oracle per funding venue: the premium that drives the next rate."""
        s = self.style
        cache = self.cache
        table = Table(PREMIUM_COLUMNS).fit(width)
        lines = [table.header(s("pane--header"))]
        for symbol in symbols:
            venues = sorted(v for (v, sym), f in cache.funding.items() if sym == symbol and f.kind == "funding")
            for i, venue in enumerate(venues):
                key = (venue, symbol)
                market = cache.markets.get(key)
                mark, oracle = cache.mark.get(key), cache.oracle.get(key)
                if market is None or mark is None or oracle is None:
                    continue
                inputs = ("premium", key, i == 0, mark.price, oracle.price, oracle.confidence)
                lines.append(self.pieces.get(inputs, lambda: self._premium_row(table, market, i == 0, mark, oracle)))
        return lines

    def _premium_row(self, table: Table, market: Market, first: bool, mark: MarkPrice, oracle: OraclePrice) -> Text:
        s = self.style
        decimals = fmt.price_decimals(market, oracle.price)
        premium = fmt.ratio_bps(mark.price - oracle.price, oracle.price)
        conf = fmt.ratio_bps(oracle.confidence, oracle.price) if oracle.confidence else None
        return table.row(
            [
                (market.symbol if first else "", s("pane--title")),
                (market.venue, s("pane--dim")),
                fmt.price(mark.price, market, decimals=decimals),
                (fmt.price(oracle.price, market, decimals=decimals), s("pane--dim")),
                (fmt.bps(premium, sign=True), self._rate_style(int(premium or 0), False)),
                (fmt.bps(conf), s("pane--dim")),
            ]
        )

    def _cheapest(self, rates: tuple[Funding, ...]) -> list[tuple[str, Style | None]]:
        out: list[tuple[str, Style | None]] = []
        for side in HOLD_SIDES:
            if not rates:
                out.append(("—", self.style("pane--dim")))
                continue
            best = min(rates, key=lambda f: (holding_cost(f, side), f.venue))
            cost = holding_cost(best, side)
            out.append((f"{best.venue} {fmt.apr_pct(cost)}", self._rate_style(-cost, False)))
        return out

    def _cells(self, market: Market, shown: str, f: Funding | None, now_ns: int) -> list:
        s = self.style
        cache = self.cache
        key = (market.venue, market.symbol)
        cells: list = [(shown, s("pane--title")), (market.venue, s("pane--dim"))]
        if f is None:
            cells += [("—", s("pane--dim"))] * 6
        else:
            borrow = f.kind == "borrow"
            cells += [
                ("borrow" if borrow else "funding", s("pane--warn") if borrow else s("pane--label")),
                (fmt.rate_pct(hourly(f.rate, f.interval_s), sign=not borrow), self._rate_style(f.rate, borrow)),
                (
                    fmt.rate_pct(hourly(f.predicted_rate, f.interval_s), sign=not borrow),
                    self._rate_style(f.predicted_rate, borrow),
                ),
                (fmt.apr_pct(f.annualized, sign=not borrow), self._rate_style(f.rate, borrow)),
                (fmt.countdown(f.next_ts - now_ns if f.next_ts else None), None),
            ]
        oi = cache.open_interest.get(key)
        if oi is None:
            cells += [("—", s("pane--dim"))] * 3
        else:
            oracle = cache.oracle.get(key)
            notional = None
            if oracle is not None:
                notional = (oi.long + oi.short) * oracle.price // 10**market.size_decimals
            cells += [
                (fmt.compact(oi.long, market.size_decimals), s("pane--bid")),
                (fmt.compact(oi.short, market.size_decimals), s("pane--ask")),
                (fmt.compact(notional, market.price_decimals, prefix="$"), None),
            ]
        return cells

    def _rate_style(self, rate: int, borrow: bool) -> Style | None:
        if borrow or rate == 0:
            return None
        # Coloured by sign, as venues show it: positive (longs pay) green.
        return self.style("pane--gain") if rate > 0 else self.style("pane--loss")
