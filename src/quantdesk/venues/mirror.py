"""A running session seen by another session in the same process.

``quantdesk serve ssh`` runs one session (the feed: simulated, live or a Redis
feed) and gives each console its own ``Session`` over it: its own bus and
cache, so one trader's panes, focus and workspace never touch another's, while
the venues connect once. A ``MirrorVenue`` stands for one venue of the source
session: on start it publishes what the source's cache holds (book snapshots,
the latest funding, oracle, mark and open interest, recent trades, statuses),
then forwards the source bus's market data as it arrives. Both happen in one
synchronous step on the shared event loop, so a mirror never misses a delta
nor applies one twice.

Only market data crosses: orders, fills, positions and accounts on the source
bus are another trader's and are never forwarded. A console trades in the
venue behind its mirror (``shared_venue``) under its trader's name, and that
account's events go to the console's own bus.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from quantdesk.core.bus import Bus, Subscription
from quantdesk.core.model import Market, MarketKind, VenueStatus
from quantdesk.core.venue import Venue
from quantdesk.venues.session import Session

# Topic families that are market data; anything else (order, fill, position,
# account) belongs to the source session's own trader.
MARKET_FAMILIES = ("book", "trade", "funding", "oi", "oracle", "mark")


class MirrorVenue:
    """One venue of ``source``, replayed into whatever bus ``run`` is given."""

    can_trade = False

    def __init__(self, source: Session, venue: Any) -> None:
        self.source = source
        self.venue = venue  # the source's venue object (its health counters are shown as they are)
        self.id: str = venue.id
        self._bus: Bus | None = None
        self._subs: list[Subscription] = []

    def __repr__(self) -> str:
        return f"MirrorVenue({self.id!r})"

    @property
    def kind(self) -> MarketKind:
        kind: MarketKind = getattr(self.venue, "kind", "clob")
        return kind

    @property
    def health(self) -> Any:
        return getattr(self.venue, "health", None)

    def venue_ids(self) -> set[str]:
        """The venue ids this venue publishes for: its own and, for a relay of
        a feed, every venue the feed serves."""
        return {self.id, *(m.venue for m in self.markets())}

    def markets(self) -> list[Market]:
        ids = {self.id}
        served = getattr(self.venue, "venue_ids", None)
        if isinstance(served, Iterable) and not isinstance(served, str):
            ids.update(served)
        return [m for m in self.source.markets if m.venue in ids]

    async def connect(self) -> list[Market]:
        return self.markets()

    async def run(self, bus: Bus) -> None:
        self._bus = bus
        self._attach(bus)
        try:
            await asyncio.Event().wait()  # forwarding happens in the source's publishes
        finally:
            self._detach()

    def _attach(self, bus: Bus) -> None:
        """Publish the source's state, then forward; nothing may run in between."""
        self.replay_state(bus)
        forward = bus.publish
        src = self.source.bus
        for vid in sorted(self.venue_ids()):
            for family in MARKET_FAMILIES:
                self._subs.append(src.subscribe(f"{family}.{vid}.*", forward))
            self._subs.append(src.subscribe(f"status.{vid}", forward))

    def _detach(self) -> None:
        for s in self._subs:
            s.close()
        self._subs.clear()

    def replay_state(self, bus: Bus, only: Callable[[str], bool] | None = None) -> None:
        """What the source's cache holds for this venue's markets, as events."""
        cache = self.source.cache
        ids = self.venue_ids()
        for vid in sorted(ids):
            status = cache.status.get(vid)
            if isinstance(status, VenueStatus):
                bus.publish(f"status.{vid}", status)
        for m in self.markets():
            key = (m.venue, m.symbol)
            if only is not None and not only(m.symbol):
                continue
            suffix = f"{m.venue}.{m.symbol}"
            book = cache.books.get(key)
            if book is not None and not book.needs_resync:
                bus.publish(f"book.{suffix}", book.snapshot())
            for family, table in (("funding", cache.funding), ("oi", cache.open_interest),
                                  ("oracle", cache.oracle), ("mark", cache.mark)):
                latest = table.get(key)
                if latest is not None:
                    bus.publish(f"{family}.{suffix}", latest)
            for trade in cache.trades.get(key, ()):
                bus.publish(f"trade.{suffix}", trade)

    def request_resync(self, market: str) -> None:
        """A gap in this session's copy of a book: publish the source's book again."""
        if self._bus is not None:
            bus = self._bus
            for m in self.markets():
                book = self.source.cache.books.get((m.venue, m.symbol))
                if m.symbol == market and book is not None and not book.needs_resync:
                    bus.publish(f"book.{m.venue}.{m.symbol}", book.snapshot())

    async def close(self) -> None:
        self._detach()


def shared_venue(venue: Venue) -> Venue:
    """The venue orders for ``venue`` go to: the shared one behind a mirror
    (the trader's own account in it), else ``venue`` itself."""
    return venue.venue if isinstance(venue, MirrorVenue) else venue


def mirror_session(source: Session) -> Session:
    """A new session (own bus and cache) showing ``source``'s market data.
    Starting and stopping it never touches the source's venues."""
    return Session([MirrorVenue(source, v) for v in source.venues.values()], source.clock)
