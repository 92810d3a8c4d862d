"""Funding and borrow history of one market: each venue's hourly rate as bars
around a zero line, one column an hour, with the averages a carry trade is
judged by.

Opened on demand with ``SOL-PERP FHIST`` (over the layout when the layout has
no such pane; Esc closes it), or kept in a layout as ``type = "fundhist"``.
Drift's history reaches back 30 days (its data API); other venues' starts when
the terminal does. ``[``/``]`` change the market.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from typing import Any, ClassVar

from rich.style import Style
from rich.text import Text

from quantdesk.console import format as fmt
from quantdesk.console import sparkline
from quantdesk.console.panes.base import Pane, PaneSession
from quantdesk.core.model import SECONDS_PER_YEAR
from quantdesk.core.rate_history import HOUR_NS

MINUTE_NS = 60 * 1_000_000_000
CHART_ROWS_MAX = 12
CHART_ROWS_MIN = 2
AXIS = 12  # the right-hand labels: +0.0125%/h


def average(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return sum(known) // len(known) if known else None


class FundingHistoryPane(Pane):
    pane_type = "fundhist"

    COMPONENT_CLASSES: ClassVar[set[str]] = Pane.COMPONENT_CLASSES | {"funding--borrow-bar"}
    DEFAULT_CSS = """
    FundingHistoryPane > .funding--borrow-bar { color: $warn 70%; }
    """

    def __init__(self, session: PaneSession, *, market: str | None = None, **kw: Any) -> None:
        super().__init__(session, **kw)
        self.market = market

    def on_mount(self) -> None:
        self._ensure_market()

    def _ensure_market(self) -> None:
        if self.market is None:
            symbols = self.ordered_symbols()
            if symbols:
                self.market = symbols[0]
        if self.market:
            title = f"{self.pane_title} {self.market}"
            if title != self.border_title:
                self.border_title = title

    def select(self, venue: str | None = None, market: str | None = None) -> None:
        if market is not None:
            self.market = market
        self._ensure_market()
        self.invalidate()

    def cycle_market(self, step: int) -> None:
        self._ensure_market()
        symbols = self.ordered_symbols()
        if symbols:
            i = symbols.index(self.market) if self.market in symbols else -step
            self.select(market=symbols[(i + step) % len(symbols)])

    def cycle_venue(self, step: int) -> None:
        """Every venue of the market is shown: nothing to step through."""

    def state_key(self, now_ns: int) -> Hashable:
        self._ensure_market()
        return (self.market, self.cache.rev["funding"], len(self.cache.markets), now_ns // MINUTE_NS)

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        cache = self.cache
        symbol = self.market or ""
        venues = sorted(v for (v, sym) in cache.markets if sym == symbol)
        shown = [v for v in venues if (v, symbol) in cache.funding_history]
        if not shown:
            return self.message([f"No funding or borrow history of {symbol or 'any market'} yet.",
                                 "Rates are kept hourly from the first one a venue sends; Drift's go back 30 days."])
        s = self.style
        hours = max(1, width - AXIS - 1)
        lines = [Text.assemble(("Hourly rates, one column an hour, the newest at the right; ", s("pane--dim")),
                               ("+ longs pay", s("pane--gain")), (", ", s("pane--dim")), ("− shorts pay", s("pane--loss")),
                               (", borrow: every position pays the pool.", s("pane--dim")), no_wrap=True, end="")]
        per_venue = max(CHART_ROWS_MIN + 3, (height - len(lines)) // len(shown))
        rows = max(CHART_ROWS_MIN, min(CHART_ROWS_MAX, per_venue - 3)) // 2 * 2
        for venue in shown:
            lines.extend(self._venue(venue, symbol, hours, rows, now_ns))
        return lines

    def _venue(self, venue: str, symbol: str, hours: int, rows: int, now_ns: int) -> list[Text]:
        s = self.style
        cache = self.cache
        f = cache.funding.get((venue, symbol))
        borrow = f is not None and f.kind == "borrow"
        values = cache.funding_history[(venue, symbol)].last(hours, now_ns)
        day = values[-24:]
        week = values[-168:]
        head = Text(no_wrap=True, end="")
        head.append(f"{venue} ", s("pane--title"))
        head.append("borrow" if borrow else "funding", s("pane--warn") if borrow else s("pane--label"))
        for label, value in (("now", values[-1]), ("24h avg", average(day)), ("7d avg", average(week))):
            head.append(f"  {label} ", s("pane--dim"))
            head.append(fmt.rate_pct(value, sign=not borrow), self._sign_style(value, borrow))
            if value is not None:
                head.append(f" ({fmt.apr_pct(value * SECONDS_PER_YEAR // 3_600, sign=not borrow)}/yr)", s("pane--dim"))
        known = [v for v in values if v is not None]
        head.append(f"  {len(known)}h known", s("pane--dim"))
        scale = sparkline.magnitude(values)
        up = s("funding--borrow-bar") if borrow else s("pane--gain")
        bars = sparkline.signed_bars(values, rows, scale, up, s("pane--loss"), s("pane--dim"), s("").bgcolor,
                                     signed=not borrow)
        labels: dict[int, str] = (
            {0: fmt.rate_pct(scale, sign=False), rows - 1: "0"} if borrow
            else {0: fmt.rate_pct(scale, sign=True), rows // 2 - 1: "0", rows - 1: fmt.rate_pct(-scale, sign=True)}
        )
        out = [head]
        for r, line in enumerate(bars):
            axis = labels.get(r)
            if axis is not None:
                line.append(" " + axis.rjust(AXIS - 1), s("pane--dim"))
            out.append(line)
        out.append(self._time_axis(hours, now_ns))
        return out

    def _time_axis(self, hours: int, now_ns: int) -> Text:
        """A label at each day's start (and at noon when there is room)."""
        first = now_ns - now_ns % HOUR_NS - (hours - 1) * HOUR_NS
        cells = [" "] * hours
        end = -1
        step = 12 if hours <= 24 * 5 else 24
        for x in range(hours):
            ts = (first + x * HOUR_NS) // 1_000_000_000
            hour = ts // 3_600 % 24
            if hour % step or x <= end:
                continue
            text = time.strftime("%d %b" if hour == 0 else "%H:%M", time.gmtime(ts))
            if x + len(text) > hours:
                break
            cells[x : x + len(text)] = text
            end = x + len(text)
        return Text("".join(cells), self.style("pane--dim"), no_wrap=True, end="")

    def _sign_style(self, value: int | None, borrow: bool) -> Style | str:
        if value is None or value == 0 or borrow:
            return ""
        return self.style("pane--gain" if value > 0 else "pane--loss")
