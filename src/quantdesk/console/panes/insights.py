"""Insights: what the desk should look at now, ranked, with the numbers behind it.

The board comes first: positions near liquidation, then opportunities by what
they earn per $10k (a cross between venues, a carry pair), then signals (a
skewed book, a mark away from its oracle, a funding rate about to turn). Below
it, the figures every insight is drawn from: each position's risk, the best
carry pairs, what a market order of each size costs on every venue side by
side, each venue's carry and basis. Everything comes from
``quantdesk.core.insights`` (``InsightsEngine``), as ``quantdesk show insights``
prints it.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from rich.style import Style
from rich.text import Text

from quantdesk.core.insights import Insight, InsightsEngine, InsightsReport
from quantdesk.core.insights.impact import ImpactQuote
from quantdesk.core.model import PRICE_DECIMALS, RATE_SCALE
from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, Pane, PaneSession, Table

PAIRS_SHOWN = 3
MARKERS = {"warning": "!", "opportunity": "+", "signal": "~"}
KIND_LABELS = {
    "liquidation": "LIQ",
    "cross": "CROSS",
    "carry": "CARRY",
    "imbalance": "BOOK",
    "basis": "BASIS",
    "funding-turn": "FUND",
}

POSITION_COLUMNS = [
    Column("Position", 8, "left"),
    Column("Venue", 9, "left", drop=3),
    Column("Side", 5, "left"),
    Column("To liq", 7),
    Column("σ/day", 6),
    Column("Vol/day", 7, drop=4),
    Column("Funding", 9),
    Column("Fees", 8, drop=2),
    Column("Break-even", 11),
]
PAIR_COLUMNS = [
    Column("Carry pair", 10, "left"),
    Column("Long", 9, "left"),
    Column("Short", 9, "left"),
    Column("Carry/yr", 8),
    Column("$/day", 7),
    Column("Open $", 7, drop=2),
    Column("Net/day", 8),
    Column("Payback", 8, drop=1),
]
RATE_COLUMNS = [
    Column("Carry", 8, "left"),
    Column("Venue", 9, "left"),
    Column("Kind", 7, "left", drop=3),
    Column("Long/yr", 8),
    Column("Short/yr", 8),
    Column("Next/yr", 8, drop=2),
    Column("Next $", 7, drop=1),
    Column("In", 7, drop=4),
]
BASIS_COLUMNS = [
    Column("Basis", 8, "left"),
    Column("Venue", 9, "left"),
    Column("Mark", 11, drop=3),
    Column("Oracle", 11, drop=2),
    Column("Index", 11, drop=4),
    Column("Prem bp", 8),
    Column("Orc-idx bp", 10, drop=1),
]


def usd(value: int | None, places: int = 2) -> str:
    """Quote at price precision as dollars."""
    return fmt.fixed(value, PRICE_DECIMALS, places, sign=bool(value and value < 0))


def notional_label(notional: int) -> str:
    """$1K, $10K, $250K, $1M, $2.5M: a ladder rung's size in a column header."""
    dollars = Decimal(notional).scaleb(-PRICE_DECIMALS)
    for unit, suffix in ((Decimal(10**6), "M"), (Decimal(10**3), "K")):
        if dollars >= unit:
            return f"${(dollars / unit).normalize():f}{suffix}"
    return f"${dollars.normalize():f}"


def per_year(value: Decimal | None) -> str:
    return fmt.apr_pct(None if value is None else int(value * RATE_SCALE))


class InsightsPane(Pane):
    pane_type = "insights"

    def __init__(self, session: PaneSession, **kw: Any) -> None:
        super().__init__(session, **kw)
        self.engine = InsightsEngine()

    def state_key(self, now_ns: int) -> Hashable:
        rev = self.cache.rev
        # Countdowns to the next payment tick once a second.
        return (
            rev["book"],
            rev["oracle"],
            rev["mark"],
            rev["funding"],
            rev["position"],
            rev["trade"],
            len(self.cache.markets),
            now_ns // 1_000_000_000,
            self.health_key(now_ns),
        )

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        if not self.cache.markets:
            return self.message(["Waiting for venues to list their markets…"])
        report = self.engine.report(self.cache, now_ns)
        lines = [*self.health_lines(now_ns), *self._board(report, width)]
        for section in (self._positions, self._pairs, self._impact, self._rates, self._basis):
            if len(lines) >= height:
                break
            part = section(report, width, now_ns)
            if part:
                lines.append(Text(""))
                lines.extend(part)
        return lines

    # -- the ranked board ----------------------------------------------------------
    def _board(self, report: InsightsReport, width: int) -> list[Text]:
        s = self.style
        head = Text("Ranked: warnings, then opportunities per ", s("pane--header"), no_wrap=True, end="")
        head.append(f"${report.notional // 10**PRICE_DECIMALS:,}", s("pane--header"))
        head.append(", then signals", s("pane--header"))
        lines = [head]
        if not report.insights:
            lines.append(
                Text(
                    "Nothing stands out: no position near liquidation, no cross or carry pair earning "
                    "after costs, no skewed book.",
                    s("pane--dim"),
                )
            )
        for insight in report.insights:
            lines.extend(self._insight(insight, width))
        return lines

    def _insight(self, i: Insight, width: int) -> list[Text]:
        s = self.style
        tone = {"warning": "pane--warn", "opportunity": "pane--gain", "signal": "pane--label"}[i.severity]
        t = Text(no_wrap=True, end="")
        t.append(f"{MARKERS[i.severity]} {KIND_LABELS.get(i.kind, i.kind.upper()):<5} ", s(tone))
        t.append(f"{i.market:<9}", s("pane--title"))
        t.append(f"{' / '.join(i.venues):<19} ", s("pane--dim"))
        t.append(i.headline, s(tone) if i.severity == "warning" else None)
        detail = Text(" " * 8 + i.detail, s("pane--dim"), no_wrap=True, end="")
        return [t, detail]

    # -- the figures behind it -----------------------------------------------------------
    def _positions(self, report: InsightsReport, width: int, now_ns: int) -> list[Text]:
        if not report.positions:
            return []
        s = self.style
        table = Table(POSITION_COLUMNS).fit(width)
        lines = [table.header(s("pane--header"))]
        for r in report.positions:
            market = self.cache.markets[(r.venue, r.market)]
            long = r.base > 0
            near = r.distance is not None and r.distance < self.engine.thresholds.liquidation_distance
            lines.append(
                table.row(
                    [
                        (r.market, s("pane--title")),
                        (r.venue, s("pane--dim")),
                        ("LONG" if long else "SHORT", s("pane--bid") if long else s("pane--ask")),
                        (self._pct(r.distance), s("pane--warn") if near else None),
                        (fmt.bps(r.sigma, 1), None),
                        (self._pct(r.volatility), s("pane--dim")),
                        (usd(r.funding), self._signed(r.funding)),
                        (usd(r.fees), s("pane--dim")),
                        (fmt.price(r.break_even, market), None),
                    ]
                )
            )
        return lines

    def _pairs(self, report: InsightsReport, width: int, now_ns: int) -> list[Text]:
        if not report.pairs:
            return []
        s = self.style
        table = Table(PAIR_COLUMNS).fit(width)
        lines = [table.header(s("pane--header"))]
        for p in report.pairs[:PAIRS_SHOWN]:
            days = p.break_even_days
            lines.append(
                table.row(
                    [
                        (p.market, s("pane--title")),
                        (p.long_venue, s("pane--bid")),
                        (p.short_venue, s("pane--ask")),
                        (per_year(p.carry), self._signed(p.per_day)),
                        (usd(p.per_day), self._signed(p.per_day)),
                        (usd(p.open_cost), s("pane--dim")),
                        (usd(p.net_per_day), self._signed(p.net_per_day)),
                        ("never" if days is None else f"{fmt.bps(days, 1)}d", s("pane--dim")),
                    ]
                )
            )
        first = report.pairs[0]
        lines.append(
            Text(
                f"Per ${first.notional // 10**PRICE_DECIMALS:,} a leg; net spreads the cost of opening both legs "
                f"(impact + taker fee) over {first.horizon_days} days.",
                s("pane--dim"),
                no_wrap=True,
                end="",
            )
        )
        return lines

    def _impact(self, report: InsightsReport, width: int, now_ns: int) -> list[Text]:
        if not report.impact:
            return []
        s = self.style
        notionals = sorted({q.notional for q in report.impact})
        columns = [Column("Fill cost", 9, "left"), Column("Venue", 9, "left")]
        columns += [Column(notional_label(n), 11, drop=len(notionals) - k) for k, n in enumerate(notionals)]
        table = Table(columns).fit(width)
        lines = [table.header(s("pane--header"))]
        rows: dict[tuple[str, str], dict[tuple[str, int], ImpactQuote]] = {}
        for q in report.impact:
            rows.setdefault((q.market, q.venue), {})[(q.side, q.notional)] = q
        shown = ""
        for (symbol, venue), quotes in rows.items():
            cells: list[tuple[str, Style | None]] = [
                (symbol if symbol != shown else "", s("pane--title")),
                (venue, s("pane--dim")),
            ]
            shown = symbol
            for n in notionals:
                buy, sell = quotes.get(("buy", n)), quotes.get(("sell", n))
                cells.append((f"{self._cost(buy)}/{self._cost(sell)}", None))
            lines.append(table.row(cells))
        lines.append(
            Text(
                "bp buy/sell against the mid (pools: the oracle), taker fee included; > = more than the book holds.",
                s("pane--dim"),
                no_wrap=True,
                end="",
            )
        )
        return lines

    def _rates(self, report: InsightsReport, width: int, now_ns: int) -> list[Text]:
        if not report.carry:
            return []
        s = self.style
        table = Table(RATE_COLUMNS).fit(width)
        lines = [table.header(s("pane--header"))]
        shown = ""
        for c in sorted(report.carry, key=lambda c: (self._order(c.market), c.venue)):
            lines.append(
                table.row(
                    [
                        (c.market if c.market != shown else "", s("pane--title")),
                        (c.venue, s("pane--dim")),
                        (c.kind, s("pane--warn") if c.kind == "borrow" else s("pane--label")),
                        (per_year(c.long_cost), self._cost_style(c.long_cost)),
                        (per_year(c.short_cost), self._cost_style(c.short_cost)),
                        (per_year(c.predicted), s("pane--dim")),
                        (usd(c.next_long), self._signed(c.next_long)),
                        (fmt.countdown(c.next_ts - now_ns if c.next_ts else None), s("pane--dim")),
                    ]
                )
            )
            shown = c.market
        lines.append(
            Text(
                f"What holding costs a year (− = paid to hold); next $: a ${report.notional // 10**PRICE_DECIMALS:,} "
                "long's next payment at the predicted rate.",
                s("pane--dim"),
                no_wrap=True,
                end="",
            )
        )
        return lines

    def _basis(self, report: InsightsReport, width: int, now_ns: int) -> list[Text]:
        s = self.style
        table = Table(BASIS_COLUMNS).fit(width)
        lines = [table.header(s("pane--header"))]
        for mb in report.basis:
            for k, v in enumerate(mb.venues):
                lines.append(
                    table.row(
                        [
                            (mb.market if k == 0 else "", s("pane--title")),
                            (v.venue, s("pane--dim")),
                            self._quote(v.mark),
                            (self._quote(v.oracle), s("pane--dim")),
                            (self._quote(mb.index), s("pane--dim")),
                            (fmt.bps(v.premium_bps, sign=True), None),
                            (fmt.bps(v.oracle_index_bps, sign=True), None),
                        ]
                    )
                )
        return lines if len(lines) > 1 else []

    # -- cells ---------------------------------------------------------------------------
    def _order(self, symbol: str) -> int:
        order = self.ordered_symbols()
        return order.index(symbol) if symbol in order else len(order)

    @staticmethod
    def _pct(fraction: Decimal | None) -> str:
        return fmt.DASH if fraction is None else fmt.bps(fraction * 100, 2) + "%"

    @staticmethod
    def _cost(q: ImpactQuote | None) -> str:
        if q is None:
            return fmt.DASH
        if not q.complete:
            return ">"
        return fmt.bps(q.cost_bps, 1)

    def _quote(self, value: Decimal | None) -> str:
        if value is None:
            return fmt.DASH
        return fmt.quote_units(value, 4 if value < 10 else 2)

    def _signed(self, value: int) -> Style | None:
        if not value:
            return None
        return self.style("pane--gain") if value > 0 else self.style("pane--loss")

    def _cost_style(self, cost: Decimal) -> Style | None:
        if not cost:
            return None
        return self.style("pane--loss") if cost > 0 else self.style("pane--gain")
