"""Chart candles from a Drift-v2 deployment's data API: the bars so far over
REST, then the forming bar's updates over its WebSocket.

One stream serves one chart (a market and a timeframe) and runs until the
chart moves on. Each (re)connection loads the bars again first, so a bar
finished while the socket was down is not missing; a lost connection is
retried with exponential backoff and said on the chart. Undecodable messages
and bars are counted on the venue's ``FeedHealth`` and dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import msgspec

from quantdesk.core.model import Candle
from quantdesk.venues.base import VenueError
from quantdesk.venues.drift import candle_wire
from quantdesk.venues.drift.backoff import backoff_s
from quantdesk.venues.drift.config import DriftDeployment
from quantdesk.venues.drift.health import FeedHealth
from quantdesk.venues.drift.rest import HttpHosts
from quantdesk.venues.drift.wire import WireError

log = logging.getLogger(__name__)

StateHook = Callable[[str, str], None]  # (state: "loading" | "live" | "down", what the chart says)


class DataApiCandles:
    def __init__(
        self,
        deployment: DriftDeployment,
        hosts: HttpHosts,
        health: FeedHealth,
        *,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.deployment = deployment
        self.venue = deployment.id
        self.hosts = hosts
        self.health = health
        self._sleep = sleep

    def _wire(self, market: str) -> str:
        """The data API's name of ``market`` (an override may show it under another)."""
        spec = self.deployment.market(market)
        return spec.wire_name if spec is not None else market

    def _resolution(self, timeframe: str) -> str:
        res = candle_wire.RESOLUTION.get(timeframe)
        if res is None:
            raise VenueError(f"{self.venue} has no {timeframe} candles; choose one of {', '.join(candle_wire.RESOLUTION)}")
        return res

    def _bars(self, records: list[candle_wire.CandleRecord], market: str, timeframe: str) -> list[Candle]:
        out = []
        for rec in records:
            try:
                out.append(candle_wire.to_candle(rec, self.venue, market, timeframe))
            except WireError as exc:
                self.health.malformed += 1
                self.health.last_error = f"candles {market} {timeframe}: {exc}"
        return out

    async def history(self, market: str, timeframe: str, limit: int | None = None) -> list[Candle]:
        """The newest ``limit`` bars (default ``candles_limit``), oldest first; VenueError
        when the data API cannot be reached or answers something else."""
        n = min(limit or self.deployment.candles_limit, candle_wire.FETCH_LIMIT)
        path = f"/market/{quote(self._wire(market), safe='')}/candles/{self._resolution(timeframe)}"
        raw = await self.hosts.get(path, {"limit": n})
        try:
            records = candle_wire.decode_candles(raw)
        except WireError as exc:
            self.health.malformed += 1
            self.health.last_error = f"candles {market} {timeframe}: {exc}"
            raise VenueError(f"{self.venue} data API sent no usable candles for {market} ({exc})") from None
        return self._bars(records[-n:], market, timeframe)

    async def stream(self, market: str, timeframe: str, publish: Callable[[Candle], None], on_state: StateHook) -> None:
        """Publish the bars so far, then each update of the forming bar, until cancelled."""
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus, WebSocketException

        d = self.deployment
        subscribe = msgspec.json.encode(
            {"type": "subscribe", "symbol": self._wire(market), "resolution": self._resolution(timeframe)}
        )
        attempt = 0
        while True:
            on_state("loading", f"loading {timeframe} candles from the {self.venue} data API")
            try:
                for bar in await self.history(market, timeframe):
                    publish(bar)
                async with connect(d.candles_ws_url, open_timeout=d.http_timeout_s, close_timeout=1,
                                   max_size=1024 * 1024) as ws:
                    await ws.send(subscribe.decode())
                    on_state("live", "")
                    attempt = 0
                    async for raw in ws:
                        self._on_message(raw, market, timeframe, publish)
                why = "the data API closed the candle stream"
            except VenueError as exc:
                why = str(exc)
            except ConnectionClosed as exc:
                why = f"the data API closed the candle stream (code {exc.rcvd.code if exc.rcvd else 'none'})"
            except InvalidStatus as exc:
                why = f"the data API refused the candle stream (HTTP {exc.response.status_code})"
            except (OSError, TimeoutError, WebSocketException) as exc:
                why = f"the data API candle stream is unreachable ({exc.__class__.__name__})"
            except Exception as exc:  # a bug costs a reconnect, not the chart
                log.exception("%s: candle stream failed", self.venue)
                why = f"candle stream error ({exc.__class__.__name__})"
            self.health.error(f"candles {market} {timeframe}: {why}")
            delay = backoff_s(attempt, d.backoff_initial_s, d.backoff_max_s)
            attempt += 1
            on_state("down", f"{why}; retrying in {delay:.1f}s")
            await self._sleep(delay)

    def _on_message(self, raw: str | bytes, market: str, timeframe: str, publish: Callable[[Candle], None]) -> None:
        self.health.messages += 1
        try:
            msg = candle_wire.decode_message(raw)
        except WireError as exc:
            self.health.malformed += 1
            self.health.last_error = f"candles {market} {timeframe}: {exc}"
            return
        if msg.error:
            self.health.error(f"candles {market} {timeframe}: the data API said {msg.error[:120]}")
            return
        res = candle_wire.RESOLUTION[timeframe]
        wire = self._wire(market)
        records = [r for r in candle_wire.message_candles(msg) if r.symbol in (None, wire) and r.resolution in (None, res)]
        for bar in self._bars(records, market, timeframe):
            publish(bar)
