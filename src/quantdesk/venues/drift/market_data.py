"""Public market data of a Drift-v2 deployment: DLOB server books and trades,
data-API funding, RPC slot for the lag figure.

The DLOB WebSocket pushes a full snapshot of the top levels per market about
every 400 ms, so each push becomes a ``BookSnapshot`` with the next sequence
number; a REST ``/l2`` snapshot is taken on start, after every reconnect and
on request. Pushes older than one already published (by slot, then server
time) or older than ``max_snapshot_age_s`` are counted and dropped, as is any
message that does not decode. Silence past ``silence_s`` marks the feed stale
and resubscribes; a second silence reconnects with exponential backoff.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from decimal import Decimal
from typing import Any

import msgspec

from quantdesk.core.bus import Bus
from quantdesk.core.model import ConnState, FundingHistory, MarkPrice, OraclePrice, VenueStatus, topic_for
from quantdesk.venues.drift import wire
from quantdesk.venues.drift.backoff import backoff_s
from quantdesk.venues.drift.book_watch import BookWatch
from quantdesk.venues.drift.config import DriftDeployment, MarketSpec
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.recent_keys import RecentKeys
from quantdesk.venues.drift.rest import HostsUnavailable, HttpHosts, retry_after_s
from quantdesk.venues.drift.rpc_link import rpc_for
from quantdesk.venues.drift.subscriptions import Key, Subscriptions
from quantdesk.venues.solana.rpc import RpcError
from quantdesk.venues.timers import LOOP_TIMERS, Timers

log = logging.getLogger(__name__)

DAY_S = 24 * 3600


class DlobFeed:
    def __init__(
        self,
        deployment: DriftDeployment,
        health: FeedHealth,
        *,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[Any]] | None = None,
        timers: Timers = LOOP_TIMERS,
    ) -> None:
        d = deployment
        self.deployment = d
        self.venue = d.id
        self.health = health
        self.clock = clock
        self.timers = timers  # silence deadlines; also backoff and polling unless ``sleep`` is given
        self._sleep = sleep or timers.sleep
        def hosts(urls: list[str], name: str) -> HttpHosts:
            return HttpHosts(
                urls, health, name=name,
                timeout_s=d.http_timeout_s, backoff_initial_s=d.backoff_initial_s, backoff_max_s=d.backoff_max_s,
            )

        self.dlob = hosts([d.dlob_url], "DLOB server")
        self.data_api = hosts([d.data_api_url], "data API")
        self.rpc = rpc_for(d, health)
        self.markets: list[MarketSpec] = []  # the markets streamed: the watchlist, then those followed on demand
        self.by_index: dict[int, MarketSpec] = {}
        self._by_symbol: dict[str, MarketSpec] = {}
        self._by_wire: dict[str, MarketSpec] = {}  # by the name the DLOB server uses (an override may rename)
        self.set_markets(d.watched)
        self.seq: dict[str, int] = {}
        self._last_key: dict[str, tuple[int, int]] = {}
        self._resync: set[str] = set()
        self._fills_seen = RecentKeys()  # kept across reconnects: a replayed fill prints once
        # Own-order followers hear every fill record: the venue's own and one per trader served over SSH.
        self._fill_listeners: list[Callable[[wire.TradeRecord], None]] = []
        self.subs = Subscriptions(d.backoff_initial_s, d.backoff_max_s)
        self.book_watch = BookWatch(d.book_stall_s)
        self._unknown_channels: set[str] = set()  # pushes for markets not configured, logged once each
        self._deep: dict[str, wire.L2Book] = {}  # market -> the last REST book, for levels beyond the push
        self._resync_event = asyncio.Event()
        self.funding_history: dict[str, list[tuple[int, int]]] = {}  # market -> [(ts ns, hourly ppb)]
        self.funding_avg_24h: dict[str, int | None] = {}
        self._history_sent: dict[str, int] = {}  # market -> newest rate's ts in the last FundingHistory published
        self.state: ConnState = "connecting"
        self.status_message = ""
        self._status_published = False
        self._bus: Bus | None = None
        self._ws: Any = None
        self._follow_tasks: set[asyncio.Task] = set()

    # -- markets -----------------------------------------------------------
    def set_markets(self, markets: Iterable[MarketSpec]) -> None:
        """The markets to stream (before ``run``)."""
        self.markets = []
        self.by_index, self._by_symbol, self._by_wire = {}, {}, {}
        for spec in markets:
            self._add(spec)

    def _add(self, spec: MarketSpec) -> bool:
        if spec.symbol in self._by_symbol or spec.index in self.by_index:
            return False
        self.markets.append(spec)
        self.by_index[spec.index] = spec
        self._by_symbol[spec.symbol] = spec
        self._by_wire[spec.wire_name.upper()] = spec
        return True

    def market(self, symbol: str) -> MarketSpec | None:
        """A streamed market by its symbol."""
        return self._by_symbol.get(symbol)

    async def follow(self, spec: MarketSpec) -> bool:
        """Stream one more market from now on: subscribed on the open connection
        (and on every later one), its REST snapshot and funding fetched at once.
        False if it is streamed already."""
        if not self._add(spec):
            return False
        if self._ws is not None:
            for channel in ("orderbook", "trades"):
                await self._send_subscribe(self._ws, (channel, spec.wire_name))
        if self._bus is None:
            return True  # not running: ``run`` snapshots every market it streams
        task = asyncio.create_task(self._first_look(spec), name=f"{self.venue}-follow-{spec.symbol}")
        self._follow_tasks.add(task)
        task.add_done_callback(self._follow_tasks.discard)
        return True

    async def _first_look(self, spec: MarketSpec) -> None:
        try:
            await asyncio.gather(self.fetch_l2(spec), self.poll_funding(spec))
        except Exception as exc:  # counted where it can be; the pushes fill in the rest
            log.warning("%s: first snapshot of %s failed: %s", self.venue, spec.symbol, exc.__class__.__name__)

    # -- publishing ------------------------------------------------------
    def _publish(self, event: Any) -> None:
        if self._bus is not None:
            self._bus.publish(topic_for(event), event)

    def _set_state(self, state: ConnState, message: str = "") -> None:
        if state == "connected" and self.deployment.read_only_reason():
            state, message = "read-only", message or self.deployment.read_only_reason() or ""
        if state == self.state and message == self.status_message and self._status_published:
            return
        self._status_published = True
        self.state, self.status_message = state, message
        self._publish(
            VenueStatus(
                venue=self.venue,
                state=state,
                ts=self.clock(),
                last_message_ts=self.health.last_message_ns,
                message=message,
            )
        )

    # -- books -------------------------------------------------------------
    def reset_ordering(self, market: str | None = None) -> None:
        """Forget the last book's slot and time (all markets if None): the next
        book is taken whatever its order, so one bad key cannot freeze a book."""
        if market is None:
            self._last_key.clear()
        else:
            self._last_key.pop(market, None)

    def _slot_implausible(self, market: str, slot: int) -> bool:
        """A slot below zero, or further past the newest slot known (the RPC's,
        or this market's last book's) than ``max_slot_lead``."""
        if slot < 0:
            return True
        last = self._last_key.get(market)
        known = max(self.health.rpc_slot or 0, last[0] if last is not None else 0)
        return known > 0 and slot > known + self.deployment.max_slot_lead

    def on_book(self, market: str, book: wire.L2Book) -> bool:
        """Publish a snapshot unless it is out of order, stale or from an
        implausible slot. True if published. A crossed book is published (and
        counted): the book shows it crossed and nothing trades on it."""
        now = self.clock()
        if book.slot is not None and self._slot_implausible(market, book.slot):
            self.health.implausible_slot += 1
            return False
        key = wire.book_order_key(book) if book.slot is not None or book.ts is not None else None
        last = self._last_key.get(market)
        if key is not None and last is not None and key < last:
            self.health.out_of_order += 1
            return False
        if (key is None or last is None or key > last) and self.book_watch.advanced(market, self._mono_ns()):
            if not self.book_watch.stalled() and self.state == "stale":
                self._set_state("connected")
        ts = wire.book_ts_ns(book)
        if ts is not None and now - ts > self.deployment.max_snapshot_age_s * 1e9:
            self.health.stale += 1
            return False
        if key is not None:
            self._last_key[market] = key
        if book.slot is not None:
            self.health.dlob_slot = max(self.health.dlob_slot or 0, book.slot)
        if ts is not None:
            self.health.feed_lag_ms = (now - ts) / 1e6
        seq = self.seq[market] = self.seq.get(market, 0) + 1
        self.health.last_message_ns = now
        snap = wire.to_snapshot(book, self.venue, market, seq, ts if ts is not None else now)
        self.health.books += 1
        if snap.bids and snap.asks and snap.bids[0][0] >= snap.asks[0][0]:
            self.health.crossed += 1
        self._publish(snap)
        oracle = wire.oracle_price(book)
        if oracle:
            conf = book.oracleData.confidence if book.oracleData is not None else None
            self._publish(OraclePrice(self.venue, market, snap.ts, oracle, conf or 0))
        if book.markPrice:
            self._publish(MarkPrice(self.venue, market, snap.ts, book.markPrice))
        return True

    async def fetch_l2(self, spec: MarketSpec) -> bool:
        try:
            raw = await self.dlob.get(
                "/l2", {"marketName": spec.wire_name, "depth": self.deployment.book_depth}
            )
            book = wire.decode_l2(raw)
        except HostsUnavailable as exc:
            log.warning("%s: /l2 %s: %s", self.venue, spec.symbol, exc)
            return False
        except wire.WireError as exc:
            self.health.malformed += 1
            self.health.last_error = f"/l2 {spec.symbol}: {exc}"
            return False
        self.health.rest_snapshots += 1
        if self._wants_deep():
            self._deep[spec.symbol] = book
        if wire.is_cache_miss(book):
            # The server has no book for the market yet: keep the one shown, take the oracle.
            self.health.rest_cache_misses += 1
            oracle = wire.oracle_price(book)
            if oracle:
                conf = book.oracleData.confidence if book.oracleData is not None else None
                self._publish(OraclePrice(self.venue, spec.symbol, self.clock(), oracle, conf or 0))
            return False
        self.reset_ordering(spec.symbol)  # a snapshot asked for is the truth, whatever came before
        return self.on_book(spec.symbol, book)

    def _wants_deep(self) -> bool:
        return self.deployment.book_depth > wire.WS_LEVELS

    async def fetch_deep(self, spec: MarketSpec) -> bool:
        """Refresh the levels beyond the push from REST ``/l2`` (not published by itself)."""
        try:
            raw = await self.dlob.get("/l2", {"marketName": spec.wire_name, "depth": self.deployment.book_depth})
            book = wire.decode_l2(raw)
        except HostsUnavailable:
            return False
        except wire.WireError as exc:
            self.health.malformed += 1
            self.health.last_error = f"/l2 {spec.symbol}: {exc}"
            return False
        if wire.is_cache_miss(book):
            self.health.rest_cache_misses += 1
            return False
        self._deep[spec.symbol] = book
        return True

    async def _poll_deep(self) -> None:
        for spec in list(self.markets):
            await self.fetch_deep(spec)

    async def snapshot_all(self) -> None:
        await asyncio.gather(*(self.fetch_l2(m) for m in list(self.markets)))

    def request_resync(self, market: str) -> None:
        if self.market(market) is not None:
            self._resync.add(market)
            self._resync_event.set()

    async def _resync_loop(self) -> None:
        while True:
            await self._resync_event.wait()
            self._resync_event.clear()
            markets, self._resync = self._resync, set()
            for symbol in sorted(markets):
                spec = self.market(symbol)
                if spec is None:
                    continue
                try:
                    await self.fetch_l2(spec)
                except Exception as exc:
                    log.exception("%s: resync of %s failed", self.venue, symbol)
                    self.health.error(f"resync {symbol}: {exc.__class__.__name__}")

    # -- trades ----------------------------------------------------------------
    def on_fill(self, market: str, rec: wire.TradeRecord) -> bool:
        """Publish one fill record as a trade unless it was published before
        (same market and ``fillRecordId``, across reconnects). True if published;
        WireError if the record cannot be a trade."""
        trade = wire.to_trade(rec, self.venue, market)
        key = wire.trade_key(rec)
        if key is not None and not self._fills_seen.add(key):
            self.health.duplicate_fills += 1
            return False
        self._publish(trade)
        self.health.trades += 1
        for listener in tuple(self._fill_listeners):  # one may be removed as another runs
            listener(rec)
        return True

    def add_fill_listener(self, listener: Callable[[wire.TradeRecord], None]) -> None:
        """Hear every fill record published from now on (once per record)."""
        self._fill_listeners.append(listener)

    def remove_fill_listener(self, listener: Callable[[wire.TradeRecord], None]) -> None:
        """Stop ``listener`` hearing fills; nothing if it was not listening."""
        if listener in self._fill_listeners:
            self._fill_listeners.remove(listener)

    @property
    def fill_listeners(self) -> tuple[Callable[[wire.TradeRecord], None], ...]:
        return tuple(self._fill_listeners)

    # -- WebSocket -----------------------------------------------------------
    def _mono_ns(self) -> int:
        return int(self.timers.now() * 1e9)

    def _subscriptions(self) -> list[Key]:
        return [(channel, m.wire_name) for m in self.markets for channel in ("orderbook", "trades")]

    async def _send_subscribe(self, ws: Any, key: Key) -> None:
        channel, market = key
        msg = msgspec.json.encode({"type": "subscribe", "marketType": "perp", "channel": channel, "market": market})
        self.subs.sent(key)
        await ws.send(msg.decode())

    async def _subscribe(self, ws: Any) -> None:
        for key in self._subscriptions():
            await self._send_subscribe(ws, key)

    def _on_refusal(self, channel: str | None, error: str) -> None:
        refused = self.subs.on_error(channel, error, self._mono_ns())
        self.health.subscription_errors += 1
        what = ", ".join(f"{c} {m}" for c, m in refused) or f"channel {channel or '?'}"
        self.health.error(f"DLOB server refused the subscription to {what}: {error}; retrying with backoff"[:200])

    def _unknown_market(self, channel: str) -> None:
        self.health.unknown_market += 1
        if channel not in self._unknown_channels:
            self._unknown_channels.add(channel)
            log.warning("%s: the DLOB server pushed %s, a market this venue does not list; dropped", self.venue, channel)

    def _market_matches(self, channel: str, spec: MarketSpec, book: wire.L2Book) -> bool:
        """A book's own ``marketName``/``marketIndex`` agree with its channel's market."""
        name_ok = book.marketName is None or book.marketName.upper() == spec.wire_name.upper()
        index_ok = book.marketIndex is None or book.marketIndex == spec.index
        if name_ok and index_ok:
            return True
        self.health.malformed += 1
        self.health.last_error = (
            f"{channel}: a book for {book.marketName} (index {book.marketIndex}) on the channel of "
            f"{spec.symbol} (index {spec.index}); dropped"
        )
        return False

    async def _after_message(self, ws: Any) -> bool:
        """Retry refused subscriptions that are due and act on stalled books.
        False when the connection should be replaced."""
        now = self._mono_ns()
        for key in self.subs.due(now):
            await self._send_subscribe(ws, key)
        for market, action in self.book_watch.check(now):
            stall = self.deployment.book_stall_s
            if action == "reconnect":
                self.health.error(f"{market} book still not advancing {stall:g}s after a resubscribe; new connection")
                return False
            self.health.resubscribes += 1
            self._set_state("stale", f"{market} book has not advanced for {stall:g}s (heartbeats still arrive)")
            spec = self.market(market)
            await self._send_subscribe(ws, ("orderbook", spec.wire_name if spec is not None else market))
        return True

    def on_message(self, raw: str | bytes) -> bool:
        """Handle one WebSocket message; never raises on bad data. True if it
        shows the feed is alive (a heartbeat or data, not an ack or an error)."""
        self.health.messages += 1
        try:
            env = wire.decode_envelope(raw)
        except wire.WireError:
            self.health.malformed += 1
            return False
        channel = env.channel
        if channel == "heartbeat":
            self.health.heartbeats += 1
            self.health.last_message_ns = self.clock()
            return True
        if env.error is not None:
            self._on_refusal(channel, env.error)
            return False
        if channel is None:
            if env.message is not None:  # "Subscribe received for channel: C, market: M, marketType: T"
                key = self.subs.on_ack(env.message)
                spec = self._by_wire.get(key[1].upper()) if key is not None else None
                if key is not None and key[0] == "orderbook" and spec is not None:
                    self.book_watch.watch(spec.symbol, self._mono_ns())
            return False
        if env.data is None:
            self.health.malformed += 1
            return False
        parts = channel.split("_")
        spec = None
        if len(parts) >= 3 and parts[1] == "perp" and parts[2].isdigit():
            spec = self.by_index.get(int(parts[2]))
        if spec is None:
            self._unknown_market(channel)
            return False
        self.health.last_message_ns = self.clock()
        try:
            if parts[0] == "orderbook":
                book = wire.decode_l2(env.data)
                if not self._market_matches(channel, spec, book):
                    return False
                deep = self._deep.get(spec.symbol)
                if deep is not None:
                    book = wire.deepen(book, deep, self.deployment.book_depth)
                self.on_book(spec.symbol, book)
            elif parts[0] == "trades":
                for rec in wire.decode_trades(env.data):
                    if rec.marketIndex != spec.index or wire.market_type_of(rec.marketType) != "perp":
                        self.health.malformed += 1
                        self.health.last_error = (
                            f"{channel}: a fill of {rec.marketType} market {rec.marketIndex} on the channel of "
                            f"{spec.symbol} (index {spec.index}); dropped"
                        )
                        continue
                    if rec.action == "fill":
                        self.on_fill(spec.symbol, rec)
        except wire.WireError:
            self.health.malformed += 1
            return False
        except Exception:  # hostile values (NaN, huge numbers) must not stop the feed
            self.health.malformed += 1
            log.debug("%s: dropped a message that broke conversion", self.venue, exc_info=True)
            return False
        return True

    async def _read(self, ws: Any) -> None:
        """Read until the connection closes, or stays silent (no heartbeat, no
        data) for ``silence_s`` after a resubscribe."""
        resubscribed = False
        silence = self.deployment.silence_s
        timers = self.timers
        deadline = timers.now() + silence
        while True:
            try:
                async with timers.timeout(max(0.0, deadline - timers.now())):
                    raw = await ws.recv()
            except TimeoutError:
                self.health.silences += 1
                self._set_state("stale", f"no data for {silence:g}s")
                if resubscribed:
                    return
                self.health.resubscribes += 1
                await self._subscribe(ws)
                resubscribed = True
                deadline = timers.now() + silence
                continue
            alive = self.on_message(raw)
            if not await self._after_message(ws):
                return
            if alive:
                resubscribed = False
                deadline = timers.now() + silence
                if self.state not in ("connected", "read-only") and not self.book_watch.stalled():
                    self._set_state("connected")

    async def _ws_loop(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import InvalidStatus, WebSocketException

        attempt = 0
        first = True
        while True:
            if not first:
                self.health.reconnects += 1
            first = False
            retry: float | None = None
            why = "connection closed"
            try:
                async with connect(
                    self.deployment.dlob_ws_url,
                    open_timeout=self.deployment.http_timeout_s,
                    close_timeout=1,
                    ping_interval=None,  # the server's heartbeat is the liveness signal
                    max_size=4 * 1024 * 1024,
                ) as ws:
                    self._ws = ws
                    self.reset_ordering()  # a new connection starts a new order of pushes
                    self.subs.reset()
                    self.book_watch.start()
                    await self._subscribe(ws)
                    self._set_state("connected")
                    attempt = 0
                    # The REST snapshot runs beside the reader: a slow or rate-limited
                    # /l2 must not hold back the pushes (which are full snapshots too).
                    snapshot = asyncio.create_task(self.snapshot_all())
                    try:
                        await self._read(ws)
                    finally:
                        snapshot.cancel()
                        await asyncio.gather(snapshot, return_exceptions=True)
            except InvalidStatus as exc:
                status = exc.response.status_code
                why = f"DLOB server refused the connection (HTTP {status})"
                self.health.error(why)
                if status == 429:
                    self.health.http_429 += 1
                    retry = retry_after_s(exc.response.headers.get("Retry-After"))
            except (OSError, TimeoutError, WebSocketException) as exc:
                why = f"DLOB server unreachable ({exc.__class__.__name__})"
                self.health.error(f"DLOB WebSocket: {exc.__class__.__name__}: {exc}"[:200])
            except Exception as exc:  # a bug must cost a reconnect, not the feed
                log.exception("%s: DLOB feed failed", self.venue)
                why = f"DLOB feed error ({exc.__class__.__name__})"
                self.health.error(why)
            finally:
                self._ws = None
            delay = backoff_s(attempt, self.deployment.backoff_initial_s, self.deployment.backoff_max_s)
            if retry is not None:
                delay = max(delay, retry)
            attempt += 1
            if self.state == "stale":
                why = f"no data for {self.deployment.silence_s:g}s"
            self._set_state("down", f"{why}; reconnecting in {delay:.1f}s")
            await self._sleep(delay)

    # -- funding and slot ------------------------------------------------------
    async def poll_funding(self, spec: MarketSpec) -> bool:
        try:
            raw = await self.data_api.get("/fundingRates", {"marketName": spec.wire_name})
            records = [r for r in wire.decode_funding_rates(raw) if r.marketIndex == spec.index]
            if not records:
                return False
            event = wire.to_funding(records, self.venue, spec.symbol)
            history = sorted((r.ts * 1_000_000_000, wire.hourly_rate_ppb(r)) for r in records)
            since = max(r.ts for r in records) - DAY_S
            avg = wire.average_rate_ppb(records, since)
        except HostsUnavailable:
            return False
        except wire.WireError as exc:
            self.health.malformed += 1
            self.health.last_error = f"/fundingRates {spec.symbol}: {exc}"
            return False
        newest = history[-1][0]
        if newest != self._history_sent.get(spec.symbol):  # the 30 days again only when a rate was added
            self._history_sent[spec.symbol] = newest
            self._publish(FundingHistory(self.venue, spec.symbol, self.clock(), history))
        self.funding_history[spec.symbol] = history
        self.funding_avg_24h[spec.symbol] = avg
        self._publish(event)
        return True

    async def _guarded(self, what: str, step: Callable[[], Awaitable[Any]], every_s: float) -> None:
        """Run ``step`` every ``every_s``; an unexpected error is counted and logged, not fatal."""
        while True:
            try:
                await step()
            except (HostsUnavailable, RpcError):
                pass  # already counted where it happened
            except Exception as exc:
                log.exception("%s: %s failed", self.venue, what)
                self.health.error(f"{what}: {exc.__class__.__name__}")
            await self._sleep(every_s)

    async def poll_slot(self) -> int:
        """The RPC's slot, for the DLOB server's slot-lag figure."""
        slot = await self.rpc.get_slot()
        self.health.rpc_slot = slot
        return slot

    async def _poll_all_funding(self) -> None:
        for spec in list(self.markets):
            await self.poll_funding(spec)

    # -- lifecycle -----------------------------------------------------------
    async def run(self, bus: Bus) -> None:
        self._bus = bus
        self._set_state("connecting")
        tasks = [
            asyncio.create_task(self._ws_loop(), name=f"{self.venue}-dlob-ws"),
            asyncio.create_task(
                self._guarded("funding", self._poll_all_funding, self.deployment.funding_poll_s), name=f"{self.venue}-funding"
            ),
            asyncio.create_task(self._resync_loop(), name=f"{self.venue}-resync"),
        ]
        if self._wants_deep():
            tasks.append(
                asyncio.create_task(
                    self._guarded("deep book", self._poll_deep, self.deployment.deep_book_poll_s), name=f"{self.venue}-deep"
                )
            )
        if self.deployment.slot_poll_s > 0:
            tasks.append(
                asyncio.create_task(self._guarded("slot", self.poll_slot, self.deployment.slot_poll_s), name=f"{self.venue}-slot")
            )
        try:
            await asyncio.gather(*tasks)
        finally:
            tasks += self._follow_tasks
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._set_state("down", "stopped")

    async def close(self) -> None:
        for hosts in (self.dlob, self.data_api):
            await hosts.aclose()
        await self.rpc.close()

    def funding_avg_24h_pct(self, market: str) -> Decimal | None:
        """The 24h average hourly rate in percent, for display."""
        avg = self.funding_avg_24h.get(market)
        return None if avg is None else Decimal(avg).scaleb(-7)
