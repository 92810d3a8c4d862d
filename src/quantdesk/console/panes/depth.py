"""Depth ladder: asks above, bids below, for one market on one venue.

Each level shows price, size, cumulative size, cumulative notional and a bar of
the level's size (where the large resting orders are). Levels whose size
changed since the previous frame flash and fade out within half a second; the
comparison is frame to frame, so a burst of deltas to one level between two
frames is one flash.
"""

from __future__ import annotations

from collections.abc import Hashable
from decimal import Decimal
from typing import Any

from rich.text import Text

from quantdesk.core.book import DepthLevel, OrderBook
from quantdesk.core.model import Market
from quantdesk.console import format as fmt
from quantdesk.console.freshness import NOT_LIVE, venue_state
from quantdesk.console.panes.base import Column, Pane, PaneSession, Table

FLASH_NS = 250_000_000  # strong highlight
FADE_NS = 500_000_000  # then a faint one until this age
FADE_STEP_NS = 125_000_000  # redraw cadence while highlights fade


class DepthPane(Pane):
    pane_type = "depth"

    def __init__(self, session: PaneSession, *, venue: str | None = None, market: str | None = None, **kw: Any) -> None:
        super().__init__(session, **kw)
        self.venue = venue
        self.market = market
        self._prev: dict[str, dict[int, int]] | None = None
        self._changed: dict[tuple[str, int], int] = {}
        self._flashing = False
        self._dec = 0
        self._widths = (0, 0)  # price and size column widths, grow-only
        self._scale = 0  # level size a full bar stands for

    def on_mount(self) -> None:
        self._ensure_selection()  # the title names the market from the first paint

    # -- selection ---------------------------------------------------------
    def _ensure_selection(self) -> None:
        cache = self.cache
        if self.venue is None:
            # Order-book venues first; only venues listing the market, if one was chosen.
            listing = sorted(
                (m.kind != "clob", v) for (v, sym), m in cache.markets.items() if self.market in (None, sym)
            )
            if listing:
                self.venue = listing[0][1]
        if self.market is None and self.venue is not None:
            symbols = self.ordered_symbols(self.venue)
            if symbols:
                self.market = symbols[0]
        self._update_title()

    def select(self, venue: str | None = None, market: str | None = None) -> None:
        """Show ``market`` on ``venue`` (either may be left as it is)."""
        if venue is not None:
            self.venue = venue
        if market is not None:
            self.market = market
        self._prev = None
        self._changed.clear()
        self._widths = (0, 0)
        self._scale = 0
        self._update_title()
        self.invalidate()

    def cycle_market(self, step: int) -> None:
        self._ensure_selection()
        symbols = self.ordered_symbols()
        if not symbols:
            return
        i = symbols.index(self.market) if self.market in symbols else -step
        self.select(market=symbols[(i + step) % len(symbols)])

    def cycle_venue(self, step: int) -> None:
        self._ensure_selection()
        venues = self.cache.venues()
        if not venues:
            return
        i = venues.index(self.venue) if self.venue in venues else -step
        self.select(venue=venues[(i + step) % len(venues)])

    def _update_title(self) -> None:
        if self.market and self.venue:
            title = f"{self.pane_title} {self.market} @ {self.venue}"
            if title != self.border_title:  # setting it repaints the whole pane
                self.border_title = title

    # -- frame -------------------------------------------------------------
    def state_key(self, now_ns: int) -> Hashable:
        self._ensure_selection()
        key = (self.venue or "", self.market or "")
        book = self.cache.books.get(key)
        oracle = self.cache.oracle.get(key)
        # Checked per book and per oracle, so other markets' traffic costs no redraw.
        book_key = None if book is None else (id(book), book.seq, book.ts, book.needs_resync)
        mark = self.cache.mark.get(key)
        oracle_key = (None if oracle is None else oracle.price, None if mark is None else mark.price)
        trades = self.cache.trades.get(key)
        trade_key = trades[-1] if trades else None
        fading = now_ns // FADE_STEP_NS if self._flashing else None
        state, age = venue_state(self.cache, key[0], now_ns)
        health = (state, int(age) if state in NOT_LIVE and age is not None else None)
        return (key, book_key, oracle_key, trade_key, health, fading, len(self.cache.markets))

    def build(self, now_ns: int, width: int, height: int) -> list[Text]:
        cache = self.cache
        if not cache.markets:
            return self.message(["Waiting for venues to list their markets…"])
        key = (self.venue or "", self.market or "")
        market = cache.markets.get(key)
        if market is None:
            return self.message(
                [f"{self.venue} does not list {self.market}.", "Press ] or [ to pick a market, } or { for a venue."],
                "pane--warn",
            )
        book = cache.books.get(key)
        near: Decimal | int | None = book.mid() if book is not None else None
        oracle = cache.oracle.get(key)
        if near is None and oracle is not None:
            near = oracle.price
        # One precision for the whole ladder so prices line up.
        self._dec = fmt.price_decimals(market, near)
        if book is None:
            waiting = self.message([f"Waiting for the first {market.symbol} book…"])
            return [self._summary(market, None, now_ns), *waiting]
        return self._ladder(market, book, now_ns, width, height)

    # -- drawing -----------------------------------------------------------
    def _summary(self, market: Market, book: OrderBook | None, now_ns: int) -> Text:
        s = self.style
        t = Text(no_wrap=True, end="")
        t.append(market.symbol, s("pane--title"))
        t.append(f" {market.venue} ", s("pane--dim"))
        t.append(market.kind.upper(), s("pane--label"))
        # Warnings first: on a narrow pane the end of this line is cut.
        state, age = venue_state(self.cache, market.venue, now_ns)
        if state in NOT_LIVE:
            t.append(f"  {state.upper()} {fmt.age(age)}", s("pane--warn"))
        if book is None:
            return t
        if book.needs_resync:
            t.append("  RESYNCING", s("pane--warn"))
        elif book.crossed:
            t.append(f"  CROSSED {fmt.size(book.crossing_size(), market)}", s("pane--warn"))
        # Mid and spread are on the ladder's middle line.
        key = (market.venue, market.symbol)
        for label, value in (("oracle", self.cache.oracle.get(key)), ("mark", self.cache.mark.get(key))):
            if value is not None:
                t.append(f"  {label} ", s("pane--label"))
                t.append(fmt.price(value.price, market, decimals=self._dec), s("pane--mid"))
        trades = self.cache.trades.get(key)
        if trades:
            last = trades[-1]
            taker = s("pane--up" if last.side == "buy" else "pane--down")
            t.append("  last ", s("pane--label"))
            t.append(fmt.price(last.price, market, decimals=self._dec), taker)
            t.append(f" {fmt.size(last.size, market)} {last.side}", s("pane--dim"))
        return t

    def _ladder(self, market: Market, book: OrderBook, now_ns: int, width: int, height: int) -> list[Text]:
        s = self.style
        lines = [self._summary(market, book, now_ns)]
        notes: list[Text] = []
        if market.kind == "pool":
            notes.append(Text("Synthetic pool depth: oracle price ± the pool's price impact per size.", s("pane--dim")))
        if book.needs_resync:
            notes.append(Text("Sequence gap: levels below are stale until a fresh snapshot arrives.", s("pane--warn")))
        elif book.crossed:
            notes.append(
                Text(
                    f"Best bid at or above best ask ({fmt.size(book.crossing_size(), market)} overlap): "
                    "do not trade on this book until it uncrosses; spreads leave it out.",
                    s("pane--warn"),
                )
            )
        lines.extend(notes)

        n = max(1, (height - len(lines) - 2) // 2)
        asks = book.depth("ask", n)
        bids = book.depth("bid", n)
        self._track_changes(bids, asks, now_ns)

        # Column widths and the bar scale only grow (or rescale when far off),
        # so one changed level repaints a few cells, not the whole ladder.
        widest = fmt.price(max((lv.price for lv in asks + bids), default=0), market, decimals=self._dec)
        price_w = max(10, len(widest) + 1)
        size_w = max(10, *(len(fmt.size(lv.cumulative, market)) + 1 for lv in asks[-1:] + bids[-1:]))
        self._widths = price_w, size_w = max(self._widths[0], price_w), max(self._widths[1], size_w)
        biggest = max((lv.size for lv in asks + bids), default=0)
        if biggest > self._scale or biggest < self._scale // 3:
            self._scale = biggest
        fixed_w = price_w + size_w * 2 + 9 + 4
        bar_w = max(4, width - fixed_w)
        # Narrow panes drop the cumulative size first, then the cumulative notional.
        table = Table(
            [
                Column("Price", price_w),
                Column("Size", size_w),
                Column("Total", size_w, drop=2),
                Column("Total $", 9, drop=1),
                Column("Level size", bar_w, "left"),
            ]
        )
        if table.width > width:
            table = Table(
                [
                    Column("Price", price_w),
                    Column("Size", size_w),
                    Column("Total", size_w, drop=2),
                    Column("Total $", 9, drop=1),
                    Column("Level size", 4, "left", drop=3),
                ]
            ).fit(width)
            kept = sum(c.width + 1 for c in table.columns[:-1]) if table.shows("Level size") else width
            bar_w = max(4, width - kept)
        lines.append(table.header(s("pane--header")))
        stale = book.needs_resync
        ask_notional = cumulative_notional(asks, market)
        bid_notional = cumulative_notional(bids, market)
        # A level's row is remade only when its figures or its flash moved: a
        # delta near the touch changes the totals of every row below it, but
        # the levels beyond the book's busy end read as before.
        self.pieces.start((market.venue, market.symbol, tuple(c.width for c in table.columns), bar_w, self._scale, self._dec, stale))

        def row(side: str, lv: DepthLevel, total: int) -> Text:
            flash = None if stale else self._flash(side, lv.price, now_ns)
            return self.pieces.get(
                (side, lv.price, lv.size, lv.cumulative, total, flash),
                lambda: self._row(table, market, side, lv, total, bar_w, flash, stale),
            )

        rows = [row("ask", lv, total) for lv, total in zip(reversed(asks), reversed(ask_notional))]
        rows = [Text("", end="")] * (n - len(asks)) + rows
        lines.extend(rows)
        lines.append(self._mid_line(market, book, width))
        lines.extend(row("bid", lv, total) for lv, total in zip(bids, bid_notional))
        if not bids and not asks:
            lines.append(Text("The book is empty.", s("pane--dim")))
        lines.extend([Text("", end="")] * (n - len(bids)))
        spare = height - len(lines)
        if spare > 0 and (bids or asks):
            lines.append(self._totals(market, bids, asks))
        return lines

    def _row(
        self,
        table: Table,
        market: Market,
        side: str,
        lv: DepthLevel,
        notional: int,  # the cumulative notional from the touch to this level, quote units
        bar_w: int,
        flash: str | None,  # the flash component class, while the level's size is fresh
        stale: bool,
    ) -> Text:
        s = self.style
        side_style = s("pane--stale") if stale else s(f"pane--{side}")
        return table.row(
            [
                (fmt.price(lv.price, market, decimals=self._dec), side_style),
                (fmt.size(lv.size, market), s(flash) if flash else None),
                (fmt.size(lv.cumulative, market), s("pane--dim")),
                (fmt.compact(notional, market.price_decimals), s("pane--dim")),
                (fmt.bar(lv.size / self._scale if self._scale else 0.0, bar_w), s(f"pane--{side}-bar")),
            ]
        )

    def _flash(self, side: str, price: int, now_ns: int) -> str | None:
        changed = self._changed.get((side, price))
        if changed is None:
            return None
        age = now_ns - changed
        return "pane--flash" if age < FLASH_NS else "pane--flash-fade" if age < FADE_NS else None

    def _mid_line(self, market: Market, book: OrderBook, width: int) -> Text:
        s = self.style
        mid = book.mid()
        if mid is None:
            label = " one-sided book "
        else:
            mid_text = fmt.price(mid, market, extra=1, decimals=self._dec)
            spread_text = fmt.price(book.spread(), market, decimals=self._dec)
            label = f" {mid_text}  spread {spread_text} ({fmt.bps(book.spread_bps())} bp) "
        if book.crossed and not book.needs_resync:
            return Text(f"── CROSSED{label}".ljust(width, "─"), s("pane--warn"), end="")
        return Text(f"──{label}".ljust(width, "─"), s("pane--mid"), end="")

    def _totals(self, market: Market, bids: list[DepthLevel], asks: list[DepthLevel]) -> Text:
        s = self.style
        bid_total = bids[-1].cumulative if bids else 0
        ask_total = asks[-1].cumulative if asks else 0
        t = Text(no_wrap=True, end="")
        t.append(f"Shown: bids {fmt.size(bid_total, market)}", s("pane--bid"))
        t.append(f"  asks {fmt.size(ask_total, market)}", s("pane--ask"))
        if bid_total + ask_total:
            imbalance = (bid_total - ask_total) * 100 // (bid_total + ask_total)
            t.append(f"  imbalance {imbalance:+d}%", s("pane--label"))
        return t

    def _track_changes(self, bids: list[DepthLevel], asks: list[DepthLevel], now_ns: int) -> None:
        """Note levels whose size differs from the previous frame's."""
        current = {"bid": {lv.price: lv.size for lv in bids}, "ask": {lv.price: lv.size for lv in asks}}
        prev = self._prev
        changed = self._changed
        if prev is not None:
            for side, levels in current.items():
                before = prev[side]
                for price, size in levels.items():
                    if before.get(price) != size:
                        changed[(side, price)] = now_ns
        self._prev = current
        for k in [k for k, t in changed.items() if now_ns - t >= FADE_NS or k[1] not in current[k[0]]]:
            del changed[k]
        self._flashing = bool(changed)


def cumulative_notional(levels: list[DepthLevel], market: Market) -> list[int]:
    """What taking every level from the touch to each one costs: the running
    sum of size times price, in the quote's units (not the cumulative size
    times the last level's price)."""
    out: list[int] = []
    total = 0
    scale = 10**market.size_decimals
    for lv in levels:
        total += lv.size * lv.price
        out.append(total // scale)
    return out
