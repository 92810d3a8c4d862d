"""Feed fan-out over Redis: one feed process ingests the venues once and any
number of terminals consume its events as if Redis were a venue (the relay
venue, ``quantdesk.venues.relay``; the wire format is ``quantdesk.venues.feed_wire``).

Account events (orders, fills, positions, balances) are private to the feed
process and never published.

One bad event never stops the feed: an event the format cannot carry (an
integer beyond 64 bits) or a book level no venue could send is counted in
``rejected`` and dropped before it reaches a book, a state key or a pipeline,
so the heartbeat and every other event keep flowing.

Trades are not state: a trade not written is lost to every terminal. Each one
waits in an in-memory outbox (bounded by ``max_outbox``) until Redis has
acknowledged it, so trades seen while Redis is down are written, in order,
when it returns. Each trade entry carries ``o = {epoch}:{n}``; before
replaying, the publisher reads the stream's tail and skips what is already
there, so a pipeline that was applied but not acknowledged is not written twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from quantdesk.core.book import OrderBook
from quantdesk.core.bus import Bus, Subscription
from quantdesk.core.model import BookSnapshot, Market
from quantdesk.venues.feed_wire import (
    DEFAULT_NAMESPACE,
    EVENT_FIELD,
    FEED_FAMILY,
    TRADE_ID_FIELD,
    BookState,
    FeedBeat,
    FeedDecodeError,
    FeedEncodeError,
    FeedKeys,
    check_book,
    encode,
)
from quantdesk.venues.redis_conn import (
    client,
    close_quietly,
    describe_error,
    raise_if_cancelled,
    redact,
    redis_errors,
    validate,
)

if TYPE_CHECKING:
    import redis.asyncio

log = logging.getLogger(__name__)

DEFAULT_MAXLEN = 100_000  # per stream; ~20 s of a 5k/s feed, far beyond a snapshot refresh
DEFAULT_MAX_OUTBOX = 100_000  # trades kept for Redis while it is away
SNAPSHOT_INTERVAL_S = 0.25
HEARTBEAT_INTERVAL_S = 0.5
BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 5.0

Key = tuple[str, str]


def _as_str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class FeedPublisher:
    """Publishes a bus's market-data events to Redis.

    ``attach(bus)`` before the venues start so their opening snapshots are
    seen; ``set_markets`` with what the venues listed; ``run()`` until
    cancelled. Events are batched: whatever arrived while the previous batch
    was in flight goes out in one pipeline. While Redis is unreachable the
    feed keeps its books current, keeps trades in its outbox and drops other
    stream entries; on reconnect it rewrites the full state, puts a snapshot
    of every book in the stream and replays the trades, so consumers
    resynchronise without a gap.
    """

    def __init__(
        self,
        url: str,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        maxlen: int = DEFAULT_MAXLEN,
        snapshot_interval: float = SNAPSHOT_INTERVAL_S,
        heartbeat_interval: float = HEARTBEAT_INTERVAL_S,
        max_buffer: int = 200_000,
        max_outbox: int = DEFAULT_MAX_OUTBOX,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        validate(url)
        self.url = url
        self.keys = FeedKeys(namespace)
        self.maxlen = maxlen
        self.snapshot_interval = snapshot_interval
        self.heartbeat_interval = heartbeat_interval
        self.max_buffer = max_buffer
        self.max_outbox = max_outbox
        self.clock = clock
        self.epoch = secrets.token_hex(6)
        self.started = clock()
        self.markets: list[Market] = []
        self.books: dict[Key, OrderBook] = {}
        self.latest: dict[Key, dict[str, bytes]] = {}  # encoded latest value per family
        self.statuses: dict[str, bytes] = {}  # encoded latest VenueStatus per venue
        self.state = "connecting"
        self.last_error = ""
        self.events = 0  # market-data events seen on the bus
        self.published = 0  # stream entries written
        self.dropped = 0  # events not streamed (Redis down or buffer full)
        self.rejected = 0  # events the feed format cannot carry or no venue could send
        self.replayed = 0  # trades written from the outbox after Redis was away
        self.flushes = 0
        self.restores = 0  # full-state rewrites (first connect, reconnects, overflow)
        self._buf: list[tuple[str, bytes]] = []  # (family, encoded event), trades excluded
        self._trades: deque[tuple[int, bytes]] = deque()  # (n, encoded trade) not yet acknowledged
        self._trade_n = 0
        self._replay_upto = 0  # trades up to this one were waiting when Redis came back
        self._book_dirty: set[Key] = set()
        self._latest_dirty: set[tuple[Key, str]] = set()
        self._status_dirty: set[str] = set()
        self._connected = False
        self._need_restore = True
        self._last_book_id = "0-0"
        self._last_snap = 0.0
        self._last_beat = 0.0
        self._wake: asyncio.Event | None = None
        self._io = asyncio.Lock()  # one pipeline in flight: stream order is event order
        self._sub: Subscription | None = None
        self._redis: redis.asyncio.Redis | None = None
        self._rejects_logged = False

    def __repr__(self) -> str:
        return f"FeedPublisher({redact(self.url)!r}, namespace={self.keys.namespace!r}, state={self.state!r})"

    @property
    def outbox(self) -> int:
        """Trades waiting for Redis."""
        return len(self._trades)

    @property
    def queued(self) -> int:
        """Events waiting to go out: the next pipeline's buffer and unacknowledged trades."""
        return len(self._buf) + len(self._trades)

    # -- wiring ------------------------------------------------------------
    def attach(self, bus: Bus) -> None:
        self._sub = bus.subscribe("#", self.on_event)

    def detach(self) -> None:
        if self._sub is not None:
            self._sub.close()
            self._sub = None

    def set_markets(self, markets: Iterable[Market]) -> None:
        self.markets = list(markets)
        self._need_restore = True
        self._poke()

    def status_line(self) -> str:
        where = f"{redact(self.url)} namespace {self.keys.namespace}"
        rejected = f", {self.rejected} rejected" if self.rejected else ""
        if self.state == "connected":
            return f"feed -> {where}: connected, {self.published} entries, {self.dropped} dropped{rejected}"
        waiting = f", {self.outbox} trades waiting" if self._trades else ""
        return f"feed -> {where}: {self.state}: {self.last_error}{waiting}{rejected}"

    # -- bus side (synchronous, hot) --------------------------------------
    def _reject(self, ev: Any, exc: Exception) -> None:
        self.rejected += 1
        if not self._rejects_logged:  # once: a broken venue must not flood the log
            self._rejects_logged = True
            log.warning("feed: dropped a %s it cannot publish (%s); further ones are counted", type(ev).__name__, exc)

    def on_event(self, topic: str, ev: Any) -> None:
        fam = FEED_FAMILY.get(type(ev))
        if fam is None:
            return
        self.events += 1
        try:
            if fam == "book":
                check_book(ev)
            raw = encode(ev)
        except (FeedDecodeError, FeedEncodeError) as exc:
            self._reject(ev, exc)
            return
        if fam == "book":
            key = (ev.venue, ev.market)
            book = self.books.get(key)
            if book is None:
                book = self.books[key] = OrderBook(ev.venue, ev.market)
            book.apply(ev)
            self._book_dirty.add(key)
        elif fam == "trade":
            self._trade_n += 1
            self._trades.append((self._trade_n, raw))
            if len(self._trades) > self.max_outbox:
                self._trades.popleft()
                self.dropped += 1
            if self._connected and len(self._trades) == 1:
                self._poke()
            return
        elif fam == "status":
            self.statuses[ev.venue] = raw
            self._status_dirty.add(ev.venue)
        else:
            key = (ev.venue, ev.market)
            latest = self.latest.get(key)
            if latest is None:
                latest = self.latest[key] = {}
            latest[fam] = raw
            self._latest_dirty.add((key, fam))
        if not self._connected:
            self.dropped += 1
            return
        if len(self._buf) >= self.max_buffer:
            # Redis cannot keep up: drop and rewrite the full state next
            # round, so consumers resync instead of drifting.
            self.dropped += 1
            self._need_restore = True
            return
        self._buf.append((fam, raw))
        if len(self._buf) == 1:
            self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- Redis side ------------------------------------------------------
    async def run(self) -> None:
        """Publish until cancelled, reconnecting with backoff."""
        errors = redis_errors()
        self._wake = asyncio.Event()
        backoff = BACKOFF_MIN_S
        while True:
            raise_if_cancelled()
            try:
                if self._redis is None:
                    self._redis = client(self.url)
                await self._restore()
                self._set_state("connected")
                backoff = BACKOFF_MIN_S
                while True:
                    raise_if_cancelled()
                    try:
                        # asyncio.timeout, not wait_for: wait_for in 3.11 can
                        # swallow a cancel that races with the wake-up.
                        async with asyncio.timeout(self.heartbeat_interval):
                            await self._wake.wait()
                    except TimeoutError:
                        pass
                    self._wake.clear()
                    if self._need_restore:
                        await self._restore()
                    await self.flush()
            except errors as exc:
                self._connected = False
                self._need_restore = True
                self.dropped += len(self._buf)
                self._buf = []
                msg = describe_error(exc, self.url)
                if self.state != "down" or msg != self.last_error:
                    log.warning("feed: %s; retrying", msg)
                self._set_state("down", msg)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def _set_state(self, state: str, error: str = "") -> None:
        self.state = state
        self.last_error = error

    async def _restore(self) -> None:
        """Write the full state in one transaction: markets, every book (in its
        key and in the stream), latest values, statuses, heartbeat."""
        async with self._io:
            await self._restore_locked()

    def _snapshots(self) -> list[BookSnapshot]:
        return [b.snapshot() for b in self.books.values() if not b.needs_resync]

    async def _restore_locked(self) -> None:
        r = self._redis
        assert r is not None
        self._connected = True  # events from here on are streamed after the restore
        book_stream = self.keys.streams["book"]
        last = await r.xrevrange(book_stream, count=1)
        last_id = _as_str(last[0][0]) if last else "0-0"  # type: ignore[arg-type]  # an XREVRANGE entry always has an id
        if self._trades:
            await self._skip_acknowledged_trades()
            self._replay_upto = self._trades[-1][0] if self._trades else 0
        pipe = r.pipeline(transaction=True)
        pipe.set(self.keys.markets, encode(self.markets))
        snapshots = 0
        for snap in self._snapshots():
            raw = encode(snap)
            pipe.xadd(book_stream, {EVENT_FIELD: raw}, maxlen=self.maxlen, approximate=True)
            pipe.hset(self.keys.state(snap.venue, snap.market), b"book", encode(BookState(snap, last_id)))
            snapshots += 1
        for key, latest in self.latest.items():
            pipe.hset(self.keys.state(*key), mapping=latest)  # type: ignore[arg-type]  # redis-py types the mapping's keys invariantly; str keys are what it sends
        if self.statuses:
            pipe.hset(self.keys.status, mapping=self.statuses)  # type: ignore[arg-type]  # as above: str keys, invariant in the stubs
        pipe.set(self.keys.heartbeat, encode(self._beat()))
        self._book_dirty = {k for k, b in self.books.items() if b.needs_resync}
        self._latest_dirty.clear()
        self._status_dirty.clear()
        self._need_restore = False
        results = await pipe.execute()
        if snapshots:
            self._last_book_id = _as_str(results[2 * snapshots - 1])
        self.published += snapshots
        self.restores += 1
        self._last_snap = self._last_beat = time.monotonic()
        if self._trades:
            self._poke()  # the flush replays them

    async def _skip_acknowledged_trades(self) -> None:
        """Forget outbox trades the stream already holds (a pipeline Redis
        applied but whose reply was lost with the connection)."""
        assert self._redis is not None
        tail = await self._redis.xrevrange(self.keys.streams["trade"], count=max(64, min(len(self._trades), 10_000)))
        mine = self.epoch.encode() + b":"
        written = 0
        for _id, fields in tail or []:
            tag = fields.get(TRADE_ID_FIELD, b"") if isinstance(fields, dict) else b""
            if isinstance(tag, bytes) and tag.startswith(mine):
                try:
                    written = max(written, int(tag[len(mine) :]))
                except ValueError:
                    continue
        while self._trades and self._trades[0][0] <= written:
            self._trades.popleft()

    def _beat(self) -> FeedBeat:
        return FeedBeat(self.clock(), self.epoch, self.events, self.started)

    async def flush(self) -> None:
        """Write everything buffered in one pipeline (no-op if nothing changed)."""
        async with self._io:
            await self._flush_locked()

    async def _flush_locked(self) -> None:
        r = self._redis
        if r is None or not self._connected:
            return
        mono = time.monotonic()
        beat_due = mono - self._last_beat >= self.heartbeat_interval / 2
        if not self._buf and not self._trades and not beat_due and not self._book_dirty:
            return
        batch, self._buf = self._buf, []
        trades = list(self._trades)
        streams = self.keys.streams
        maxlen = self.maxlen
        pipe = r.pipeline(transaction=False)
        last_book = -1
        for i, (fam, raw) in enumerate(batch):
            if fam == "book":
                last_book = i
            pipe.xadd(streams[fam], {EVENT_FIELD: raw}, maxlen=maxlen, approximate=True)
        trade_stream = streams["trade"]
        tag = self.epoch.encode() + b":"
        for n, raw in trades:
            pipe.xadd(trade_stream, {EVENT_FIELD: raw, TRADE_ID_FIELD: tag + b"%d" % n}, maxlen=maxlen, approximate=True)
        if self._latest_dirty:
            for key, fam in self._latest_dirty:
                pipe.hset(self.keys.state(*key), fam, self.latest[key][fam])
            self._latest_dirty.clear()
        if self._status_dirty:
            pipe.hset(self.keys.status, mapping={v: self.statuses[v] for v in self._status_dirty})
            self._status_dirty.clear()
        if beat_due or batch or trades:
            pipe.set(self.keys.heartbeat, encode(self._beat()))
            self._last_beat = mono
        # Book copies are taken now, before any await, so each one holds
        # exactly the deltas in this batch and before it. Quiet books are
        # rewritten too: their snapshot is still exact at the newer stream id,
        # and a joining terminal then never replays a long stream backlog.
        snaps: list[BookSnapshot] = []
        if self._book_dirty and mono - self._last_snap >= self.snapshot_interval:
            snaps = self._snapshots()
            self._book_dirty = {k for k in self._book_dirty if self.books[k].needs_resync}
            self._last_snap = mono
        results = await pipe.execute()
        self.flushes += 1
        self.published += len(batch) + len(trades)
        if trades:
            last_n = trades[-1][0]
            self.replayed += sum(1 for n, _ in trades if n <= self._replay_upto)
            while self._trades and self._trades[0][0] <= last_n:
                self._trades.popleft()
        if last_book >= 0:
            self._last_book_id = _as_str(results[last_book])
        if snaps:
            pipe = r.pipeline(transaction=False)
            for snap in snaps:
                pipe.hset(
                    self.keys.state(snap.venue, snap.market), b"book", encode(BookState(snap, self._last_book_id))
                )
            await pipe.execute()

    async def close(self) -> None:
        self.detach()
        if self._redis is not None:
            r, self._redis = self._redis, None
            await close_quietly(r)

