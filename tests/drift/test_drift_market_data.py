"""The Drift venue adapter against local DLOB / data-API / RPC servers, end to end:
server -> adapter -> bus -> MarketCache, with faults injected on the wire."""

from __future__ import annotations

import asyncio
import json
import time
from fractions import Fraction

import pytest

from support.drift_servers import SOL, BookSource, DlobWsServer, HttpServer, load_fixture, local
from support.wait import until
from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import OrderIntent, VenueStatus
from quantdesk.venues.base import TradingUnavailable, Venue
from quantdesk.venues.drift.config import DriftDeployment, MarketSpec, default_deployment
from quantdesk.venues.drift.venue import DriftVenue



class Running:
    """A venue running on a bus with a MarketCache attached, like the session does."""

    def __init__(self, venue: DriftVenue) -> None:
        self.venue = venue
        self.bus = Bus()
        self.cache = MarketCache(on_gap=lambda v, m: venue.request_resync(m))
        self.cache.attach(self.bus)
        self.statuses: list[VenueStatus] = []
        self.bus.subscribe(f"status.{venue.id}", lambda t, m: self.statuses.append(m))
        self.task: asyncio.Task | None = None

    async def __aenter__(self) -> Running:
        self.cache.add_markets(await self.venue.connect())
        self.task = asyncio.create_task(self.venue.run(self.bus))
        return self

    async def __aexit__(self, *exc) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.venue.close()

    def book(self):
        return self.cache.book(self.venue.id, SOL)

    def states(self) -> list[str]:
        return [s.state for s in self.statuses]


async def test_adapter_is_a_venue_and_lists_configured_markets(servers):
    venue = DriftVenue(local(*servers))
    assert isinstance(venue, Venue)
    markets = await venue.connect()
    assert [(m.venue, m.symbol, m.index, m.kind, m.quote) for m in markets] == [("drift", SOL, 0, "clob", "USDC")]
    assert venue.can_trade is False


async def test_end_to_end_book_oracle_funding_and_health_in_the_cache(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 3, what="three snapshots")
        await until(lambda: (r.venue.id, SOL) in r.cache.funding, what="funding")
        book = r.book()
        fixture = load_fixture("dlob_l2_sol_perp.json")
        assert book.needs_resync is False
        assert book.best_bid() == (int(fixture["bids"][0]["price"]), int(fixture["bids"][0]["size"]))
        assert book.best_ask() == (int(fixture["asks"][0]["price"]), int(fixture["asks"][0]["size"]))
        assert len(book.bids) == len(fixture["bids"]) and len(book.asks) == len(fixture["asks"])
        assert r.cache.oracle[(r.venue.id, SOL)].price == int(fixture["oracleData"]["price"])
        assert r.cache.oracle[(r.venue.id, SOL)].confidence == int(fixture["oracleData"]["confidence"])
        assert r.cache.mark[(r.venue.id, SOL)].price == int(fixture["markPrice"])
        assert r.cache.has_full_state()
        # the REST snapshot came first, then WebSocket pushes
        assert http.count("GET", "/l2") >= 1
        assert r.states()[0] == "connecting" and "connected" in r.states()
        h = r.venue.health
        await until(lambda: h.heartbeats >= 1, what="a heartbeat")
        assert h.books >= 3 and h.malformed == 0
        await until(lambda: h.slot_lag is not None, what="slot lag")
        assert h.rpc_slot == http.slot and h.slot_lag == http.slot - h.dlob_slot
        assert h.feed_lag_ms is not None and h.rest_latency_ms is not None


async def test_snapshots_carry_increasing_sequence_numbers(servers):
    ws, http = servers
    venue = DriftVenue(local(ws, http))
    async with Running(venue) as r:
        seqs: list[int] = []
        r.bus.subscribe(f"book.drift.{SOL}", lambda t, m: seqs.append(m.seq))
        await until(lambda: len(seqs) >= 5, what="five snapshots")
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
        assert all(b - a == 1 for a, b in zip(seqs, seqs[1:]))


async def test_funding_rate_and_24h_average_from_the_data_api(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: (r.venue.id, SOL) in r.cache.funding, what="funding")
        f = r.cache.funding[(r.venue.id, SOL)]
        recs = load_fixture("data_api_funding_sol_perp.json")["fundingRates"]

        def ppb(rec) -> Fraction:
            # (fundingRate / 1e9 USD per SOL per hour) / (oracle twap / 1e6 USD per SOL), in 1e-9
            return Fraction(int(rec["fundingRate"]), 10**9) / Fraction(int(rec["oraclePriceTwap"]), 10**6) * 10**9

        last = max(recs, key=lambda x: int(x["ts"]))
        assert f.rate == round(ppb(last)) and f.interval_s == 3600
        assert f.ts == int(last["ts"]) * 10**9 and f.next_ts == (int(last["ts"]) + 3600) * 10**9
        day = [x for x in recs if int(x["ts"]) >= int(last["ts"]) - 86400]
        assert len(day) == 25
        assert r.venue.feed.funding_avg_24h[SOL] == round(sum(round(ppb(x)) for x in day) / Fraction(len(day)))
        assert len(r.venue.feed.funding_history[SOL]) == len(recs)


async def test_trades_channel_becomes_trades_at_exact_prices(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None, what="book")
        for rec in load_fixture("dlob_trades_sol_perp.json"):
            await ws.send_raw(json.dumps({"channel": "trades_perp_0", "data": json.dumps(rec)}))
        await until(lambda: len(r.cache.trades.get((r.venue.id, SOL), [])) == 2, what="two trades")
        t1, t2 = r.cache.trades[(r.venue.id, SOL)]
        # 88.2716 USD for 0.5 SOL -> 176.5432; 353.08 for 2 -> 176.54
        assert (t1.price, t1.size, t1.side, t1.ts) == (176_543_200, 500_000_000, "buy", 1732400001 * 10**9)
        assert (t2.price, t2.size, t2.side) == (176_540_000, 2_000_000_000, "sell")
        assert r.venue.health.trades == 2


async def test_dropped_connection_reconnects_and_resyncs_from_rest(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        rest_before = http.count("GET", "/l2")
        seq_before = r.book().seq
        await ws.drop_all()
        await until(lambda: ws.connects >= 2, what="reconnect")
        await until(lambda: http.count("GET", "/l2") > rest_before, what="REST snapshot after reconnect")
        await until(lambda: r.book().seq > seq_before + 2, what="book updates after reconnect")
        assert r.venue.health.reconnects >= 1 and r.venue.health.errors >= 1
        states = r.states()
        assert "down" in states and states[-1] == "connected"
        assert states.index("down") < len(states) - 1


async def test_silence_past_heartbeat_marks_stale_resubscribes_then_reconnects(servers, timers):
    ws, http = servers
    silence = 0.3
    async with Running(DriftVenue(local(ws, http, silence_s=silence), timers=timers)) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        subs_before = len(ws.subscribes)
        ws.silent = True
        await timers.advance_until(lambda: "stale" in r.states(), silence, what="stale")
        await until(lambda: r.venue.health.resubscribes >= 1, what="resubscribe")
        await until(lambda: len(ws.subscribes) > subs_before, what="the server to receive the subscribes")
        assert len(ws.subscribes) > subs_before  # the subscribe messages were sent again
        await timers.advance_until(lambda: ws.connects >= 2, silence, what="reconnect after a second silence")
        ws.silent = False
        await until(lambda: r.states()[-1] == "connected", what="connected again")
        stale = next(s for s in r.statuses if s.state == "stale")
        assert stale.last_message_ts > 0 and "no data" in stale.message
        assert r.venue.health.silences >= 2


async def test_malformed_frames_are_counted_and_dropped(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0))) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        ws.silent = True
        await asyncio.sleep(0.25)
        bad = [
            "not json at all",
            '{"channel": "orderbook_perp_0", "data": "{\\"bids\\": ["}',
            json.dumps({"channel": "orderbook_perp_0", "data": json.dumps({"bids": "x", "asks": []})}),
            json.dumps({"channel": "orderbook_perp_0", "data": json.dumps({"bids": [{"price": "abc", "size": "1"}], "asks": []})}),
            json.dumps({"channel": "orderbook_perp_0"}),
            json.dumps({"channel": "trades_perp_0", "data": json.dumps({"ts": 1, "marketIndex": 0,
                        "baseAssetAmountFilled": "0", "quoteAssetAmountFilled": "1", "takerOrderDirection": "long"})}),
            json.dumps({"channel": "trades_perp_0", "data": json.dumps({"ts": 1, "marketIndex": 0,
                        "baseAssetAmountFilled": "1", "quoteAssetAmountFilled": "1", "takerOrderDirection": "up"})}),
            json.dumps({"channel": "trades_perp_0", "data": json.dumps({"ts": 1, "marketIndex": 0,
                        "baseAssetAmountFilled": "NaN", "quoteAssetAmountFilled": "1", "takerOrderDirection": "long"})}),
            json.dumps({"channel": "trades_perp_0", "data": json.dumps({"ts": 1, "marketIndex": 0,
                        "baseAssetAmountFilled": "1e999999", "quoteAssetAmountFilled": "Infinity",
                        "takerOrderDirection": "short"})}),
            json.dumps([1, 2, 3]),
            b"\xff\xfe binary junk",
        ]
        seq = r.book().seq
        for frame in bad:
            await ws.send_raw(frame)
        await until(lambda: r.venue.health.malformed == len(bad), what="malformed counted")
        assert r.book().seq == seq  # nothing reached the book
        ws.silent = False
        await until(lambda: r.book().seq > seq, what="feed goes on")
        assert r.task is not None and not r.task.done()


async def test_out_of_order_and_stale_snapshots_are_dropped(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0, max_snapshot_age_s=10.0))) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        ws.silent = True
        await asyncio.sleep(0.25)
        seq = r.book().seq
        ooo, stale = r.venue.health.out_of_order, r.venue.health.stale  # a REST/push race may already count one
        current = ws.books.next(SOL)
        older = dict(current, slot=current["slot"] - 50, bids=[{"price": "1000000", "size": "1000000000"}])
        await ws.push_book(older)
        old_ts = dict(ws.books.next(SOL), ts=int(time.time() * 1000) - 60_000, bids=[{"price": "2000000", "size": "1"}])
        await ws.push_book(old_ts)
        await until(lambda: (r.venue.health.out_of_order, r.venue.health.stale) == (ooo + 1, stale + 1), what="drops counted")
        assert r.book().seq == seq and r.book().best_bid()[0] != 1_000_000
        fresh = dict(ws.books.next(SOL), bids=[{"price": "176999000", "size": "5000000000"}])
        await ws.push_book(fresh)
        await until(lambda: r.book().seq == seq + 1, what="fresh snapshot applied")
        assert r.book().best_bid() == (176_999_000, 5_000_000_000)


async def test_websocket_handshake_429_is_counted_and_retry_after_respected(servers):
    ws, http = servers
    ws.reject_429 = 1
    ws.retry_after = "1"
    t0 = time.monotonic()
    async with Running(DriftVenue(local(ws, http))) as r:
        await until(lambda: ws.connects >= 1, what="connect after the 429")
        assert time.monotonic() - t0 >= 0.95
        assert r.venue.health.http_429 == 1 and "429" in r.venue.health.last_error
        await until(lambda: r.states()[-1] == "connected", what="connected")


async def test_rest_429_is_counted_and_retry_after_respected(servers):
    ws, http = servers
    http.fail_429 = 1
    http.retry_after = "1"
    venue = DriftVenue(local(ws, http, slot_poll_s=0))
    venue.feed.dlob.max_attempts = 3
    t0 = time.monotonic()
    assert await venue.feed.fetch_l2(MarketSpec(symbol=SOL, index=0)) is True
    elapsed = time.monotonic() - t0
    await venue.close()
    assert venue.health.http_429 == 1
    assert elapsed >= 0.95  # waited out Retry-After: 1
    assert http.count("GET", "/l2") == 2


async def test_rpc_failover_across_urls_and_429_skips_to_the_next_host(servers):
    ws, http = servers
    dead = "http://127.0.0.1:9"  # discard port: connection refused
    venue = DriftVenue(local(ws, http, rpc_urls=[dead, http.url], slot_poll_s=0))
    assert await venue.feed.rpc.get_slot() == http.slot
    assert venue.health.failovers == 1 and venue.health.errors == 1
    # a rate-limited host is skipped at once in favour of a ready one
    venue2 = DriftVenue(local(ws, http, rpc_urls=[http.url, http.url + "/"], slot_poll_s=0))
    http.fail_429 = 1
    http.retry_after = "30"
    t0 = time.monotonic()
    assert await venue2.feed.rpc.get_slot() == http.slot
    assert time.monotonic() - t0 < 5
    assert venue2.health.http_429 == 1 and venue2.health.failovers == 1
    await venue.close()
    await venue2.close()


async def test_server_errors_back_off_then_give_up_with_a_clear_error(servers):
    ws, http = servers
    http.fail_500 = 10
    venue = DriftVenue(local(ws, http, slot_poll_s=0))
    venue.feed.dlob.max_attempts = 3
    assert await venue.feed.fetch_l2(MarketSpec(symbol=SOL, index=0)) is False
    assert venue.health.errors == 3 and "HTTP 500" in venue.health.last_error
    await venue.close()


async def test_request_resync_fetches_a_rest_snapshot(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0))) as r:
        await until(lambda: r.book() is not None, what="book")
        # the first book may be a push: let the start-up REST snapshot land before counting
        await until(lambda: r.venue.health.rest_snapshots >= 1, what="the start-up snapshot")
        before = http.count("GET", "/l2")
        r.venue.request_resync(SOL)
        await until(lambda: http.count("GET", "/l2") == before + 1, what="resync snapshot")
        r.venue.request_resync("NOPE-PERP")  # unknown markets are ignored
        await asyncio.sleep(0.1)
        assert http.count("GET", "/l2") == before + 1


async def test_velocity_without_idl_streams_data_but_is_read_only(servers):
    ws, http = servers
    venue = DriftVenue(local(ws, http, name="velocity"))
    assert venue.id == "velocity" and venue.deployment.quote == "USDT"
    async with Running(venue) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="velocity book")
        await until(lambda: r.states() and r.states()[-1] == "read-only", what="read-only status")
        assert "IDL" in r.statuses[-1].message
    assert venue.can_trade is False
    intent = OrderIntent(venue="velocity", market=SOL, side="buy", type="limit", size=10**9, price=150 * 10**6)
    with pytest.raises(TradingUnavailable, match="IDL"):
        await venue.place(intent, "o1")


def test_deployment_settings_validate_and_default_to_documented_hosts():
    d = default_deployment("drift")
    assert d.dlob_url == "https://dlob.drift.trade" and d.dlob_ws_url == "wss://dlob.drift.trade/ws"
    assert d.data_api_url == "https://data.api.drift.trade" and d.has_idl
    v = default_deployment("velocity")
    assert v.dlob_url == "https://dlob.velocity.exchange" and v.data_api_url == "https://data.velocity.exchange"
    assert v.program_id == "vELoC1audYbSYVRXn1vPaV8Axoa9oU6BYmNGZZBDZ1P" and not v.has_idl
    assert v.model_copy(update={"idl_path": "/x/idl.json"}).read_only_reason() is None
    with pytest.raises(ValueError):
        DriftDeployment(**{**d.model_dump(), "rpc_urls": []})
    with pytest.raises(ValueError):
        DriftDeployment(**{**d.model_dump(), "dlob_hots": "typo"})
    with pytest.raises(ValueError, match="must be longer than heartbeat_s"):
        DriftDeployment(**{**d.model_dump(), "silence_s": 4.0})
    with pytest.raises(ValueError, match="unknown Drift-v2 deployment"):
        default_deployment("mango")


async def test_cancelling_a_busy_feed_stops_it_promptly(servers):
    ws, http = servers
    ws.push_interval = 0  # messages arrive back to back, so a cancellation lands mid-receive
    venue = DriftVenue(local(ws, http, slot_poll_s=0))
    await venue.connect()
    for n in range(30):
        task = asyncio.create_task(venue.run(Bus()))
        start = venue.health.books
        await until(lambda: venue.health.books >= start + 3 + n % 4, what="a busy feed")
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=3)
        assert done, f"the feed ignored its cancellation (round {n})"
    await venue.close()


async def test_a_push_from_slot_2_63_is_rejected_and_the_book_goes_on(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0))) as r:
        await until(lambda: r.venue.health.rpc_slot is not None and r.book() is not None, what="book and RPC slot")
        ws.silent = True
        await asyncio.sleep(0.25)
        seq = r.book().seq
        await ws.push_book(dict(ws.books.next(SOL), slot=2**63, bids=[{"price": "3000000", "size": "1"}]))
        await until(lambda: r.venue.health.implausible_slot == 1, what="implausible slot counted")
        assert r.book().seq == seq
        await ws.push_book(dict(ws.books.next(SOL), bids=[{"price": "176999000", "size": "5000000000"}]))
        await until(lambda: r.book().seq == seq + 1, what="the next real push applies")
        assert r.book().best_bid() == (176_999_000, 5_000_000_000)


async def test_a_rest_snapshot_and_a_reconnect_reset_book_ordering(servers):
    ws, http = servers
    # No RPC slot to judge by: a push far ahead (within the lead) is taken and
    # makes every real push after it look old, until a snapshot resets ordering.
    async with Running(DriftVenue(local(ws, http, silence_s=5.0, slot_poll_s=0))) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        ws.silent = True
        await asyncio.sleep(0.25)
        ahead = ws.books.next(SOL)
        await ws.push_book(dict(ahead, slot=ahead["slot"] + 5_000))
        seq = r.book().seq
        await until(lambda: r.book().seq == seq, what="settled")
        ooo = r.venue.health.out_of_order
        await ws.push_book(ws.books.next(SOL))
        await until(lambda: r.venue.health.out_of_order == ooo + 1, what="real push looks old")
        seq = r.book().seq
        r.venue.request_resync(SOL)  # a REST snapshot: the truth, whatever came before
        await until(lambda: r.book().seq == seq + 1, what="REST snapshot applied")
        await ws.push_book(ws.books.next(SOL))
        await until(lambda: r.book().seq == seq + 2, what="pushes apply again after the snapshot")

        # The same freeze, cleared by a reconnect.
        ahead = ws.books.next(SOL)
        await ws.push_book(dict(ahead, slot=ahead["slot"] + 5_000))
        await until(lambda: r.book().seq == seq + 3, what="far push taken")
        http.fail_500 = 10**6  # no REST snapshot to help this time
        connects = ws.connects
        await ws.drop_all()
        await until(lambda: ws.connects > connects, what="reconnect")
        await ws.push_book(ws.books.next(SOL))
        await until(lambda: r.book().seq >= seq + 4, what="pushes apply after the reconnect")


async def test_sizes_and_prices_beyond_64_bits_or_negative_are_malformed(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0))) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        ws.silent = True
        await asyncio.sleep(0.25)
        seq, bad = r.book().seq, r.venue.health.malformed
        for level in ({"price": "176000000", "size": str(2**64 + 1)}, {"price": str(10**40), "size": "1"},
                      {"price": "176000000", "size": "-5"}, {"price": "-1", "size": "1000"},
                      {"price": "176000000", "size": "1.5"}):
            await ws.push_book(dict(ws.books.next(SOL), bids=[level]))
        await until(lambda: r.venue.health.malformed == bad + 5, what="malformed counted")
        assert r.book().seq == seq
        assert all(0 < p < 2**63 and 0 < s < 2**63 for p, s in r.book().sorted_bids())


async def test_a_crossed_book_is_kept_and_shown_crossed(servers):
    ws, http = servers
    async with Running(DriftVenue(local(ws, http, silence_s=5.0))) as r:
        await until(lambda: r.book() is not None and r.book().seq >= 2, what="book")
        ws.silent = True
        await asyncio.sleep(0.25)
        seq, bad = r.book().seq, r.venue.health.malformed
        crossed = dict(ws.books.next(SOL), bids=[{"price": "177000000", "size": "1000000000"}],
                       asks=[{"price": "176000000", "size": "1000000000"}])
        await ws.push_book(crossed)
        await until(lambda: r.book().seq == seq + 1, what="crossed book published")
        assert r.book().crossed and r.venue.health.crossed >= 1
        assert r.venue.health.malformed == bad
