"""Candles of one market on one venue, 1m to 1d, with volume and price levels.

Bars come from the venue's own candle service where it has one (Drift's data
API: the history, then the forming bar live), otherwise they are built from
the trades the venue prints (on a pool venue, from its oracle price, at which
it fills); the first line says which. The mark and oracle prices and, with a
position open, its entry and liquidation prices are drawn across the chart.

``[``/``]`` change the market, ``{``/``}`` the venue, ``+``/``-`` the timeframe.
New data redraws the chart at most four times a second; a key redraws it at once.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from rich.text import Text

from quantdesk.console import chart_canvas
from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Pane, PaneSession
from quantdesk.console.panes.selectable import pane_binding
from quantdesk.core.candles import DEFAULT_TIMEFRAME, TIMEFRAME_NAMES, parse_timeframe, step_timeframe
from quantdesk.core.model import Candle, Market
from quantdesk.venues.candle_feed import CandleFeed

REDRAW_NS = 250_000_000  # new data redraws at most this often


class ChartPane(Pane):
    pane_type = "chart"

    BINDINGS: ClassVar = [
        pane_binding("chart.timeframe_up", "timeframe(1)"),
        pane_binding("chart.timeframe_down", "timeframe(-1)"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = Pane.COMPONENT_CLASSES | {
        "chart--mark", "chart--oracle", "chart--entry", "chart--liq", "chart--volume-up", "chart--volume-down",
    }
    DEFAULT_CSS = """
    ChartPane > .chart--mark { color: $accent; }
    ChartPane > .chart--oracle { color: $text-muted; }
    ChartPane > .chart--entry { color: $warn; }
    ChartPane > .chart--liq { color: $loss; text-style: bold; }
    ChartPane > .chart--volume-up { color: $up 55%; }
    ChartPane > .chart--volume-down { color: $down 55%; }
    """

    def __init__(
        self,
        session: PaneSession,
        *,
        market: str | None = None,
        venue: str | None = None,
        timeframe: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(session, **kw)
        self.market = market
        self.venue = venue
        self.timeframe = parse_timeframe(timeframe) if timeframe else DEFAULT_TIMEFRAME
        self._drawn_view: tuple[str | None, str | None, str] | None = None
        self._drawn_ns = 0

    def on_mount(self) -> None:
        self._ensure_selection()

    def on_unmount(self) -> None:
        feed = self._feed()
        if feed is not None:
            feed.release(self)

    def _feed(self) -> CandleFeed | None:
        """The session's candle streams (a session without them: bars from trades only)."""
        feed = getattr(self.session, "candle_feed", None)
        return feed if isinstance(feed, CandleFeed) else None

    # -- selection ---------------------------------------------------------
    def _ensure_selection(self) -> None:
        cache = self.cache
        if self.venue is None:
            listing = sorted((m.kind != "clob", v) for (v, sym), m in cache.markets.items() if self.market in (None, sym))
            if listing:
                self.venue = listing[0][1]
        if self.market is None and self.venue is not None:
            symbols = self.ordered_symbols(self.venue)
            if symbols:
                self.market = symbols[0]
        self._update_title()
        self._watch()

    def _watch(self) -> None:
        feed = self._feed()
        if feed is not None and self.venue and self.market and self.is_attached:
            feed.watch(self, self.venue, self.market, self.timeframe)

    def select(self, venue: str | None = None, market: str | None = None) -> None:
        if venue is not None:
            self.venue = venue
        if market is not None:
            self.market = market
        self._update_title()
        self._watch()
        self.invalidate()

    def cycle_market(self, step: int) -> None:
        self._ensure_selection()
        symbols = self.ordered_symbols(self.venue)
        if not symbols:
            return
        i = symbols.index(self.market) if self.market in symbols else -step
        self.select(market=symbols[(i + step) % len(symbols)])

    def cycle_venue(self, step: int) -> None:
        """Through the venues listing the market."""
        self._ensure_selection()
        venues = sorted(v for v, sym in self.cache.markets if sym == self.market)
        if not venues:
            return
        i = venues.index(self.venue) if self.venue in venues else -step
        self.select(venue=venues[(i + step) % len(venues)])

    def set_timeframe(self, timeframe: str) -> None:
        self.timeframe = parse_timeframe(timeframe)
        self._update_title()
        self._watch()
        self.invalidate()

    def action_timeframe(self, step: int) -> None:
        self.set_timeframe(step_timeframe(self.timeframe, step))
        self.tick(self.session.clock())

    def _update_title(self) -> None:
        if self.market and self.venue:
            title = f"{self.pane_title} {self.market} @ {self.venue} {self.timeframe}"
            if title != self.border_title:
                self.border_title = title

    # -- frame -------------------------------------------------------------
    def tick(self, now_ns: int) -> bool:
        view = (self.venue, self.market, self.timeframe)
        # Only the data can have moved: a busy market redraws four times a second, not every frame.
        if self._strips and view == self._drawn_view and 0 <= now_ns - self._drawn_ns < REDRAW_NS:
            return False
        drawn = super().tick(now_ns)
        if drawn:
            self._drawn_view, self._drawn_ns = view, now_ns
        return drawn

    def state_key(self, now_ns: int) -> Hashable:
        self._ensure_selection()
        key = (self.venue or "", self.market or "")
        cache = self.cache
        mark, oracle, pos = cache.mark.get(key), cache.oracle.get(key), cache.positions.get(key)
        feed = self._feed()
        return (
            key,
            self.timeframe,
            cache.candle_rev.get(key, 0),
            None if mark is None else mark.price,
            None if oracle is None else oracle.price,
            None if pos is None else (pos.base, pos.entry_price, pos.liquidation_price),
            None if feed is None else feed.state(key[0], key[1], self.timeframe),
            self.health_key(now_ns),
        )

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        cache = self.cache
        if not cache.markets:
            return self.message(["Waiting for venues to list their markets…"])
        key = (self.venue or "", self.market or "")
        market = cache.markets.get(key)
        if market is None:
            return self.message([f"{self.venue} does not list {self.market}.",
                                 "Press ] or [ to pick a market, } or { for a venue."], "pane--warn")
        candles, source = cache.candles_of(key[0], key[1], self.timeframe)
        lines = [*self.health_lines(now_ns), *self._header(market, candles, source, width)]
        if not candles:
            what = "oracle prices" if market.kind == "pool" else "trades"
            lines += self.message(["", f"No {self.timeframe} bars of {market.symbol} on {market.venue} yet: they are "
                                       f"built from its {what} as they arrive."])
            return lines
        s = self.style
        palette = chart_canvas.Palette(s("pane--up"), s("pane--down"), s("chart--volume-up"),
                                       s("chart--volume-down"), s("pane--dim"))
        decimals = fmt.price_decimals(market, candles[-1].close)
        lines += chart_canvas.draw(
            candles, self._levels(market), width, height - len(lines), palette,
            lambda p: fmt.price(p, market, decimals=decimals),
            lambda v: fmt.compact(v, market.size_decimals),
        )
        return lines

    def _levels(self, market: Market) -> list[chart_canvas.Level]:
        cache = self.cache
        key = (market.venue, market.symbol)
        s = self.style
        out = []
        pos = cache.positions.get(key)
        if pos is not None and pos.base:
            if pos.liquidation_price:
                out.append(chart_canvas.Level("L", pos.liquidation_price, s("chart--liq")))
            if pos.entry_price:
                out.append(chart_canvas.Level("E", pos.entry_price, s("chart--entry")))
        mark, oracle = cache.mark.get(key), cache.oracle.get(key)
        if mark is not None and mark.price > 0:
            out.append(chart_canvas.Level("M", mark.price, s("chart--mark")))
        if oracle is not None and oracle.price > 0:
            out.append(chart_canvas.Level("O", oracle.price, s("chart--oracle")))
        return out

    def _header(self, market: Market, candles: list[Candle], source: str, width: int) -> list[Text]:
        """The last bar's figures, the timeframes (this one bright) and where the
        bars come from: one line, or two when the pane is too narrow for one."""
        s = self.style
        figures = Text(no_wrap=True, end="")
        if candles:
            last = candles[-1]
            prev = candles[-2].close if len(candles) > 1 else last.open
            d = fmt.price_decimals(market, last.close)
            for tag, value in (("O", last.open), ("H", last.high), ("L", last.low), ("C", last.close)):
                figures.append(f"{tag} ", s("pane--label"))
                figures.append(f"{fmt.price(value, market, decimals=d)}  ", s("pane--mid") if tag == "C" else "")
            change = fmt.ratio_bps(last.close - prev, prev)
            figures.append(f"{fmt.bps(None if change is None else change / 100, sign=True)}%  ",
                           s("pane--up" if last.close >= prev else "pane--down"))
            figures.append("V ", s("pane--label"))
            figures.append(f"{fmt.compact(last.volume, market.size_decimals)}  ", "")
        about = Text(no_wrap=True, end="")
        for tf in TIMEFRAME_NAMES:
            about.append(f"{tf} ", s("pane--title") if tf == self.timeframe else s("pane--dim"))
        note, style = self._source_note(market, source)
        about.append(f" {note}", s(style))
        if figures.cell_len + about.cell_len <= width or not candles:
            return [figures + about]
        return [figures, about]

    def _source_note(self, market: Market, source: str) -> tuple[str, str]:
        feed = self._feed()
        state = feed.state(market.venue, market.symbol, self.timeframe) if feed is not None else None
        if state is not None and state[0] == "down":
            return f"{state[1]}; meanwhile bars from trades since start", "pane--warn"
        if source == "venue":
            if state is None or state[0] == "live":
                return f"{market.venue} candles, live", "pane--dim"
            return state[1] or "loading", "pane--dim"
        if state is not None and state[0] == "loading":
            return state[1] or "loading", "pane--dim"
        return f"bars from {'oracle prices' if market.kind == 'pool' else 'trades'} since start", "pane--dim"
