"""The relay venue: a terminal's events read from a shared Redis feed.

A terminal joining late reads the state keys (books first) and then reads the
streams after the ids it captured, dropping book deltas at or below its
snapshot's sequence, so it neither misses nor double-applies a delta.

Whatever sits in Redis is untrusted: an entry without its event, an event in
the wrong stream, an order or position someone wrote there, a book level with
a negative size, garbage in the heartbeat or the market list. Each is counted
by kind (``drops``), logged once per kind and dropped; the reader keeps
running and its status says what it sees.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from quantdesk.core.bus import Bus
from quantdesk.core.model import BookDelta, BookSnapshot, ConnState, Market, MarketKind, VenueStatus, topic_for
from quantdesk.venues.base import VenueError
from quantdesk.venues.feed_wire import (
    DEFAULT_NAMESPACE,
    EVENT_FIELD,
    FAMILIES,
    TRADE_ID_FIELD,
    LATEST_FAMILIES,
    FeedDecodeError,
    FeedKeys,
    decode_beat,
    decode_book_state,
    decode_event,
    decode_markets,
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

HEARTBEAT_CHECK_S = 0.5
BACKOFF_MIN_S = 0.1
BACKOFF_MAX_S = 5.0

Key = tuple[str, str]


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


def _field(fields: Any) -> Any:
    return fields.get(EVENT_FIELD) if isinstance(fields, dict) else None


def _trade_tag(fields: Any) -> tuple[bytes, int] | None:
    """A trade entry's ``o`` field, ``{epoch}:{n}``, as (epoch, n)."""
    raw = fields.get(TRADE_ID_FIELD) if isinstance(fields, dict) else None
    if not isinstance(raw, bytes):
        return None
    epoch, sep, n = raw.partition(b":")
    if not sep or not n.isdigit() or len(n) > 19:
        return None
    return epoch, int(n)


class _Resync(Exception):
    """Start over from the state keys (gap, feed restart, request)."""


class _FeedAbsent(Exception):
    """Redis answers but no feed has published in this namespace (yet)."""


class _FeedUnreadable(Exception):
    """The namespace's market list is not a feed's: wait for the feed to rewrite it."""


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

    kind: MarketKind = "clob"
    health = None  # the feed process keeps the counters; its heartbeat is the status
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
        self.state: ConnState = "connecting"
        self.last_error = ""
        self.feed_ts = 0  # the feed's heartbeat clock, ns
        self.feed_epoch = ""
        self.events = 0
        self.gaps = 0
        self.resyncs = 0  # after a gap, a feed restart or a request
        self.syncs = 0  # full reads of the state keys, first one included
        self.drops: dict[str, int] = {}  # entries and keys refused, by kind
        self.beat_unreadable = False  # the last heartbeat read was garbage
        self.synced = asyncio.Event()
        self._bus: Bus | None = None
        self._redis: redis.asyncio.Redis | None = None
        self._seq: dict[Key, int] = {}
        self._pos: dict[str, str] = {}
        self._family_of = {v: k for k, v in self.keys.streams.items()}
        self._resync_wanted = False
        self._last_beat_check = 0.0
        self._last_trade: tuple[bytes, int] | None = None  # (feed epoch, n) of the last trade shown

    def __repr__(self) -> str:
        return f"FeedSource({redact(self.url)!r}, namespace={self.keys.namespace!r}, state={self.state!r})"

    @property
    def malformed(self) -> int:
        """Everything dropped, whatever the kind."""
        return sum(self.drops.values())

    @property
    def venue_ids(self) -> list[str]:
        return sorted({m.venue for m in self.markets})

    def feed_age_s(self, now_ns: int | None = None) -> float | None:
        if not self.feed_ts:
            return None
        now = self.clock() if now_ns is None else now_ns
        return max(0.0, (now - self.feed_ts) / 1e9)

    def _drop(self, kind: str, exc: BaseException | str) -> None:
        n = self.drops.get(kind, 0)
        self.drops[kind] = n + 1
        if n == 0:  # once per kind: a hostile writer must not flood the log
            log.warning(
                "feed source %s ns %s: dropped %s (%s); further ones are counted, not logged",
                redact(self.url), self.keys.namespace, kind.replace("_", " "), exc,
            )

    # -- Venue protocol ----------------------------------------------------
    async def connect(self) -> list[Market]:
        """The feed's markets; waits up to ``connect_timeout`` for a feed.

        No feed at all is a ``VenueError`` (the terminal has nothing to show);
        a market list that is garbage is not: the terminal starts with the
        problem in its status and picks the markets up once the feed rewrites
        them."""
        errors = redis_errors()
        if self._redis is None:
            self._redis = client(self.url, socket_timeout=self.block_ms / 1000 + 10)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.connect_timeout
        problem = ""
        unreadable = False
        while True:
            try:
                raw = await self._redis.get(self.keys.markets)
                if raw:
                    self.markets = decode_markets(raw)
                    return self.markets
                unreadable = False
                problem = (
                    f"no QuantDesk feed publishes at {redact(self.url)} in namespace "
                    f"{self.keys.namespace!r}: start one with `quantdesk feed --redis URL "
                    f"--namespace {self.keys.namespace}`"
                )
            except errors as exc:
                unreadable = False
                problem = describe_error(exc, self.url)
            except FeedDecodeError as exc:
                if not unreadable:
                    self._drop("bad_markets", exc)
                unreadable = True
                problem = self._unreadable_markets()
            if loop.time() >= deadline:
                self.state, self.last_error = "down", problem
                if unreadable:
                    log.warning("feed source: %s", problem)
                    return []
                raise VenueError(problem)
            await asyncio.sleep(0.2)

    def _unreadable_markets(self) -> str:
        return (
            f"the market list at {redact(self.url)} namespace {self.keys.namespace!r} is unreadable: "
            f"waiting for the feed to rewrite it (restart `quantdesk feed` if this lasts, or check the namespace)"
        )

    async def run(self, bus: Bus) -> None:
        self._bus = bus
        if self._redis is None:
            self._redis = client(self.url, socket_timeout=self.block_ms / 1000 + 10)
        errors = redis_errors()
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
                continue
            except _FeedAbsent:
                self._down(
                    f"waiting for the feed to publish at {redact(self.url)} namespace {self.keys.namespace!r}",
                    state="stale",
                )
            except _FeedUnreadable:
                self._down(self._unreadable_markets())
            except errors as exc:
                self._down(describe_error(exc, self.url))
            except Exception as exc:  # a bug must cost a resync, never the terminal's feed
                self._drop("reader_error", f"{type(exc).__name__}: {exc}")
                log.debug("feed source: reader error", exc_info=True)
                self._down(f"feed reader error ({type(exc).__name__}); resyncing")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, BACKOFF_MAX_S)

    def request_resync(self, market: str | None = None) -> None:
        self._resync_wanted = True

    async def close(self) -> None:
        if self._redis is not None:
            r, self._redis = self._redis, None
            await close_quietly(r)
        self.state = "down"

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
                n = self.trades_backfill if fam == "trade" else 1
                pipe.xrevrange(self.keys.streams[fam], count=max(n, 1))
            for m in markets:
                pipe.hgetall(self.keys.state(m.venue, m.symbol))
            pipe.hgetall(self.keys.status)
            res = await pipe.execute()
            raw_markets, raw_beat = res[0], res[1]
            if not raw_markets:
                raise _FeedAbsent()
            try:
                listed = decode_markets(raw_markets)
            except FeedDecodeError as exc:
                self._drop("bad_markets", exc)
                raise _FeedUnreadable() from None
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
            self._take_beat(raw_beat)
        publish = bus.publish
        self._seq.clear()
        book_ids: list[str] = []
        for m, h in zip(markets, states, strict=True):
            raw_book = h.get(b"book")
            if not raw_book:
                continue
            try:
                st = decode_book_state(raw_book)
            except FeedDecodeError as exc:
                self._drop("bad_state", exc)
                continue
            if (st.snapshot.venue, st.snapshot.market) != (m.venue, m.symbol):
                self._drop("bad_state", f"the state of {m.venue}/{m.symbol} holds {st.snapshot.venue}/{st.snapshot.market}")
                continue
            self._seq[(m.venue, m.symbol)] = st.snapshot.seq
            book_ids.append(st.stream_id)
            publish(topic_for(st.snapshot), st.snapshot)
        for h in states:
            for fam in LATEST_FAMILIES:
                raw = h.get(fam.encode())
                if raw:
                    self._publish_raw(raw, fam, "bad_state")
        for raw in statuses.values():
            self._publish_raw(raw, "status", "bad_state")
        for _id, fields in reversed(tails[FAMILIES.index("trade")]):
            # First sync: the tape's recent past. A resync: only trades this
            # terminal has not shown, such as those the feed replays after an outage.
            if backfill or self._trade_is_new(fields):
                self._publish_raw(_field(fields), "trade")
                self._note_trade(fields)
        for fam, tail in zip(FAMILIES, tails, strict=True):
            self._pos[self.keys.streams[fam]] = _as_str(tail[0][0]) if tail else "0-0"
        if book_ids:
            self._pos[self.keys.streams["book"]] = min(book_ids, key=_id_tuple)
        self.syncs += 1
        self.state, self.last_error = "connected", ""
        self._publish_own_status()
        self.synced.set()

    def _publish_raw(self, raw: Any, family: str, where: str | None = None) -> None:
        """Decode and publish one value of ``family``; count and drop a bad one
        (under ``where`` if given, else its own kind)."""
        try:
            ev = decode_event(raw, family)
        except FeedDecodeError as exc:
            self._drop(where or self._kind(exc), exc)
            return
        if isinstance(ev, VenueStatus) and ev.venue == self.id:
            self._drop("wrong_family", f"a status claiming to be this terminal's feed source {self.id!r}")
            return
        assert self._bus is not None
        self._bus.publish(topic_for(ev), ev)

    def _note_trade(self, fields: Any) -> None:
        tag = _trade_tag(fields)
        if tag is not None:
            self._last_trade = tag

    def _trade_is_new(self, fields: Any) -> bool:
        """A trade of the feed now publishing, after the last one shown."""
        tag = _trade_tag(fields)
        if tag is None or tag[0] != self.feed_epoch.encode():
            return False
        last = self._last_trade
        return last is None or last[0] != tag[0] or tag[1] > last[1]

    @staticmethod
    def _kind(exc: FeedDecodeError) -> str:
        return "no_event_field" if exc.kind == "missing" else exc.kind

    def _take_beat(self, raw: Any) -> bool:
        try:
            beat = decode_beat(raw)
        except FeedDecodeError as exc:
            self._drop("bad_heartbeat", exc)
            self.beat_unreadable = True
            return False
        self.beat_unreadable = False
        if self.feed_epoch and beat.epoch != self.feed_epoch:
            self._resync_wanted = True  # the feed restarted: its sequences started over
        self.feed_ts, self.feed_epoch = beat.ts, beat.epoch
        return True

    # -- live --------------------------------------------------------------
    async def _read_loop(self) -> None:
        r = self._redis
        bus = self._bus
        assert r is not None and bus is not None
        publish = bus.publish
        seqs = self._seq
        pos = self._pos
        family_of = self._family_of
        while True:
            raise_if_cancelled()
            if self._resync_wanted:
                raise _Resync()
            resp = await r.xread(pos, count=self.count, block=self.block_ms)  # type: ignore[arg-type]  # redis-py types the streams dict invariantly; str names and ids are what it sends
            for stream, entries in _xread_items(resp):
                name = _as_str(stream)
                fam = family_of.get(name)
                if fam is None:
                    continue
                last_id = None
                for entry_id, fields in entries:
                    last_id = entry_id
                    try:
                        ev = decode_event(_field(fields), fam)
                    except FeedDecodeError as exc:
                        # A dropped book entry leaves that book behind; the
                        # next delta then shows a gap and the book resyncs.
                        self._drop(self._kind(exc), exc)
                        continue
                    if isinstance(ev, BookDelta | BookSnapshot):
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
                    elif isinstance(ev, VenueStatus) and ev.venue == self.id:
                        self._drop("wrong_family", f"a status claiming to be this terminal's feed source {self.id!r}")
                        continue
                    elif fam == "trade":
                        self._note_trade(fields)
                    self.events += 1
                    publish(topic_for(ev), ev)
                if last_id is not None:
                    pos[name] = _as_str(last_id)
            now = time.monotonic()
            if now - self._last_beat_check >= HEARTBEAT_CHECK_S:
                self._last_beat_check = now
                await self._check_beat()

    async def _check_beat(self) -> None:
        assert self._redis is not None
        raw = await self._redis.get(self.keys.heartbeat)
        if not raw:
            raise _FeedAbsent()  # Redis was restarted and the feed has not republished
        self._take_beat(raw)
        # An unreadable beat leaves the last good one: its age tells the truth.
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
            if self.beat_unreadable:
                msg = f"feed heartbeat unreadable; {msg}"
        else:
            msg = self.last_error
        dropped = self.malformed
        if dropped and self.state != "down":
            msg = f"{msg}; {dropped} bad entries dropped"
        self._bus.publish(f"status.{self.id}", VenueStatus(self.id, self.state, now, self.feed_ts, msg))

    def _down(self, message: str, state: ConnState = "down") -> None:
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

