"""The data API's WebSocket stream on a real Uvicorn server: snapshots, then
deltas whose per-topic sequence never skips; a client that stops reading gets
``gap`` and fresh snapshots, in bounded memory, while a fast one misses nothing."""

from __future__ import annotations

import json
import socket

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from quantdesk.core.model import Market
from quantdesk.serve.api.app import CLOSE_IDLE, ApiOptions
from support.api_server import StreamReader, start_rig, stop_rig

SOL = "SOL-PERP"
TOPICS = ["book.sim-drift.SOL-PERP", "trades.*.SOL-PERP", "funding"]


def expected_topics(rig) -> set[str]:
    markets = list(rig.session.cache.markets)
    return {f"book.sim-drift.{SOL}"} | {f"trades.{v}.{SOL}" for v, m in markets if m == SOL} | {f"funding.{v}.{m}" for v, m in markets}


def cache_book(rig, venue: str = "sim-drift", symbol: str = SOL) -> dict[str, dict[str, str]]:
    m: Market = rig.session.cache.markets[(venue, symbol)]
    book = rig.session.cache.books[(venue, symbol)]
    return {
        side: {format(m.price(lv.price), "f"): format(m.size(lv.size), "f") for lv in book.depth(name, 10_000)}
        for side, name in (("bids", "bid"), ("asks", "ask"))
    }


async def subscribe(reader: StreamReader, topics: list[str]) -> list[str]:
    await reader.send({"op": "subscribe", "topics": topics})
    await reader.until(lambda: any(r["type"] == "subscribed" for r in reader.replies))
    subscribed = next(r for r in reader.replies if r["type"] == "subscribed")["topics"]
    await reader.until(lambda: all(t in reader.snapshots for t in subscribed))
    return subscribed


async def test_subscribe_gets_snapshots_then_numbered_deltas(api_rig):
    async with connect(api_rig.ws_url, additional_headers=api_rig.bearer()) as ws:
        r = StreamReader(ws)
        subscribed = await subscribe(r, TOPICS)
        assert set(subscribed) == expected_topics(api_rig)
        assert r.books[f"book.sim-drift.{SOL}"] == cache_book(api_rig)
        for _ in range(5):
            api_rig.session.advance(200)
            await r.caught_up(api_rig.api.hub, subscribed)  # StreamReader asserts seq == last + 1
        assert r.deltas[f"book.sim-drift.{SOL}"] > 0 and r.deltas[f"trades.sim-drift.{SOL}"] > 0
        assert r.books[f"book.sim-drift.{SOL}"] == cache_book(api_rig)  # deltas rebuild the venue's book
        assert r.gaps == 0
        # a topic never subscribed is never sent
        assert not any(t.startswith("book.sim-jup") for t in r.seq)


async def test_unsubscribe_stops_deltas(api_rig):
    async with connect(api_rig.ws_url, additional_headers=api_rig.bearer()) as ws:
        r = StreamReader(ws)
        await subscribe(r, ["trades.*.SOL-PERP", "funding.sim-drift"])
        await r.send({"op": "unsubscribe", "topics": ["trades"]})
        await r.until(lambda: any(x["type"] == "unsubscribed" for x in r.replies))
        before = dict(r.deltas)
        api_rig.session.advance(500)
        await r.send({"op": "ping"})
        await r.until(lambda: any(x["type"] == "pong" for x in r.replies))
        assert {t: n for t, n in r.deltas.items() if t.startswith("trades.")} == {t: n for t, n in before.items() if t.startswith("trades.")}


async def test_bad_requests_get_an_error_saying_what_to_send(api_rig):
    async with connect(api_rig.ws_url, additional_headers=api_rig.bearer()) as ws:
        r = StreamReader(ws)
        for req, words in (
            ("not json", "not JSON"),
            (json.dumps({"op": "subscribe", "topics": ["orders.*"]}), "unknown family"),
            (json.dumps({"op": "subscribe"}), "needs \"topics\""),
            (json.dumps({"op": "place_order", "side": "buy"}), "read-only"),
        ):
            await ws.send(req)
            msg = await r.next()
            assert msg["type"] == "error" and words in msg["message"]


async def test_ping_pong_and_idle_close():
    rig = await start_rig(ApiOptions(rate_per_s=1000.0, burst=1000, idle_s=0.3))
    try:
        async with connect(rig.ws_url, additional_headers=rig.bearer()) as ws:
            r = StreamReader(ws)
            await r.send({"op": "ping"})
            assert (await r.next())["type"] == "pong"
            with pytest.raises(ConnectionClosed) as closed:  # by the server: the client sent nothing for idle_s
                while True:
                    await r.next(timeout=10)
            assert closed.value.rcvd.code == CLOSE_IDLE
            assert "ping" in closed.value.rcvd.reason
    finally:
        await stop_rig(rig)


@pytest.fixture
async def small_queues():
    rig = await start_rig(ApiOptions(rate_per_s=1000.0, burst=1000, max_pending=64), sndbuf=8192)
    yield rig
    await stop_rig(rig)


def tiny_socket(url: str) -> socket.socket:
    """A client socket with a small receive window, so a client that stops
    reading pushes back on the server after a few kilobytes."""
    host, port = url.split("//", 1)[1].split("/", 1)[0].split(":")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect((host, int(port)))
    return s


async def test_slow_client_gets_gap_and_recovers_while_fast_client_misses_nothing(small_queues):
    rig = small_queues
    hub = rig.api.hub
    async with connect(rig.ws_url, additional_headers=rig.bearer()) as fast_ws, connect(
        rig.ws_url, additional_headers=rig.bearer(), sock=tiny_socket(rig.ws_url), max_queue=1
    ) as slow_ws:
        fast, slow = StreamReader(fast_ws), StreamReader(slow_ws)
        topics = await subscribe(fast, TOPICS)
        assert await subscribe(slow, TOPICS) == topics
        # The slow client now stops reading; the feed runs on.
        for _ in range(500):
            rig.session.advance(100)
            for c in hub.clients:
                assert len(c.pending) <= 64 + len(c.topics) + 1  # bounded: never an unbounded queue
            await fast.caught_up(hub, topics)
            if any(c.dropped for c in hub.clients):
                break
        lagging = [c for c in hub.clients if c.dropped]
        assert len(lagging) == 1, "one client should have fallen behind"
        assert fast.gaps == 0 and fast.books[f"book.sim-drift.{SOL}"] == cache_book(rig)
        # A few more events, then the slow client reads again: gap, fresh snapshots, contiguous deltas.
        # (Steps of 100 events stay under the queue bound of 64 messages for a client that keeps up.)
        rig.session.advance(100)
        await fast.caught_up(hub, topics)
        await slow.until(lambda: slow.gaps > 0, timeout=30)
        await slow.caught_up(hub, topics)
        assert slow.books[f"book.sim-drift.{SOL}"] == cache_book(rig)
        gaps = slow.gaps
        rig.session.advance(100)
        await slow.caught_up(hub, topics)
        await fast.caught_up(hub, topics)
        assert fast.gaps == 0 and slow.gaps == gaps  # recovered: reading again, it keeps up
        assert slow.books[f"book.sim-drift.{SOL}"] == fast.books[f"book.sim-drift.{SOL}"] == cache_book(rig)
        assert hub.dropped >= lagging[0].dropped > 0
