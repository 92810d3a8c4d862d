"""Chart candles from the data API: the real response shape decoded exactly, the
REST bars and WebSocket updates of a local data API reaching the cache, and
reconnection after the stream is lost."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from support.data_api import DataApiServer, bars_at
from support.drift_servers import SOL, local
from support.wait import until
from quantdesk.core.bus import Bus
from quantdesk.core.cache import MarketCache
from quantdesk.core.model import Candle, topic_for
from quantdesk.venues.base import CandleSource, VenueError
from quantdesk.venues.drift import candle_wire
from quantdesk.venues.drift.config import DriftDeployment, default_deployment
from quantdesk.venues.drift.venue import DriftVenue
from quantdesk.venues.drift.wire import WireError

FIXTURE = Path(__file__).parent.parent / "fixtures" / "drift" / "data_api_candles_sol_perp_60.json"
S = 1_000_000_000


def test_the_candles_reply_decodes_oldest_first_at_exact_precision():
    records = candle_wire.decode_candles(FIXTURE.read_bytes())
    assert len(records) == 48 and [r.ts for r in records] == sorted(r.ts for r in records)
    first = candle_wire.to_candle(records[0], "drift", SOL, "1h")
    # {"ts": 1763856000, "fillOpen": 176.548, "fillHigh": 176.7797, "fillClose": 176.0269, "fillLow": 175.7778,
    #  "quoteVolume": 420424.41375600005, "baseVolume": 2384.88}
    assert first == Candle("drift", SOL, "1h", 1_763_856_000 * S, 176_548_000, 176_779_700, 175_777_800, 176_026_900,
                           2_384_880_000_000, 420_424_413_756)
    newest = candle_wire.to_candle(records[-1], "drift", SOL, "1h")
    assert newest.ts == 1_764_025_200 * S and newest.close == 179_602_300
    assert newest.quote_volume == 4_445_034_931_818  # 4445034.931818001 USD, half-even at 1e6


def test_websocket_messages_carry_the_forming_bar():
    bar = {"symbol": SOL, "resolution": "1", "ts": 1738828080, "fillOpen": 202.1005, "fillHigh": 202.1324,
           "fillClose": 202.1324, "fillLow": 202.05, "oracleOpen": 202.322574, "oracleHigh": 202.322574,
           "oracleClose": 202.293589, "oracleLow": 202.254547, "quoteVolume": 6636.646000000001, "baseVolume": 32.84,
           "lastTradeTs": 1738828124}
    update = candle_wire.decode_message(json.dumps({"type": "update", "candle": bar}))
    (rec,) = candle_wire.message_candles(update)
    c = candle_wire.to_candle(rec, "drift", SOL, "1m")
    assert (c.open, c.high, c.low, c.close, c.volume, c.quote_volume) == (
        202_100_500, 202_132_400, 202_050_000, 202_132_400, 32_840_000_000, 6_636_646_000)
    init_list = candle_wire.decode_message(json.dumps({"type": "init", "symbol": SOL, "resolution": "1", "data": [bar]}))
    init_one = candle_wire.decode_message(json.dumps({"type": "init", "channelType": "candle", "data": bar}))
    assert candle_wire.message_candles(init_list) == candle_wire.message_candles(init_one) == [rec]
    ack = candle_wire.decode_message('{"type":"subscription","message":"Subscribed to SOL-PERP 1","symbol":"SOL-PERP"}')
    assert candle_wire.message_candles(ack) == []
    with pytest.raises(WireError):
        candle_wire.decode_message("not json")


def test_a_bar_without_fills_takes_the_oracle_and_an_impossible_bar_is_refused():
    (no_fills,) = candle_wire.decode_candles('{"success": true, "records": [{"ts": 60, "fillOpen": null, '
                                             '"oracleOpen": 1, "oracleHigh": 3, "oracleLow": 1, "oracleClose": 2}]}')
    assert candle_wire.to_candle(no_fills, "drift", SOL, "1m").close == 2_000_000
    with pytest.raises(WireError, match="outside its open"):
        candle_wire.to_candle(candle_wire.decode_candles(json.dumps({"success": True, "records": [
            {"ts": 60, "fillOpen": 10, "fillHigh": 9, "fillLow": 8, "fillClose": 9.5}]}))[0], "drift", SOL, "1m")
    with pytest.raises(WireError, match="without a open"):
        candle_wire.to_candle(candle_wire.CandleRecord(ts=60), "drift", SOL, "1m")
    with pytest.raises(WireError, match="success: false"):
        candle_wire.decode_candles('{"success": false, "records": []}')


def test_the_websocket_address_follows_the_data_api_unless_set():
    d = default_deployment("drift")
    assert d.candles_ws_url == "wss://data.api.drift.trade/ws"
    assert DriftDeployment(**{**d.model_dump(), "data_api_url": "http://127.0.0.1:9000/"}).candles_ws_url == "ws://127.0.0.1:9000/ws"
    own = DriftDeployment(**{**d.model_dump(), "data_api_ws_url": "wss://candles.example/stream"})
    assert own.candles_ws_url == "wss://candles.example/stream"
    with pytest.raises(ValueError, match="is not a URL"):
        DriftDeployment(**{**d.model_dump(), "data_api_url": "data.api.drift.trade"})
    with pytest.raises(ValueError):
        DriftDeployment(**{**d.model_dump(), "candles_limit": 1_001})


@pytest.fixture
async def drift_on_data_api(servers, data_api: DataApiServer):
    """A Drift venue whose data API is the local one; backoff waits are recorded, not slept."""
    waits: list[float] = []

    async def no_wait(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(0)

    venue = DriftVenue(local(*servers, data_api_url=data_api.url), sleep=no_wait)
    venue.waits = waits  # what the stream waited between tries
    yield venue
    await venue.close()


async def test_bars_of_every_timeframe_come_from_the_candles_endpoint(drift_on_data_api, data_api):
    venue = drift_on_data_api
    assert isinstance(venue, CandleSource)
    hours = await venue.candles(SOL, "1h", limit=24)
    assert data_api.requests[-1] == ("/market/SOL-PERP/candles/60", {"limit": "24"})
    expected = [candle_wire.to_candle(r, "drift", SOL, "1h") for r in candle_wire.decode_candles(FIXTURE.read_bytes())][-24:]
    assert hours == expected
    four = await venue.candles(SOL, "4h")
    assert data_api.requests[-1] == ("/market/SOL-PERP/candles/240", {"limit": "500"})  # candles_limit by default
    assert [c.ts // S for c in four] == [b["ts"] for b in bars_at("240", data_api.hourly)]
    await venue.candles(SOL, "1d")
    await venue.candles(SOL, "1m", limit=5_000)  # capped at the endpoint's 1,000
    assert data_api.requests[-2][0].endswith("/candles/D") and data_api.requests[-1][1] == {"limit": "1000"}
    with pytest.raises(VenueError, match="no 2h candles"):
        await venue.candles(SOL, "2h")


async def test_an_unreachable_data_api_is_a_sentence_not_a_crash(drift_on_data_api, data_api):
    data_api.fail_500 = 100
    with pytest.raises(VenueError, match="data API unavailable"):
        await drift_on_data_api.candles(SOL, "1h")


async def test_the_stream_loads_the_bars_then_updates_the_forming_one(drift_on_data_api, data_api):
    venue = drift_on_data_api
    bus, cache = Bus(), MarketCache()
    cache.attach(bus)
    states: list[tuple[str, str]] = []
    task = asyncio.create_task(
        venue.stream_candles(SOL, "1h", lambda c: bus.publish(topic_for(c), c), lambda s, m: states.append((s, m))))
    try:
        await data_api.wait_subscribed()
        await until(lambda: states and states[-1][0] == "live", what="stream live")
        bars, source = cache.candles_of("drift", SOL, "1h")
        assert source == "venue" and len(bars) == 48
        assert data_api.subscribes[-1] == {"type": "subscribe", "symbol": SOL, "resolution": "60"}
        forming = dict(data_api.hourly[-1], fillHigh=185.5, fillClose=185.25, baseVolume=30000.5)
        await data_api.push_update(forming)
        await until(lambda: cache.candles_of("drift", SOL, "1h")[0][-1].close == 185_250_000, what="update")
        bars, _ = cache.candles_of("drift", SOL, "1h")
        assert len(bars) == 48 and (bars[-1].high, bars[-1].volume) == (185_500_000, 30_000_500_000_000)
        nxt = dict(forming, ts=forming["ts"] + 3600, fillOpen=185.25, fillHigh=185.3, fillLow=185.0, fillClose=185.1)
        await data_api.push_update(nxt)
        await until(lambda: len(cache.candles_of("drift", SOL, "1h")[0]) == 49, what="a new bar")
        # a broken message is counted and dropped; the stream goes on
        malformed = venue.health.malformed
        await data_api.send_raw('{"type": "update", "candle": {"ts": "soon"}}')
        await data_api.push_update(dict(nxt, fillClose=185.2))
        await until(lambda: cache.candles_of("drift", SOL, "1h")[0][-1].close == 185_200_000, what="after bad message")
        assert venue.health.malformed == malformed + 1
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert [s for s, _ in states] == ["loading", "live"]


async def test_a_lost_stream_is_said_then_reloaded_and_resubscribed(drift_on_data_api, data_api):
    venue = drift_on_data_api
    states: list[tuple[str, str]] = []
    got: list[Candle] = []
    task = asyncio.create_task(venue.stream_candles(SOL, "15m", got.append, lambda s, m: states.append((s, m))))
    try:
        await data_api.wait_subscribed()
        loads = data_api.count("/market/")
        data_api.reject_ws = 1  # the next handshake is refused too
        await data_api.drop_all()
        await until(lambda: len([s for s, _ in states if s == "live"]) == 2, what="live again")
        assert data_api.count("/market/") == loads + 2  # the bars loaded again before each try
        downs = [m for s, m in states if s == "down"]
        assert len(downs) == 2 and "closed the candle stream" in downs[0] and "HTTP 503" in downs[1]
        assert len(venue.waits) == 2 and all(w > 0 for w in venue.waits)  # backoff, on the injected sleep
        assert data_api.subscribes[-1]["resolution"] == "15"
        assert all(c.timeframe == "15m" and c.venue == "drift" for c in got)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_funding_history_reaches_the_cache(servers, data_api):
    venue = DriftVenue(local(*servers, data_api_url=data_api.url))
    bus, cache = Bus(), MarketCache()
    cache.attach(bus)
    cache.add_markets(await venue.connect())
    task = asyncio.create_task(venue.run(bus))
    try:
        await until(lambda: ("drift", SOL) in cache.funding_history and len(cache.funding_history[("drift", SOL)].points) > 1,
                    what="funding history")
        history = cache.funding_history[("drift", SOL)].points
        assert history == sorted(venue.feed.funding_history[SOL])  # one rate an hour, as the data API gives them
        assert history[-1][1] == cache.funding[("drift", SOL)].rate
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await venue.close()


async def test_charts_showing_the_same_bars_share_one_stream_which_stops_without_them(drift_on_data_api, data_api):
    from quantdesk.venues.candle_feed import CandleFeed

    bus = Bus()
    feed = CandleFeed({"drift": drift_on_data_api}, bus)
    first, second = object(), object()
    feed.watch(first, "drift", SOL, "1h")
    feed.watch(second, "drift", SOL, "1h")
    await data_api.wait_subscribed()
    await until(lambda: feed.state("drift", SOL, "1h") == ("live", ""), what="live")
    assert data_api.connects == 1, data_api.subscribes
    assert feed.has_candles("drift") and not feed.has_candles("sim-drift")
    feed.watch(first, "sim-drift", SOL, "1h")  # a venue whose bars the cache builds: no stream
    assert feed.state("sim-drift", SOL, "1h") is None and feed.state("drift", SOL, "1h") is not None
    feed.release(second)
    assert feed.state("drift", SOL, "1h") is None  # nobody shows it: stopped
    await until(lambda: not data_api.subscribers, what="stream closed")
    await feed.stop()
