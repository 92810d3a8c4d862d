"""A local stand-in for a Drift-v2 deployment's data API: REST and WebSocket on
one port, as the real host serves both.

- ``GET /market/{SYMBOL}/candles/{resolution}?limit=N[&startTs=S]`` answers
  ``{"success": true, "records": [...]}``, newest bar first, numbers as JS
  numbers in human units (the shape drift-labs/drift-common's candle client
  reads: ``ts`` in seconds, ``fillOpen/High/Low/Close``, ``oracleOpen/...``,
  ``quoteVolume``, ``baseVolume``); ``startTs`` gives the bars at or before it.
  An unknown market or resolution answers 400 ``{"success": false}``.
- ``GET /fundingRates?marketName=M`` answers the funding fixture.
- ``/ws``: ``{"type": "subscribe", "symbol": S, "resolution": R}`` is answered
  with ``{"type": "init", "symbol", "resolution", "data": [forming bar]}`` then
  ``{"type": "subscription", "message": "Subscribed to S R", ...}``;
  ``push_update`` sends ``{"type": "update", "candle": {...}}`` to subscribers.

The hourly SOL-PERP bars are ``tests/fixtures/drift/data_api_candles_sol_perp_60.json``;
other resolutions are rolled up from them (or, below an hour, cut from them)
so every timeframe has bars. Faults: the next N REST replies are 500, refuse
WebSocket handshakes, drop every connection.
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import pytest
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.http11 import Response

from support.drift_servers import MARKET_INDEX, load_fixture

RESOLUTION_S = {"1": 60, "5": 300, "15": 900, "60": 3_600, "240": 14_400, "D": 86_400}


def hourly_bars() -> list[dict[str, Any]]:
    """The fixture's hourly SOL-PERP bars, oldest first."""
    return sorted(load_fixture("data_api_candles_sol_perp_60.json")["records"], key=lambda r: r["ts"])


def bars_at(resolution: str, hourly: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bars of another resolution from the hourly ones, oldest first: rolled up
    above an hour, each hour's bar restamped into its sub-bars below (same prices)."""
    step = RESOLUTION_S[resolution]
    if step == 3_600:
        return [dict(r) for r in hourly]
    if step < 3_600:
        return [dict(r, ts=r["ts"] + k * step) for r in hourly for k in range(3_600 // step)]
    out: dict[int, dict[str, Any]] = {}
    for r in hourly:
        start = r["ts"] - r["ts"] % step
        bar = out.get(start)
        if bar is None:
            out[start] = dict(r, ts=start)
            continue
        for k in ("fillHigh", "oracleHigh"):
            bar[k] = max(bar[k], r[k])
        for k in ("fillLow", "oracleLow"):
            bar[k] = min(bar[k], r[k])
        bar["fillClose"], bar["oracleClose"] = r["fillClose"], r["oracleClose"]
        bar["quoteVolume"] += r["quoteVolume"]
        bar["baseVolume"] += r["baseVolume"]
    return list(out.values())


class DataApiServer:
    def __init__(self) -> None:
        self.hourly = hourly_bars()
        self.funding = load_fixture("data_api_funding_sol_perp.json")
        self.fail_500 = 0  # the next N REST replies
        self.reject_ws = 0  # refuse this many WebSocket handshakes (HTTP 503)
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.subscribes: list[dict[str, Any]] = []
        self.subscribers: dict[ServerConnection, tuple[str, str]] = {}
        self.connects = 0
        self._server: Any = None
        self.port = 0

    async def start(self) -> None:
        self._server = await serve(self._handler, "127.0.0.1", 0, process_request=self._process_request,
                                   open_timeout=1, close_timeout=0.5)  # a client gone without a word holds no stop up
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    # -- REST ------------------------------------------------------------------
    def _json(self, status: HTTPStatus, body: Any) -> Response:
        data = json.dumps(body).encode()
        headers = Headers([("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return Response(status.value, status.phrase, headers, data)

    def _process_request(self, connection: ServerConnection, request: Any) -> Response | None:
        url = urlparse(request.path)
        if url.path == "/ws":
            if self.reject_ws > 0:
                self.reject_ws -= 1
                return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE, "unavailable\n")
            return None  # the WebSocket handshake
        q = {k: v[0] for k, v in parse_qs(url.query).items()}
        self.requests.append((url.path, q))
        if self.fail_500 > 0:
            self.fail_500 -= 1
            return self._json(HTTPStatus.INTERNAL_SERVER_ERROR, {"success": False, "error": "internal"})
        parts = [unquote(p) for p in url.path.strip("/").split("/")]
        if len(parts) == 4 and parts[0] == "market" and parts[2] == "candles":
            return self._candles(parts[1], parts[3], q)
        if url.path == "/fundingRates":
            market = q.get("marketName", "")
            recs = [dict(r, marketIndex=MARKET_INDEX.get(market, -1)) for r in self.funding["fundingRates"]]
            return self._json(HTTPStatus.OK, {"fundingRates": recs})
        return self._json(HTTPStatus.NOT_FOUND, {"success": False, "error": "not found"})

    def _candles(self, symbol: str, resolution: str, q: dict[str, str]) -> Response:
        if symbol != "SOL-PERP" or resolution not in RESOLUTION_S:
            return self._json(HTTPStatus.BAD_REQUEST, {"success": False, "error": f"bad market or resolution {symbol} {resolution}"})
        bars = bars_at(resolution, self.hourly)
        if "startTs" in q:
            bars = [b for b in bars if b["ts"] <= int(q["startTs"])]
        limit = min(int(q.get("limit", "1000")), 1000)
        newest_first = list(reversed(bars))[:limit]
        return self._json(HTTPStatus.OK, {"success": True, "records": newest_first})

    def count(self, path_start: str) -> int:
        return sum(1 for p, _ in self.requests if p.startswith(path_start))

    # -- WebSocket ---------------------------------------------------------------
    async def _handler(self, ws: ServerConnection) -> None:
        if ws.response is None or ws.response.status_code != 101:
            return  # a REST request, already answered by _process_request
        self.connects += 1
        try:
            async for raw in ws:
                msg = json.loads(raw)
                self.subscribes.append(msg)
                if msg.get("type") != "subscribe":
                    continue
                symbol, resolution = msg.get("symbol", ""), str(msg.get("resolution", ""))
                if resolution not in RESOLUTION_S:
                    await ws.send(json.dumps({"type": "error", "error": f"unknown resolution {resolution}"}))
                    continue
                self.subscribers[ws] = (symbol, resolution)
                forming = dict(bars_at(resolution, self.hourly)[-1], symbol=symbol, resolution=resolution)
                await ws.send(json.dumps({"type": "init", "symbol": symbol, "resolution": resolution, "data": [forming]}))
                await ws.send(json.dumps({"type": "subscription", "message": f"Subscribed to {symbol} {resolution}",
                                          "symbol": symbol, "resolution": resolution}))
        except Exception:
            pass
        finally:
            self.subscribers.pop(ws, None)

    async def push_update(self, candle: dict[str, Any]) -> None:
        """An ``update`` of the forming bar to every subscriber of its symbol and resolution."""
        for ws, (symbol, resolution) in list(self.subscribers.items()):
            if candle.get("symbol", symbol) == symbol and str(candle.get("resolution", resolution)) == resolution:
                await ws.send(json.dumps({"type": "update", "candle": dict(candle, symbol=symbol, resolution=resolution)}))

    async def send_raw(self, frame: str) -> None:
        for ws in list(self.subscribers):
            await ws.send(frame)

    async def drop_all(self) -> None:
        for ws in list(self.subscribers):
            await ws.close(code=1011, reason="test drop")

    async def wait_subscribed(self, n: int = 1, timeout: float = 5.0) -> None:
        async def until() -> None:
            while len(self.subscribers) < n:
                await asyncio.sleep(0.01)

        await asyncio.wait_for(until(), timeout)


@pytest.fixture
async def data_api():
    server = DataApiServer()
    await server.start()
    yield server
    await server.stop()


class ThreadedDataApi:
    """The data API on an event loop of its own thread, for code that runs its
    own loop (a command's ``asyncio.run``)."""

    def __init__(self) -> None:
        import threading

        self.server = DataApiServer()
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def __enter__(self) -> DataApiServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.server.start(), self.loop).result(10)
        return self.server

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def data_api_thread():
    with ThreadedDataApi() as server:
        yield server
