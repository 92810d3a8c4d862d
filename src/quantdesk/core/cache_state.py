"""The events that rebuild a cache's state: what a recording part opens with,
so that part replays on its own.

Published in order on a fresh bus, they give a cache the same books, latest
values, statuses, open orders, positions and accounts, and (with ``tapes``)
the same recent trades and fills. A book waiting for a resync has no state
worth repeating and is left out.

``StateTracker`` keeps just that state from a stream of events, at a fraction
of a full cache's cost per event (no revisions, candles or volumes): the
recorder's writer follows every event with it.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

from quantdesk.core.book import OrderBook
from quantdesk.core.cache import FILLS_KEPT, TRADES_KEPT, MarketCache
from quantdesk.core.model import (
    AccountState,
    BookDelta,
    BookSnapshot,
    Event,
    Fill,
    Funding,
    MarkPrice,
    OpenInterest,
    OraclePrice,
    Order,
    Position,
    Trade,
    VenueStatus,
)

_LATEST = (Funding, OpenInterest, OraclePrice, MarkPrice)
_OPEN = ("open", "pending", "triggered")


def state_events(cache: MarketCache, *, tapes: bool = True) -> list[Event]:
    out: list[Event] = list(cache.status.values())
    for book in cache.books.values():
        if not book.needs_resync:
            out.append(book.snapshot())
    for latest in (cache.funding, cache.open_interest, cache.oracle, cache.mark):
        out.extend(latest.values())
    out.extend(cache.orders.values())
    out.extend(cache.positions.values())
    out.extend(cache.accounts.values())
    if tapes:
        for trades in cache.trades.values():
            out.extend(trades)  # oldest first, as the cache appends them
        out.extend(reversed(cache.fills))  # the cache keeps the newest first
    return out


class StateTracker:
    """The state ``state_events`` repeats, kept from events as a cache keeps it."""

    def __init__(self) -> None:
        self.statuses: dict[str, VenueStatus] = {}
        self.books: dict[tuple[str, str], OrderBook] = {}
        self.latest: dict[tuple[type, str, str], Event] = {}
        self.orders: dict[str, Order] = {}
        self.positions: dict[tuple[str, str], Position] = {}
        self.accounts: dict[str, AccountState] = {}
        self.trades: dict[tuple[str, str], deque[Trade]] = {}
        self.fills: deque[Fill] = deque(maxlen=FILLS_KEPT)

    def apply(self, events: Iterable[Event]) -> None:
        books = self.books
        latest = self.latest
        for ev in events:  # the most frequent first
            if isinstance(ev, BookDelta):
                book = books.get((ev.venue, ev.market))
                if book is not None:
                    book.apply_delta(ev)
            elif isinstance(ev, Trade):
                key = (ev.venue, ev.market)
                q = self.trades.get(key)
                if q is None:
                    q = self.trades[key] = deque(maxlen=TRADES_KEPT)
                q.append(ev)
            elif isinstance(ev, _LATEST):
                latest[(type(ev), ev.venue, ev.market)] = ev
            elif isinstance(ev, BookSnapshot):
                book = books.get((ev.venue, ev.market))
                if book is None:
                    book = books[(ev.venue, ev.market)] = OrderBook(ev.venue, ev.market)
                book.apply_snapshot(ev)
            elif isinstance(ev, VenueStatus):
                self.statuses[ev.venue] = ev
            elif isinstance(ev, Order):
                if ev.status in _OPEN:
                    self.orders[ev.order_id] = ev
                else:
                    self.orders.pop(ev.order_id, None)
            elif isinstance(ev, Fill):
                self.fills.append(ev)
            elif isinstance(ev, Position):
                if ev.base == 0 and ev.realized_pnl == 0:
                    self.positions.pop((ev.venue, ev.market), None)
                else:
                    self.positions[(ev.venue, ev.market)] = ev
            elif isinstance(ev, AccountState):
                self.accounts[ev.venue] = ev

    def events(self) -> list[Event]:
        """As ``state_events`` of a cache fed the same events."""
        out: list[Event] = list(self.statuses.values())
        out.extend(b.snapshot() for b in self.books.values() if not b.needs_resync)
        for t in _LATEST:
            out.extend(ev for (typ, _, _), ev in self.latest.items() if typ is t)
        out.extend(self.orders.values())
        out.extend(self.positions.values())
        out.extend(self.accounts.values())
        for trades in self.trades.values():
            out.extend(trades)
        out.extend(self.fills)  # oldest first here
        return out
