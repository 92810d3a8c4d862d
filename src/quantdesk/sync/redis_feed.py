"""Feed fan-out over Redis: one feed process ingests the venues once and any
number of terminals consume its events as if Redis were a venue.

Layout under a namespace ``ns`` (all keys start ``qd:{ns}:``):

``stream:{family}``
    A Redis Stream per topic family (book, trade, funding, oi, oracle, mark,
    status). Each entry has one field ``e``: a model event, msgpack encoded.
    Trimmed with ``MAXLEN ~``.
``markets``
    msgpack ``list[Market]`` the feed serves.
``state:{venue}:{market}``
    Hash of the latest ``funding``, ``oi``, ``oracle``, ``mark`` events and
    ``book``: a :class:`BookState`, the full book plus the id of the last book
    stream entry it already includes.
``status``
    Hash venue -> latest ``VenueStatus``.
``heartbeat``
    :class:`FeedBeat`: the feed's clock, so a terminal can show the feed's age.

A terminal joining late reads the state keys (books first) and then reads the
streams after the ids it captured, dropping book deltas at or below its
snapshot's sequence, so it neither misses nor double-applies a delta.

Account events (orders, fills, positions, balances) are private to the feed
process and never published.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec

from quantdesk.core.book import OrderBook
from quantdesk.core.bus import Bus, Subscription
from quantdesk.core.model import (
    BookDelta,
    BookSnapshot,
    Event,
    Market,
    Order,
    TOPIC_PREFIX,
    OrderIntent,
    VenueStatus,
    topic_for,
)
from quantdesk.sync.redis_url import client, close_quietly, describe_error, redact, validate
from quantdesk.venues.base import TradingUnavailable, VenueError

if TYPE_CHECKING:
    import redis.asyncio

    from quantdesk.venues.session import Session

log = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "default"
DEFAULT_MAXLEN = 100_000  # per stream; ~20 s of a 5k/s feed, far beyond a snapshot refresh
SNAPSHOT_INTERVAL_S = 0.25
HEARTBEAT_INTERVAL_S = 0.5
BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 5.0

FAMILIES = ("book", "trade", "funding", "oi", "oracle", "mark", "status")
# market data only: a terminal's own orders, fills and account never leave it
FEED_FAMILY: dict[type, str] = {typ: family for typ, family in TOPIC_PREFIX.items() if family in FAMILIES}
LATEST_FAMILIES = ("funding", "oi", "oracle", "mark")  # kept per market in the state hash

_NAMESPACE_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
Key = tuple[str, str]


class BookState(msgspec.Struct, frozen=True):
    """A full book and the id of the last book stream entry it includes."""

    snapshot: BookSnapshot
    stream_id: str


class FeedBeat(msgspec.Struct, frozen=True):
    ts: int  # the feed's clock, ns
    epoch: str  # changes when the feed restarts
    events: int  # events the feed has seen since it started
    started: int


def check_namespace(namespace: str) -> str:
    if not isinstance(namespace, str) or not _NAMESPACE_RE.match(namespace):
        raise ValueError(
            f"namespace {namespace!r} is not usable: use 1-64 letters, digits, '-' or '_'"
        )
    return namespace


class FeedKeys:
    """Key names of one feed namespace."""

    def __init__(self, namespace: str) -> None:
        self.namespace = check_namespace(namespace)
        p = f"qd:{namespace}"
        self.prefix = p
        self.markets = f"{p}:markets"
        self.heartbeat = f"{p}:heartbeat"
        self.status = f"{p}:status"
        self.streams = {fam: f"{p}:stream:{fam}" for fam in FAMILIES}

    def state(self, venue: str, market: str) -> str:
        return f"{self.prefix}:state:{venue}:{market}"


def _id_tuple(stream_id: bytes | str) -> tuple[int, int]:
    s = stream_id.decode() if isinstance(stream_id, bytes) else stream_id
    ms, _, n = s.partition("-")
    return int(ms), int(n or 0)


def _as_str(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _xread_items(resp: Any) -> list[tuple[Any, list[tuple[Any, dict]]]]:
    """XREAD's reply as (stream, entries) pairs under RESP2 or RESP3."""
    if not resp:
        return []
    if isinstance(resp, dict):  # RESP3: {stream: [[entries]]}
        return [(k, v[0] if v and isinstance(v[0], list) else v) for k, v in resp.items()]
    return resp


def raise_if_cancelled() -> None:
    """Honour a cancel that a library swallowed.

    redis-py sends with ``asyncio.wait_for``, which on Python 3.11 can lose a
    cancel that arrives as the send completes; the task still counts it, so
    every reconnect loop checks here and stops as it was asked to."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError()


def _redis_errors() -> tuple[type[BaseException], ...]:
    import redis.exceptions

    return (redis.exceptions.RedisError, OSError)


# ---------------------------------------------------------------------------
# publisher
# ---------------------------------------------------------------------------


class FeedPublisher:
    """Publishes a bus's market-data events to Redis.

    ``attach(bus)`` before the venues start so their opening snapshots are
    seen; ``set_markets`` with what the venues listed; ``run()`` until
    cancelled. Events are batched: whatever arrived while the previous batch
    was in flight goes out in one pipeline. While Redis is unreachable the
    feed keeps its books current and drops stream entries; on reconnect it
    rewrites the full state and puts a snapshot of every book in the stream,
    so consumers resynchronise without a gap.
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
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        validate(url)
        self.url = url
        self.keys = FeedKeys(namespace)
        self.maxlen = maxlen
        self.snapshot_interval = snapshot_interval
        self.heartbeat_interval = heartbeat_interval
        self.max_buffer = max_buffer
        self.clock = clock
        self.epoch = secrets.token_hex(6)
        self.started = clock()
        self.markets: list[Market] = []
        self.books: dict[Key, OrderBook] = {}
        self.latest: dict[Key, dict[str, Event]] = {}
        self.statuses: dict[str, VenueStatus] = {}
        self.state = "connecting"
        self.last_error = ""
        self.events = 0  # market-data events seen on the bus
        self.published = 0  # stream entries written
        self.dropped = 0  # events not streamed (Redis down or buffer full)
        self.flushes = 0
        self.restores = 0  # full-state rewrites (first connect, reconnects, overflow)
        self._buf: list[Event] = []
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
        self._enc = msgspec.msgpack.Encoder()

    def __repr__(self) -> str:
        return f"FeedPublisher({redact(self.url)!r}, namespace={self.keys.namespace!r}, state={self.state!r})"

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
        if self.state == "connected":
            return f"feed -> {where}: connected, {self.published} entries, {self.dropped} dropped"
        return f"feed -> {where}: {self.state}: {self.last_error}"

    # -- bus side (synchronous, hot) --------------------------------------
    def on_event(self, topic: str, ev: Any) -> None:
        fam = FEED_FAMILY.get(type(ev))
        if fam is None:
            return
        self.events += 1
        if fam == "book":
            key = (ev.venue, ev.market)
            book = self.books.get(key)
            if book is None:
                book = self.books[key] = OrderBook(ev.venue, ev.market)
            book.apply(ev)
            self._book_dirty.add(key)
        elif fam == "status":
            self.statuses[ev.venue] = ev
            self._status_dirty.add(ev.venue)
        else:
            key = (ev.venue, ev.market)
            latest = self.latest.get(key)
            if latest is None:
                latest = self.latest[key] = {}
            latest[fam] = ev
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
        self._buf.append(ev)
        if len(self._buf) == 1:
            self._poke()

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    # -- Redis side ------------------------------------------------------
    async def run(self) -> None:
        """Publish until cancelled, reconnecting with backoff."""
        errors = _redis_errors()
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

    async def _restore_locked(self) -> None:
        r = self._redis
        assert r is not None
        self._connected = True  # events from here on are streamed after the restore
        book_stream = self.keys.streams["book"]
        last = await r.xrevrange(book_stream, count=1)
        last_id = _as_str(last[0][0]) if last else "0-0"
        enc = self._enc.encode
        pipe = r.pipeline(transaction=True)
        pipe.set(self.keys.markets, enc(self.markets))
        snapshots = 0
        for key, book in self.books.items():
            if book.needs_resync:
                continue
            snap = book.snapshot()
            pipe.xadd(book_stream, {b"e": enc(snap)}, maxlen=self.maxlen, approximate=True)
            pipe.hset(self.keys.state(*key), b"book", enc(BookState(snap, last_id)))
            snapshots += 1
        for key, latest in self.latest.items():
            pipe.hset(self.keys.state(*key), mapping={fam: enc(ev) for fam, ev in latest.items()})
        if self.statuses:
            pipe.hset(self.keys.status, mapping={v: enc(s) for v, s in self.statuses.items()})
        pipe.set(self.keys.heartbeat, enc(self._beat()))
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
        if not self._buf and not beat_due and not self._book_dirty:
            return
        batch, self._buf = self._buf, []
        enc = self._enc.encode
        streams = self.keys.streams
        maxlen = self.maxlen
        pipe = r.pipeline(transaction=False)
        last_book = -1
        for i, ev in enumerate(batch):
            fam = FEED_FAMILY[type(ev)]
            if fam == "book":
                last_book = i
            pipe.xadd(streams[fam], {b"e": enc(ev)}, maxlen=maxlen, approximate=True)
        n = len(batch)
        if self._latest_dirty:
            for key, fam in self._latest_dirty:
                pipe.hset(self.keys.state(*key), fam, enc(self.latest[key][fam]))
                n += 1
            self._latest_dirty.clear()
        if self._status_dirty:
            pipe.hset(self.keys.status, mapping={v: enc(self.statuses[v]) for v in self._status_dirty})
            self._status_dirty.clear()
            n += 1
        if beat_due or batch:
            pipe.set(self.keys.heartbeat, enc(self._beat()))
            self._last_beat = mono
        # Book copies are taken now, before any await, so each one holds
        # exactly the deltas in this batch and before it. Quiet books are
        # rewritten too: their snapshot is still exact at the newer stream id,
        # and a joining terminal then never replays a long stream backlog.
        snaps: list[BookSnapshot] = []
        if self._book_dirty and mono - self._last_snap >= self.snapshot_interval:
            snaps = [b.snapshot() for b in self.books.values() if not b.needs_resync]
            self._book_dirty = {k for k in self._book_dirty if self.books[k].needs_resync}
            self._last_snap = mono
        results = await pipe.execute()
        self.flushes += 1
        self.published += len(batch)
        if last_book >= 0:
            self._last_book_id = _as_str(results[last_book])
        if snaps:
            pipe = r.pipeline(transaction=False)
            for snap in snaps:
                pipe.hset(
                    self.keys.state(snap.venue, snap.market), b"book", enc(BookState(snap, self._last_book_id))
                )
            await pipe.execute()

    async def close(self) -> None:
        self.detach()
        if self._redis is not None:
            r, self._redis = self._redis, None
            await close_quietly(r)


# ---------------------------------------------------------------------------
# consumer
# ---------------------------------------------------------------------------


class _Resync(Exception):
    """Start over from the state keys (gap, feed restart, request)."""


class _FeedAbsent(Exception):
    """Redis answers but no feed has published in this namespace (yet)."""


class FeedSource:
    """A Venue (see ``venues/base.py``) whose events come from a Redis feed.

    ``connect()`` returns the markets the feed serves; ``run(bus)`` publishes
    every market's snapshot and latest values, then the live streams. A
    sequence gap, a feed restart or a lost Redis connection makes it resync
    from the state keys; while Redis is unreachable it reports itself
    ``down`` (and the feed's venues ``stale``) and retries with backoff.

    Its own ``VenueStatus`` (venue ``id``, default ``"feed"``) carries the
    feed's heartbeat in ``last_message_ts``, so ``age_s(now)`` is the feed's
    age for the status bar.
    """

    kind = "clob"
    can_trade = False

    def __init__(
        self,
        url: str,
        namespace: str = DEFAULT_NAMESPACE,
        *,
        id: str = "feed",
        clock: Callable[[], int] = time.time_ns,
        block_ms: int = 500,
        count: int = 2_000,
        connect_timeout: float = 5.0,
        stale_after_s: float = 3.0,
        trades_backfill: int = 200,
    ) -> None:
        validate(url)
        self.url = url
        self.keys = FeedKeys(namespace)
        self.id = id
        self.clock = clock
        self.block_ms = block_ms
        self.count = count
        self.connect_timeout = connect_timeout
        self.stale_after_s = stale_after_s
        self.trades_backfill = trades_backfill
        self.markets: list[Market] = []
        self.state = "connecting"
        self.last_error = ""
        self.feed_ts = 0  # the feed's heartbeat clock, ns
        self.feed_epoch = ""
        self.events = 0
        self.gaps = 0
        self.resyncs = 0  # after a gap, a feed restart or a request
        self.syncs = 0  # full reads of the state keys, first one included
        self.malformed = 0
        self.synced = asyncio.Event()
        self._bus: Bus | None = None
        self._redis: redis.asyncio.Redis | None = None
        self._seq: dict[Key, int] = {}
        self._pos: dict[str, str] = {}
        self._family_of = {v: k for k, v in self.keys.streams.items()}
        self._resync_wanted = False
        self._last_beat_check = 0.0
        self._dec = msgspec.msgpack.Decoder(Event)
        self._markets_dec = msgspec.msgpack.Decoder(list[Market])
        self._book_dec = msgspec.msgpack.Decoder(BookState)
        self._beat_dec = msgspec.msgpack.Decoder(FeedBeat)

    def __repr__(self) -> str:
        return f"FeedSource({redact(self.url)!r}, namespace={self.keys.namespace!r}, state={self.state!r})"

    @property
    def venue_ids(self) -> list[str]:
        return sorted({m.venue for m in self.markets})

    def feed_age_s(self, now_ns: int | None = None) -> float | None:
        if not self.feed_ts:
            return None
        now = self.clock() if now_ns is None else now_ns
        return max(0.0, (now - self.feed_ts) / 1e9)

    # -- Venue protocol ----------------------------------------------------
    async def connect(self) -> list[Market]:
        """The feed's markets; waits up to ``connect_timeout`` for a feed."""
        errors = _redis_errors()
        if self._redis is None:
            self._redis = client(self.url, socket_timeout=self.block_ms / 1000 + 10)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        problem = ""
        while True:
            try:
                raw = await self._redis.get(self.keys.markets)
                if raw:
                    self.markets = self._markets_dec.decode(raw)
                    return self.markets
                problem = (
                    f"no QuantDesk feed publishes at {redact(self.url)} in namespace "
                    f"{self.keys.namespace!r}: start one with `quantdesk feed --redis URL "
                    f"--namespace {self.keys.namespace}`"
                )
            except errors as exc:
                problem = describe_error(exc, self.url)
            except msgspec.DecodeError:
                problem = f"the market list at {redact(self.url)} is not a QuantDesk feed's: check the namespace"
            if loop.time() >= deadline:
                self.state, self.last_error = "down", problem
                raise VenueError(problem)
            await asyncio.sleep(0.2)

    async def run(self, bus: Bus) -> None:
        self._bus = bus
        if self._redis is None:
            self._redis = client(self.url, socket_timeout=self.block_ms / 1000 + 10)
        errors = _redis_errors()
        backoff = BACKOFF_MIN_S
        first = True
        while True:
            raise_if_cancelled()
            try:
                await self._sync(backfill=first)
                first = False
                backoff = BACKOFF_MIN_S
                await self._read_loop()
            except _Resync:
                self.resyncs += 1
                await asyncio.sleep(0.05)  # a gap that repeats must not spin
            except _FeedAbsent:
                self._down(
                    f"waiting for the feed to publish at {redact(self.url)} namespace {self.keys.namespace!r}",
                    state="stale",
                )
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)
            except errors as exc:
                self._down(describe_error(exc, self.url))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, BACKOFF_MAX_S)

    def request_resync(self, market: str | None = None) -> None:
        self._resync_wanted = True

    async def close(self) -> None:
        if self._redis is not None:
            r, self._redis = self._redis, None
            await close_quietly(r)
        self.state = "down"

    async def place(self, intent: OrderIntent, order_id: str) -> Order:
        raise TradingUnavailable(self._no_trading())

    async def cancel(self, order_id: str) -> None:
        raise TradingUnavailable(self._no_trading())

    async def cancel_all(self, market: str | None = None) -> None:
        raise TradingUnavailable(self._no_trading())

    async def modify(self, order_id: str, *, price: int | None = None, size: int | None = None) -> Order:
        raise TradingUnavailable(self._no_trading())

    def _no_trading(self) -> str:
        return "this terminal shows a shared Redis feed (read-only): trade from a terminal connected to the venue"

    # -- sync --------------------------------------------------------------
    async def _sync(self, backfill: bool) -> None:
        """Read every state key and the stream positions in one transaction,
        publish the state (books first), and set where each stream resumes."""
        r = self._redis
        bus = self._bus
        assert r is not None and bus is not None
        self._resync_wanted = False
        for _attempt in range(3):
            markets = self.markets
            pipe = r.pipeline(transaction=True)
            pipe.get(self.keys.markets)
            pipe.get(self.keys.heartbeat)
            for fam in FAMILIES:
                n = self.trades_backfill if (fam == "trade" and backfill) else 1
                pipe.xrevrange(self.keys.streams[fam], count=max(n, 1))
            for m in markets:
                pipe.hgetall(self.keys.state(m.venue, m.symbol))
            pipe.hgetall(self.keys.status)
            res = await pipe.execute()
            raw_markets, raw_beat = res[0], res[1]
            if not raw_markets:
                raise _FeedAbsent()
            listed = self._markets_dec.decode(raw_markets)
            if listed != markets:
                if markets:
                    log.warning("feed at %s now lists different markets", redact(self.url))
                self.markets = listed
                continue
            break
        else:
            raise _Resync()
        tails = res[2 : 2 + len(FAMILIES)]
        states = res[2 + len(FAMILIES) : 2 + len(FAMILIES) + len(markets)]
        statuses = res[-1]
        if raw_beat:
            beat = self._beat_dec.decode(raw_beat)
            self.feed_ts, self.feed_epoch = beat.ts, beat.epoch
        publish = bus.publish
        self._seq.clear()
        book_ids: list[str] = []
        for m, h in zip(markets, states, strict=True):
            raw_book = h.get(b"book")
            if raw_book:
                st = self._book_dec.decode(raw_book)
                self._seq[(m.venue, m.symbol)] = st.snapshot.seq
                book_ids.append(st.stream_id)
                publish(topic_for(st.snapshot), st.snapshot)
        for m, h in zip(markets, states, strict=True):
            for fam in LATEST_FAMILIES:
                raw = h.get(fam.encode())
                if raw:
                    self._publish_raw(raw)
        for raw in statuses.values():
            self._publish_raw(raw)
        if backfill:
            for _id, fields in reversed(tails[FAMILIES.index("trade")]):
                self._publish_raw(fields.get(b"e"))
        for fam, tail in zip(FAMILIES, tails, strict=True):
            self._pos[self.keys.streams[fam]] = _as_str(tail[0][0]) if tail else "0-0"
        if book_ids:
            self._pos[self.keys.streams["book"]] = min(book_ids, key=_id_tuple)
        self.syncs += 1
        self.state, self.last_error = "connected", ""
        self._publish_own_status()
        self.synced.set()

    def _publish_raw(self, raw: bytes | None) -> None:
        if not raw:
            return
        try:
            ev = self._dec.decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.malformed += 1
            return
        assert self._bus is not None
        self._bus.publish(topic_for(ev), ev)

    # -- live --------------------------------------------------------------
    async def _read_loop(self) -> None:
        r = self._redis
        bus = self._bus
        assert r is not None and bus is not None
        decode = self._dec.decode
        publish = bus.publish
        seqs = self._seq
        pos = self._pos
        family_of = self._family_of
        malformed_errors = (msgspec.DecodeError, msgspec.ValidationError)
        while True:
            raise_if_cancelled()
            if self._resync_wanted:
                raise _Resync()
            resp = await r.xread(pos, count=self.count, block=self.block_ms)
            for stream, entries in _xread_items(resp):
                name = _as_str(stream)
                fam = family_of.get(name)
                last_id = None
                for entry_id, fields in entries:
                    last_id = entry_id
                    raw = fields.get(b"e")
                    try:
                        ev = decode(raw)
                    except malformed_errors:
                        self.malformed += 1
                        continue
                    if fam == "book":
                        key = (ev.venue, ev.market)
                        if type(ev) is BookDelta:
                            last = seqs.get(key)
                            if last is None or ev.seq <= last:
                                continue  # no snapshot yet, or already in it
                            if ev.seq != last + 1:
                                self.gaps += 1
                                del seqs[key]
                                self._resync_wanted = True
                                continue
                        seqs[key] = ev.seq
                    self.events += 1
                    publish(topic_for(ev), ev)
                if last_id is not None:
                    pos[name] = _as_str(last_id)
            now = time.monotonic()
            if now - self._last_beat_check >= HEARTBEAT_INTERVAL_S:
                self._last_beat_check = now
                await self._check_beat()

    async def _check_beat(self) -> None:
        assert self._redis is not None
        raw = await self._redis.get(self.keys.heartbeat)
        if not raw:
            raise _FeedAbsent()  # Redis was restarted and the feed has not republished
        beat = self._beat_dec.decode(raw)
        if self.feed_epoch and beat.epoch != self.feed_epoch:
            self.feed_epoch = beat.epoch
            self._resync_wanted = True  # the feed restarted: its sequences started over
        self.feed_ts = beat.ts
        age = self.feed_age_s()
        self.state = "connected" if age is not None and age < self.stale_after_s else "stale"
        self._publish_own_status()

    def _publish_own_status(self) -> None:
        assert self._bus is not None
        now = self.clock()
        age = self.feed_age_s(now)
        if self.state == "connected":
            msg = f"feed {redact(self.url)} ns {self.keys.namespace}"
        elif self.state == "stale":
            msg = f"feed silent for {age:.1f}s" if age is not None else "feed silent"
        else:
            msg = self.last_error
        self._bus.publish(f"status.{self.id}", VenueStatus(self.id, self.state, now, self.feed_ts, msg))  # type: ignore[arg-type]

    def _down(self, message: str, state: str = "down") -> None:
        self.synced.clear()
        changed = self.state != state or self.last_error != message
        self.state, self.last_error = state, message
        if changed:
            log.warning("feed source: %s", message)
        if self._bus is None:
            return
        self._publish_own_status()
        now = self.clock()
        for venue in self.venue_ids:
            self._bus.publish(
                f"status.{venue}",
                VenueStatus(venue, "stale", now, self.feed_ts, f"shared feed unavailable: {message}"),
            )


def redis_session(
    url: str,
    namespace: str = DEFAULT_NAMESPACE,
    clock: Callable[[], int] | None = None,
    **kwargs: Any,
) -> Session:
    """A Session whose only venue is a :class:`FeedSource` on ``url``: what
    ``quantdesk --source redis://...`` runs the terminal on.

    ``session.start()`` raises ``VenueError`` (with a message for the trader)
    when no feed answers within the source's ``connect_timeout``."""
    from quantdesk.venues.session import Session

    clock = clock or time.time_ns
    source = FeedSource(url, namespace, clock=clock, **kwargs)
    return Session([source], clock)
