"""WebSocket fan-out of bus events: per-topic sequence numbers, bounded
memory per client, and a ``gap`` plus a fresh snapshot for a client that fell
behind.

Stream topics are ``book.{venue}.{market}``, ``trades.{venue}.{market}`` and
``funding.{venue}.{market}``. A subscription pattern matches segment by
segment, ``*`` matching any one segment; missing trailing segments match
anything, so ``funding`` is every market's funding.

Every topic has one sequence shared by all clients: a snapshot carries the
sequence it is current at and each delta the next one, so a client checks
``seq == last + 1``. Each event is encoded once, when published, and queued as
bytes for the clients subscribed to it. A client's queue holds at most
``max_pending`` messages; a client that lets it fill (it reads slower than the
feed) has its queue emptied and is sent ``gap`` and a fresh snapshot of each of
its topics, so a slow reader costs bounded memory and never slows the others.
The bus callback only encodes and appends; sending happens in each client's
own task.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

import msgspec

from quantdesk.core.bus import Bus, Subscription
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import BookDelta, BookSnapshot, Funding, Trade
from quantdesk.serve.api import views

FAMILIES = ("book", "trades", "funding")
_BUS_FAMILY = {"book": "book", "trade": "trades", "funding": "funding"}
SNAPSHOT_TRADES = 50
DEFAULT_MAX_PENDING = 1_000
_encode = msgspec.json.Encoder().encode


class PatternError(ValueError):
    pass


def check_pattern(pattern: Any) -> list[str]:
    if not isinstance(pattern, str) or not pattern:
        raise PatternError(f"topic {pattern!r} is not a topic pattern: use e.g. book.drift.SOL-PERP, trades.*.SOL-PERP or funding")
    parts = pattern.split(".")
    if len(parts) > 3 or any(p == "" for p in parts):
        raise PatternError(f"topic {pattern!r} has too many or empty parts: use FAMILY[.VENUE[.MARKET]]")
    if parts[0] not in FAMILIES and parts[0] != "*":
        raise PatternError(f"topic {pattern!r}: unknown family {parts[0]!r}; use {', '.join(FAMILIES)}")
    return parts + ["*"] * (3 - len(parts))


def pattern_matches(parts: list[str], topic: str) -> bool:
    return all(p == "*" or p == t for p, t in zip(parts, topic.split(".", 2)))


class StreamClient:
    """One WebSocket's subscriptions and its bounded queue of encoded messages."""

    def __init__(self, max_pending: int) -> None:
        self.max_pending = max_pending
        self.topics: set[str] = set()
        self.pending: deque[bytes] = deque()
        self.lagging = False
        self.wake = asyncio.Event()
        self.dropped = 0  # deltas this client never got (it was sent gap + snapshot instead)
        self.gaps = 0

    def offer(self, message: bytes) -> None:
        if self.lagging:
            self.dropped += 1
            return
        if len(self.pending) >= self.max_pending:
            self.dropped += len(self.pending) + 1
            self.pending.clear()
            self.lagging = True
        else:
            self.pending.append(message)
        self.wake.set()

    def push(self, message: bytes) -> None:
        """A reply (ack, pong, error, snapshot) queued whatever the bound: at most
        one per request or topic, so it cannot grow without the client asking."""
        self.pending.append(message)
        self.wake.set()


class StreamHub:
    def __init__(self, cache: MarketCache, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        self.cache = cache
        self.max_pending = max_pending
        self.seq: dict[str, int] = {}
        self.clients: set[StreamClient] = set()
        self.dropped = 0  # over all clients, closed ones included
        self.gaps = 0
        self._routes: dict[str, tuple[StreamClient, ...]] = {}
        self._subs: list[Subscription] = []

    # -- bus side --------------------------------------------------------
    def attach(self, bus: Bus) -> None:
        for family in _BUS_FAMILY:
            self._subs.append(bus.subscribe(f"{family}.>", self._on_event))

    def detach(self) -> None:
        for s in self._subs:
            s.close()
        self._subs.clear()

    def _on_event(self, bus_topic: str, ev: Any) -> None:
        family, _, rest = bus_topic.partition(".")
        topic = f"{_BUS_FAMILY[family]}.{rest}"
        seq = self.seq[topic] = self.seq.get(topic, 0) + 1
        clients = self._routes.get(topic)
        if clients is None:
            clients = self._routes[topic] = tuple(c for c in self.clients if topic in c.topics)
        if not clients:
            return
        market = self.cache.markets.get((ev.venue, ev.market))
        if market is None:
            return
        if isinstance(ev, BookSnapshot):
            msg = {"type": "snapshot", "topic": topic, "seq": seq, "data": views.book_event_view(market, ev)}
        elif isinstance(ev, BookDelta):
            msg = {"type": "delta", "topic": topic, "seq": seq, "data": views.book_event_view(market, ev)}
        elif isinstance(ev, Trade):
            msg = {"type": "delta", "topic": topic, "seq": seq, "data": views.trade_view(market, ev)}
        elif isinstance(ev, Funding):
            msg = {"type": "delta", "topic": topic, "seq": seq, "data": views.funding_row(ev)}
        else:
            return
        data = _encode(msg)
        for c in clients:
            before = c.dropped
            c.offer(data)
            self.dropped += c.dropped - before

    # -- client side -----------------------------------------------------
    def known_topics(self) -> list[str]:
        return [f"{family}.{v}.{m}" for family in FAMILIES for (v, m) in self.cache.markets]

    def connect(self) -> StreamClient:
        c = StreamClient(self.max_pending)
        self.clients.add(c)
        return c

    def disconnect(self, c: StreamClient) -> None:
        self.clients.discard(c)
        self._routes.clear()
        c.pending.clear()

    def subscribe(self, c: StreamClient, patterns: list[Any]) -> list[str]:
        """Topics newly subscribed, each with its snapshot queued before any delta."""
        parsed = [check_pattern(p) for p in patterns]
        new = [t for t in self.known_topics() if t not in c.topics and any(pattern_matches(p, t) for p in parsed)]
        c.topics.update(new)
        self._routes.clear()
        for topic in new:
            c.push(self.snapshot(topic))
        return new

    def unsubscribe(self, c: StreamClient, patterns: list[Any]) -> list[str]:
        parsed = [check_pattern(p) for p in patterns]
        gone = sorted(t for t in c.topics if any(pattern_matches(p, t) for p in parsed))
        c.topics.difference_update(gone)
        self._routes.clear()
        return gone

    def snapshot(self, topic: str) -> bytes:
        """The topic's state now, at its current sequence (built in one go, with
        no await, so no event can slip between the state and its number)."""
        family, venue, symbol = topic.split(".", 2)
        market = self.cache.markets[(venue, symbol)]
        if family == "book":
            data: Any = views.book_view(self.cache, market, views.MAX_DEPTH)
        elif family == "trades":
            data = views.trades_view(self.cache, market, SNAPSHOT_TRADES)
        else:
            f = self.cache.funding.get((venue, symbol))
            data = None if f is None else views.funding_row(f)
        return _encode({"type": "snapshot", "topic": topic, "seq": self.seq.get(topic, 0), "data": data})

    def resync(self, c: StreamClient) -> list[bytes]:
        """For a client that fell behind: ``gap``, then a fresh snapshot per topic."""
        c.lagging = False
        c.pending.clear()
        c.gaps += 1
        self.gaps += 1
        topics = sorted(c.topics)
        out = [_encode({"type": "gap", "topics": topics, "dropped": c.dropped})]
        out += [self.snapshot(t) for t in topics]
        return out
