"""The toy venue: a fixed book one tick wide, republished on request."""

from __future__ import annotations

import asyncio
import time

from quantdesk.core.bus import Bus
from quantdesk.core.model import BookSnapshot, Funding, Market, OraclePrice, VenueStatus, topic_for

from toy_venue.config import ToySettings

TICK = 1_000  # price units (1e6): $0.001
LOT = 10_000_000  # base units (1e9): 0.01


class ToyVenue:
    id = "toy"
    kind = "clob"
    health = None

    def __init__(self, settings: ToySettings) -> None:
        self.settings = settings
        self.market = Market("toy", settings.symbol, settings.symbol.split("-")[0], "USDC", "clob", TICK, LOT)
        self.bus: Bus | None = None
        self.seq = 0

    async def connect(self) -> list[Market]:
        return [self.market]

    async def run(self, bus: Bus) -> None:
        self.bus = bus
        now = time.time_ns()
        symbol = self.market.symbol
        mid = int(self.settings.price * 10**6)
        for ev in (
            VenueStatus("toy", "connected", now, now),
            OraclePrice("toy", symbol, now, mid),
            Funding("toy", symbol, now, 1_000, 1_000, 3600, now + 3600 * 10**9),
        ):
            bus.publish(topic_for(ev), ev)
        self._snapshot()
        await asyncio.Event().wait()

    def _snapshot(self) -> None:
        assert self.bus is not None
        mid = int(self.settings.price * 10**6)
        n = self.settings.levels
        self.seq += 1
        bids = [(mid - TICK * (i + 1), LOT * (i + 1)) for i in range(n)]
        asks = [(mid + TICK * (i + 1), LOT * (i + 1)) for i in range(n)]
        snap = BookSnapshot("toy", self.market.symbol, self.seq, time.time_ns(), bids, asks)
        self.bus.publish(topic_for(snap), snap)

    def request_resync(self, market: str) -> None:
        if self.bus is not None:
            self._snapshot()

    async def close(self) -> None:
        self.bus = None
