"""The Jupiter Perps venue: the JLP pool's markets as market data, read-only.

Markets fill at the oracle price against the pool (``kind`` pool). Market
data comes from ``market_data.JupiterFeed``; a watched wallet's positions are
published as ``Position`` events. Trading (position requests executed by
keepers) is not offered yet: ``can_trade`` is False and the order methods say so.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from quantdesk.core.bus import Bus
from quantdesk.core.latency import LatencyHistogram
from quantdesk.core.model import Market, MarketKind
from quantdesk.venues.jupiter.config import JupiterConfig, JupiterMarket
from quantdesk.venues.jupiter.market_data import JupiterFeed

def to_market(venue: str, m: JupiterMarket) -> Market:
    # no book: a tick of one micro-dollar and a lot of one base unit
    return Market(venue=venue, symbol=m.symbol, base=m.base, quote="USD", kind="pool", tick_size=1, lot_size=1,
                  size_decimals=m.size_decimals)


@dataclass(frozen=True)
class JupiterHealth:
    """The feed's counters, as the health pane reads them."""

    errors: int
    http_429: int
    reconnects: int
    failovers: int
    malformed: int
    out_of_order: int
    stale: int
    last_error: str
    rpc_latency_ms: float | None
    feed_lag_ms: float | None
    slot_lag: int | None = None
    rpc_latency: Mapping[str, LatencyHistogram] = field(default_factory=dict)  # RPC host -> round trips


class JupiterVenue:
    kind: MarketKind = "pool"
    can_trade = False

    def __init__(
        self,
        cfg: JupiterConfig | None = None,
        *,
        clock: Callable[[], int] = time.time_ns,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        self.cfg = cfg or JupiterConfig()
        self.id = self.cfg.id
        self.feed = JupiterFeed(self.cfg, clock=clock, sleep=sleep)
        self.markets: list[Market] = []

    @property
    def health(self) -> JupiterHealth:
        f = self.feed
        ps = f.pubsub
        stale = sum(1 for st in f.markets.values() if st.stale)
        return JupiterHealth(
            errors=f.counters.rpc_errors + f.counters.bad_accounts,
            http_429=f.rpc.http_429,
            reconnects=ps.reconnects if ps else 0,
            failovers=f.rpc.failovers,
            malformed=(ps.malformed if ps else 0) + f.counters.bad_accounts,
            out_of_order=0,
            stale=stale,
            last_error=f.message if f.state != "connected" else "",
            rpc_latency_ms=f.rpc.latency_ms,
            rpc_latency=f.rpc.latency,
            feed_lag_ms=None,
        )

    async def connect(self) -> list[Market]:
        self.markets = [to_market(self.id, m) for m in self.cfg.markets]
        return list(self.markets)

    async def run(self, bus: Bus) -> None:
        await self.feed.run(bus)

    def request_resync(self, market: str) -> None:
        """Every market's snapshot is rebuilt on each account change; a gap needs nothing more."""
        st = self.feed.markets.get(market)
        if st is not None:
            self.feed.publish_market(market)

    async def close(self) -> None:
        await self.feed.close()
