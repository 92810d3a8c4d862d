"""The tape: recent trades of one market on every venue (or one), newest first.

Rows come from the cache's bounded ring per (venue, market), filled from each
venue's ``trade.{venue}.{market}`` stream. Bigger prints stand out: a trade is
drawn dim, plain, bold or bold on a tinted background by its size against the
average size of the trades kept for that market, so blocks catch the eye in a
fast tape. The last line is the traded volume per clock minute, newest first.
The pane repaints only when its market traded (the cache's per-market trade
revision), the clock minute turned, or a venue's liveness changed.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

from rich.text import Text

from quantdesk.console import format as fmt
from quantdesk.console.panes.base import Column, Pane, PaneSession, Table
from quantdesk.core.cache import MINUTE_NS
from quantdesk.core.model import Market, Trade

# A trade's size against the average size kept for its market: at or above
# these it is drawn large, then as a block; below SMALL it is drawn dim.
SMALL, LARGE, BLOCK = 0.5, 2.0, 5.0
TIERS = ("small", "normal", "large", "block")


def size_tier(size: float, average: float) -> str:
    """Which weight a trade of ``size`` is drawn with (sizes in base units)."""
    if average <= 0:
        return "normal"
    ratio = size / average  # cosmetic only: a float never reaches state
    if ratio >= BLOCK:
        return "block"
    if ratio >= LARGE:
        return "large"
    if ratio < SMALL:
        return "small"
    return "normal"


class TradesPane(Pane):
    pane_type = "trades"

    COMPONENT_CLASSES: ClassVar[set[str]] = Pane.COMPONENT_CLASSES | {
        f"trades--{side}-{tier}" for side in ("buy", "sell") for tier in TIERS
    }
    DEFAULT_CSS = """
    TradesPane > .trades--buy-small { color: $bid 55%; }
    TradesPane > .trades--buy-normal { color: $bid; }
    TradesPane > .trades--buy-large { color: $bid; text-style: bold; }
    TradesPane > .trades--buy-block { color: $text; background: $bid 35%; text-style: bold; }
    TradesPane > .trades--sell-small { color: $ask 55%; }
    TradesPane > .trades--sell-normal { color: $ask; }
    TradesPane > .trades--sell-large { color: $ask; text-style: bold; }
    TradesPane > .trades--sell-block { color: $text; background: $ask 35%; text-style: bold; }
    """

    def __init__(self, session: PaneSession, *, market: str | None = None, venue: str | None = None, **kw: Any) -> None:
        super().__init__(session, **kw)
        self.market = market
        self.venue = venue  # None: every venue listing the market

    def on_mount(self) -> None:
        self._ensure_market()

    # -- selection ---------------------------------------------------------
    def _ensure_market(self) -> None:
        if self.market is None:
            symbols = self.ordered_symbols(self.venue)
            if symbols:
                self.market = symbols[0]
        self._update_title()

    def select(self, venue: str | None = None, market: str | None = None) -> None:
        """Show ``market`` (and only ``venue``'s trades, if one is given)."""
        if venue is not None:
            self.venue = venue
        if market is not None:
            self.market = market
        self._update_title()
        self.invalidate()

    def cycle_market(self, step: int) -> None:
        self._ensure_market()
        symbols = self.ordered_symbols(self.venue)
        if not symbols:
            return
        i = symbols.index(self.market) if self.market in symbols else -step
        self.select(market=symbols[(i + step) % len(symbols)])

    def cycle_venue(self, step: int) -> None:
        """Through every venue listing the market, then all of them together."""
        self._ensure_market()
        choices: list[str | None] = [None, *self._venues(every=True)]
        i = choices.index(self.venue) if self.venue in choices else 0
        self.venue = choices[(i + step) % len(choices)]
        self._update_title()
        self.invalidate()

    def _venues(self, every: bool = False) -> list[str]:
        """The venues shown: those listing the market (only the chosen one, if any)."""
        listing = sorted(v for v, sym in self.cache.markets if sym == self.market)
        if self.venue is None or every:
            return listing
        return [v for v in listing if v == self.venue]

    def _update_title(self) -> None:
        if self.market:
            title = f"{self.pane_title} {self.market} @ {self.venue or 'all venues'}"
            if title != self.border_title:  # setting it repaints the whole pane
                self.border_title = title

    # -- frame -------------------------------------------------------------
    def state_key(self, now_ns: int) -> Hashable:
        self._ensure_market()
        revs = self.cache.trade_rev
        venues = self._venues()
        # Only this market's trades count: other markets' prints cost no redraw.
        traded = tuple(revs.get((v, self.market or ""), 0) for v in venues)
        return (self.market, self.venue, tuple(venues), traded, now_ns // MINUTE_NS, self.health_key(now_ns))

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        cache = self.cache
        if not cache.markets:
            return self.message(["Waiting for venues to list their markets…"])
        venues = self._venues()
        if not venues:
            where = f"{self.venue} does not list" if self.venue else "No venue lists"
            return self.message([f"{where} {self.market}.", "Press ] or [ to pick a market, } or { for a venue."], "pane--warn")
        markets = {v: cache.markets[(v, self.market or "")] for v in venues}
        lines = [*self.health_lines(now_ns), self._volume_line(markets, now_ns, width)]
        trades = self._recent(venues, max(0, height - len(lines) - 1))
        table = Table(self._columns(markets, trades))
        lines.append(table.header(self.style("pane--header")))
        if not trades:
            lines.append(Text(f"No {self.market} trades yet.", self.style("pane--dim"), end=""))
            return lines
        average = self._average_size(venues, markets)
        decimals = max(fmt.price_decimals(m, trades[0].price) for m in markets.values())
        room = max(0, height - len(lines))
        for t in trades[:room]:
            lines.append(table.row(self._cells(t, markets[t.venue], decimals, average)))
        return lines

    # -- reading -----------------------------------------------------------
    def _recent(self, venues: list[str], n: int) -> list[Trade]:
        """The newest ``n`` trades across ``venues``, newest first."""
        out: list[Trade] = []
        for v in venues:
            ring = self.cache.trades.get((v, self.market or ""))
            if ring and n:
                out.extend(reversed(list(ring)[-n:]))  # newest first
        out.sort(key=lambda t: -t.ts)  # stable: prints of one instant stay newest first
        return out[:n]

    def _average_size(self, venues: list[str], markets: dict[str, Market]) -> float:
        total, count = 0.0, 0
        for v in venues:
            ring = self.cache.trades.get((v, self.market or ""), ())
            scale = 10 ** markets[v].size_decimals
            total += sum(t.size for t in ring) / scale
            count += len(ring)
        return total / count if count else 0.0

    # -- drawing -----------------------------------------------------------
    def _columns(self, markets: dict[str, Market], trades: list[Trade]) -> list[Column]:
        widest_price = max((len(fmt.price(t.price, markets[t.venue])) for t in trades), default=8)
        widest_size = max((len(fmt.size(t.size, markets[t.venue])) for t in trades), default=8)
        venue_w = max(5, *(len(v) for v in markets))
        return [
            Column("Time", 12, "left"),
            Column("Venue", venue_w, "left"),
            Column("Side", 4, "left"),
            Column("Price", max(9, widest_price + 1)),
            Column("Size", max(9, widest_size + 1)),
            Column("By", 5, "left"),
        ]

    def _cells(self, t: Trade, market: Market, decimals: int, average: float) -> list:
        s = self.style
        buy = t.side == "buy"
        tier = size_tier(t.size / 10**market.size_decimals, average)
        weight = s(f"trades--{'buy' if buy else 'sell'}-{tier}")
        return [
            (fmt.time_of_day(t.ts), s("pane--dim")),
            (t.venue, s("pane--dim")),
            ("BUY" if buy else "SELL", weight),
            (fmt.price(t.price, market, decimals=decimals), weight),
            (fmt.size(t.size, market), weight),
            (t.liquidity, s("pane--dim")),
        ]

    def _volume_line(self, markets: dict[str, Market], now_ns: int, width: int) -> Text:
        """Traded size per clock minute, this minute first, summed over the venues shown."""
        s = self.style
        size_decimals = max(m.size_decimals for m in markets.values())
        by_minute: dict[int, list[int]] = {}  # minute -> [buy size, sell size, notional in quote units x 10^6]
        for v, market in markets.items():
            scale = 10 ** (size_decimals - market.size_decimals)  # venues may differ: sum at the finest
            for b in self.cache.trade_minutes.get((v, market.symbol), ()):
                row = by_minute.setdefault(b.minute, [0, 0, 0])
                row[0] += b.buy_size * scale
                row[1] += b.sell_size * scale
                row[2] += b.notional * 10**6 // (10**market.size_decimals * 10**market.price_decimals)
        shown = fmt.size_decimals(next(iter(markets.values())))
        now_minute = now_ns // MINUTE_NS
        t = Text(no_wrap=True, end="")
        t.append("vol/min", s("pane--label"))
        for minute in range(now_minute, now_minute - 30, -1):
            if t.cell_len >= width:
                break
            buy, sell, notional = by_minute.get(minute, (0, 0, 0))
            label = fmt.clock(minute * MINUTE_NS)[11:16]
            t.append(f"  {label} ", s("pane--dim"))
            t.append(fmt.fixed(buy + sell, size_decimals, shown), s("pane--title" if minute == now_minute else ""))
            if minute == now_minute:
                t.append(f" ${fmt.compact(notional, 6)}", s("pane--dim"))
                if buy + sell:
                    t.append(f" buy {buy * 100 // (buy + sell)}%", s("pane--up" if buy >= sell else "pane--down"))
            if minute < now_minute and not any(m <= minute for m in by_minute):
                break  # nothing older is kept
        return t
