"""Market and account state built from bus events; what the panes read.

Every event updates state in place and bumps a revision counter for its
family (``book``, ``funding`` ...). A pane remembers the revisions it last
drew and repaints only when they moved, so a frame costs nothing when
nothing changed and one repaint however many messages arrived.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from quantdesk.core.book import OrderBook
from quantdesk.core.bus import Bus, Subscription
from quantdesk.core.candles import CandleSeries, MarketCandles
from quantdesk.core.model import (
    SIZE_DECIMALS,
    AccountState,
    BookDelta,
    BookSnapshot,
    Candle,
    Fill,
    Funding,
    FundingHistory,
    Market,
    MarkPrice,
    OpenInterest,
    OraclePrice,
    Order,
    Position,
    Trade,
    VenueStatus,
)
from quantdesk.core.news.board import NewsBoard
from quantdesk.core.rate_history import RateHistory, per_hour

Key = tuple[str, str]  # (venue, market)
TRADES_KEPT = 200
FILLS_KEPT = 500
ENDED_ORDERS_KEPT = 20
MINUTE_NS = 60 * 1_000_000_000
MINUTES_KEPT = 30


class MinuteVolume:
    """Traded size (bought and sold by the aggressor) and notional in one clock
    minute of one market on one venue.

    Notional is price x size in price units times size units (divide by
    ``10**size_decimals`` for quote units): exact integers, never floats."""

    __slots__ = ("minute", "buy_size", "sell_size", "notional", "count")

    def __init__(self, minute: int) -> None:
        self.minute = minute  # ts // MINUTE_NS
        self.buy_size = 0
        self.sell_size = 0
        self.notional = 0
        self.count = 0

    @property
    def size(self) -> int:
        return self.buy_size + self.sell_size


class MarketCache:
    def __init__(self, on_gap: Callable[[str, str], None] | None = None) -> None:
        self.markets: dict[Key, Market] = {}
        self.books: dict[Key, OrderBook] = {}
        self.funding: dict[Key, Funding] = {}
        self.open_interest: dict[Key, OpenInterest] = {}
        self.oracle: dict[Key, OraclePrice] = {}
        self.mark: dict[Key, MarkPrice] = {}
        self.trades: dict[Key, deque[Trade]] = {}  # a bounded ring per market, oldest first
        self.trade_rev: dict[Key, int] = {}  # bumped per trade: a tape repaints only when its market traded
        self.trade_minutes: dict[Key, deque[MinuteVolume]] = {}  # oldest first
        self.status: dict[str, VenueStatus] = {}
        self.last_message_ns: dict[str, int] = {}
        self.market_updated_ns: dict[Key, int] = {}  # last book, trade, oracle or mark event per market
        self.orders: dict[str, Order] = {}
        # Orders that were open here and have ended (filled, cancelled, expired,
        # rejected), newest first: the Orders pane says what became of them.
        self.ended_orders: deque[Order] = deque(maxlen=ENDED_ORDERS_KEPT)
        self.fills: deque[Fill] = deque(maxlen=FILLS_KEPT)
        self.positions: dict[Key, Position] = {}
        self.accounts: dict[str, AccountState] = {}
        # Charts: bars built from trades (oracle prices on pool venues) for every
        # market, a venue's own bars per (venue, market, timeframe) when it sends
        # them, and a revision per market bumped by either.
        self.candles: dict[Key, MarketCandles] = {}
        self.venue_candles: dict[tuple[str, str, str], CandleSeries] = {}
        self.candle_rev: dict[Key, int] = {}
        self.funding_history: dict[Key, RateHistory] = {}  # hourly rates; bumps rev["funding"]
        # Headlines from the news sources (not a venue's events: the news desk
        # feeds it), beside the prices so panes and alert rules read both.
        self.news = NewsBoard()
        self.rev: dict[str, int] = dict.fromkeys(
            ("book", "trade", "funding", "oi", "oracle", "mark", "status", "order", "fill", "position", "account"), 0
        )
        self.events = 0
        self.on_gap = on_gap
        self._subs: list[Subscription] = []
        self._handlers: dict[type, Callable[[Any], None]] = {
            BookDelta: self._on_delta,
            BookSnapshot: self._on_snapshot,
            Trade: self._on_trade,
            Funding: self._on_funding,
            OpenInterest: self._on_oi,
            OraclePrice: self._on_oracle,
            MarkPrice: self._on_mark,
            VenueStatus: self._on_status,
            Order: self._on_order,
            Fill: self._on_fill,
            Position: self._on_position,
            AccountState: self._on_account,
            Candle: self._on_candle,
            FundingHistory: self._on_funding_history,
        }

    def attach(self, bus: Bus) -> None:
        self._subs.append(bus.subscribe("#", self.on_event))

    def detach(self) -> None:
        for s in self._subs:
            s.close()
        self._subs.clear()

    def add_markets(self, markets: list[Market]) -> None:
        for m in markets:
            self.markets[(m.venue, m.symbol)] = m
            bars = self.candles.get((m.venue, m.symbol))
            if bars is not None:  # a price seen before its market was listed
                bars.pool = m.kind == "pool"

    # -- events --------------------------------------------------------
    def on_event(self, topic: str, event: object) -> None:
        handler = self._handlers.get(type(event))
        if handler is not None:
            self.events += 1
            handler(event)

    def _on_delta(self, ev: BookDelta) -> None:
        # The feed's most frequent event: the dispatch table already told a
        # delta from a snapshot, so the book is not asked again.
        key = (ev.venue, ev.market)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = OrderBook(ev.venue, ev.market)
        was_ok = not book.needs_resync
        book.apply_delta(ev)
        self.last_message_ns[ev.venue] = ev.ts
        self.market_updated_ns[key] = ev.ts
        self.rev["book"] += 1
        if was_ok and book.needs_resync and self.on_gap is not None:
            self.on_gap(ev.venue, ev.market)

    def _on_snapshot(self, ev: BookSnapshot) -> None:
        key = (ev.venue, ev.market)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = OrderBook(ev.venue, ev.market)
        book.apply_snapshot(ev)  # a snapshot ends any gap
        self.last_message_ns[ev.venue] = ev.ts
        self.market_updated_ns[key] = ev.ts
        self.rev["book"] += 1

    def _on_trade(self, ev: Trade) -> None:
        key = (ev.venue, ev.market)
        q = self.trades.get(key)
        if q is None:
            q = self.trades[key] = deque(maxlen=TRADES_KEPT)
        q.append(ev)
        self.trade_rev[key] = self.trade_rev.get(key, 0) + 1
        self._count_volume(key, ev)
        bars = self.candles.get(key) or self._new_candles(key)
        oracle = self.oracle.get(key) if bars.pool else None
        # A pool fills at its oracle price (plus fees): its bars follow the oracle, trades add their volume.
        if bars.add(ev.ts, ev.price if oracle is None else oracle.price, ev.size):
            self.candle_rev[key] = self.candle_rev.get(key, 0) + 1
        self.last_message_ns[ev.venue] = ev.ts
        self.market_updated_ns[key] = ev.ts
        self.rev["trade"] += 1

    def _count_volume(self, key: Key, ev: Trade) -> None:
        minutes = self.trade_minutes.get(key)
        if minutes is None:
            minutes = self.trade_minutes[key] = deque(maxlen=MINUTES_KEPT)
        minute = ev.ts // MINUTE_NS
        bucket = minutes[-1] if minutes else None
        if bucket is None or minute > bucket.minute:
            bucket = MinuteVolume(minute)
            minutes.append(bucket)
        elif minute < bucket.minute:  # a late print: its own minute if still kept
            bucket = next((b for b in minutes if b.minute == minute), None)
            if bucket is None:
                return
        # Split by the aggressor: a maker's buy was hit by a seller.
        if (ev.side == "buy") != (ev.liquidity == "maker"):
            bucket.buy_size += ev.size
        else:
            bucket.sell_size += ev.size
        bucket.notional += ev.price * ev.size
        bucket.count += 1

    def _new_candles(self, key: Key) -> MarketCandles:
        market = self.markets.get(key)
        bars = self.candles[key] = MarketCandles(
            market.size_decimals if market else SIZE_DECIMALS, pool=market is not None and market.kind == "pool"
        )
        return bars

    def _on_candle(self, ev: Candle) -> None:
        key = (ev.venue, ev.market)
        series = self.venue_candles.get((ev.venue, ev.market, ev.timeframe))
        if series is None:
            series = self.venue_candles[(ev.venue, ev.market, ev.timeframe)] = CandleSeries()
        series.upsert(ev)
        self.candle_rev[key] = self.candle_rev.get(key, 0) + 1

    def _on_funding(self, ev: Funding) -> None:
        key = (ev.venue, ev.market)
        self.funding[key] = ev
        history = self.funding_history.get(key)
        if history is None:
            history = self.funding_history[key] = RateHistory()
        history.record(ev.ts, per_hour(ev.rate, ev.interval_s))
        self.rev["funding"] += 1

    def _on_funding_history(self, ev: FundingHistory) -> None:
        key = (ev.venue, ev.market)
        history = self.funding_history.get(key)
        if history is None:
            history = self.funding_history[key] = RateHistory()
        history.merge(ev.points)
        self.rev["funding"] += 1

    def _on_oi(self, ev: OpenInterest) -> None:
        self.open_interest[(ev.venue, ev.market)] = ev
        self.rev["oi"] += 1

    def _on_oracle(self, ev: OraclePrice) -> None:
        key = (ev.venue, ev.market)
        self.oracle[key] = ev
        bars = self.candles.get(key) or self._new_candles(key)
        if bars.pool and bars.add(ev.ts, ev.price, 0):  # a pool fills at the oracle price: it is the price
            self.candle_rev[key] = self.candle_rev.get(key, 0) + 1
        self.last_message_ns[ev.venue] = ev.ts
        self.market_updated_ns[(ev.venue, ev.market)] = ev.ts
        self.rev["oracle"] += 1

    def _on_mark(self, ev: MarkPrice) -> None:
        self.mark[(ev.venue, ev.market)] = ev
        self.market_updated_ns[(ev.venue, ev.market)] = ev.ts
        self.rev["mark"] += 1

    def _on_status(self, ev: VenueStatus) -> None:
        self.status[ev.venue] = ev
        self.rev["status"] += 1

    def _on_order(self, ev: Order) -> None:
        if ev.status in ("open", "pending", "triggered"):
            self.orders[ev.order_id] = ev
        elif self.orders.pop(ev.order_id, None) is not None:
            self.ended_orders.appendleft(ev)
        self.rev["order"] += 1

    def _on_fill(self, ev: Fill) -> None:
        self.fills.appendleft(ev)
        self.rev["fill"] += 1

    def _on_position(self, ev: Position) -> None:
        key = (ev.venue, ev.market)
        if ev.base == 0 and ev.realized_pnl == 0:
            self.positions.pop(key, None)
        else:
            self.positions[key] = ev
        self.rev["position"] += 1

    def _on_account(self, ev: AccountState) -> None:
        self.accounts[ev.venue] = ev
        self.rev["account"] += 1

    # -- reads ---------------------------------------------------------
    def venues(self) -> list[str]:
        return sorted({v for v, _ in self.markets})

    def symbols(self) -> list[str]:
        return sorted({m for _, m in self.markets})

    def book(self, venue: str, market: str) -> OrderBook | None:
        return self.books.get((venue, market))

    def candles_of(self, venue: str, market: str, timeframe: str) -> tuple[list[Candle], str]:
        """The bars of one market, oldest first, and where they came from: the
        venue's own (``"venue"``) when it sent any for this timeframe, else those
        built from the trades (or oracle prices) seen since start (``"built"``)."""
        series = self.venue_candles.get((venue, market, timeframe))
        if series is not None and series.candles:
            return list(series.candles), "venue"
        bars = self.candles.get((venue, market))
        return (bars.candles(venue, market, timeframe) if bars is not None else []), "built"

    def data_age_s(self, venue: str, now_ns: int) -> float | None:
        last = self.last_message_ns.get(venue)
        return None if last is None else max(0.0, (now_ns - last) / 1e9)

    def market_data_age_ns(self, venue: str, market: str, now_ns: int) -> int | None:
        """Nanoseconds since ``market``'s data last changed (None: none seen yet)."""
        last = self.market_updated_ns.get((venue, market))
        return None if last is None else max(0, now_ns - last)

    def has_full_state(self) -> bool:
        """Every listed market has a synced book, funding and an oracle price."""
        if not self.markets:
            return False
        for key in self.markets:
            book = self.books.get(key)
            if book is None or book.needs_resync or key not in self.funding or key not in self.oracle:
                return False
        return True
