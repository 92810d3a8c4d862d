"""``sim-jup``: a simulated oracle-priced pool venue with Jupiter Perps' economics.

There is no order book: trades fill at the oracle price plus an open fee and a
price impact that grows linearly with size, against the pool. The depth this
venue publishes is synthetic: the marginal price of each size bucket from that
impact curve, so the depth ladder and the spread pane read it like a book.
Positions pay an hourly borrow fee that rises linearly with pool utilization.
"""

from __future__ import annotations

import random
from typing import Any

from quantdesk.core.model import RATE_SCALE, BookSnapshot, Funding, Market, MarkPrice, OpenInterest, OraclePrice, Side, Trade
from quantdesk.venues.sim.venue import SimVenue
from quantdesk.venues.sim.world import ASSETS, AssetSpec

HOUR_NS = 3_600_000_000_000
STATS_EVERY_NS = 1_000_000_000
OPEN_FEE_BPS = 6
IMPACT_SCALAR_USD = 1_000_000_000  # $1M of size moves the price 10 bps
MAX_HOURLY_BORROW = RATE_SCALE // 10_000  # 0.01% an hour at full utilization
BUCKETS_USD = (10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000, 2_500_000, 5_000_000)
POOL_LOT = 1_000_000  # 0.001 of the asset


class PoolMarket:
    def __init__(self, venue: str, spec: AssetSpec, rng: random.Random, price: int) -> None:
        self.spec = spec
        self.symbol = f"{spec.base}-PERP"
        self.market = Market(venue, self.symbol, spec.base, "USDC", "pool", 1, POOL_LOT, index=spec.drift_index)
        self.oracle = price
        self.seq = 0
        self.utilization_ppm = rng.randint(350_000, 750_000)
        self.oi_long_usd = rng.randint(60_000_000, 250_000_000)
        self.oi_short_usd = self.oi_long_usd * rng.randint(20, 60) // 100
        self.last_stats_ns = 0
        self.topic_book = f"book.{venue}.{self.symbol}"
        self.topic_oracle = f"oracle.{venue}.{self.symbol}"
        self.topic_trade = f"trade.{venue}.{self.symbol}"

    def borrow_rate(self) -> int:
        return MAX_HOURLY_BORROW * self.utilization_ppm // 1_000_000

    def impact_price(self, side: str, usd: int) -> int:
        """Marginal fill price for a trade of ``usd`` notional: fee plus linear impact."""
        bps_e6 = OPEN_FEE_BPS * 1_000_000 + usd * 10_000 * 1_000_000 // IMPACT_SCALAR_USD
        move = self.oracle * bps_e6 // 10_000_000_000
        return self.oracle + move if side == "buy" else self.oracle - move

    def base_for_usd(self, usd: int) -> int:
        return usd * 1_000_000 * 1_000_000_000 // self.oracle // POOL_LOT * POOL_LOT

    def ladder(self) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
        """The bid and ask ladders: each bucket's marginal price (``impact_price``)
        and size (``base_for_usd``), with the per-bucket factors worked out once
        and each size shared by both sides (a pool republishes this ladder on
        every oracle update)."""
        oracle = self.oracle
        bids, asks = [], []
        for bps, q in _LADDER:
            move, size = oracle * bps // 10_000_000_000, q // oracle // POOL_LOT * POOL_LOT
            bids.append((oracle - move, size))
            asks.append((oracle + move, size))
        return bids, asks


# Per bucket: its impact in bps at 1e6 and its own size in USD at 1e6 x 1e9.
_LADDER = tuple(
    (OPEN_FEE_BPS * 1_000_000 + usd * 10_000 * 1_000_000 // IMPACT_SCALAR_USD, (usd - prev) * 1_000_000 * 1_000_000_000)
    for prev, usd in zip((0, *BUCKETS_USD), BUCKETS_USD)
)


class SimPoolVenue(SimVenue):
    id = "sim-jup"
    kind = "pool"

    def __init__(self, *args: Any, assets: dict[str, AssetSpec] | None = None, **kwargs: Any) -> None:
        self._assets = assets or ASSETS
        super().__init__(*args, **kwargs)
        self.pools: dict[str, PoolMarket] = {}
        self._order: list[PoolMarket] = []

    def _build(self) -> list[Market]:
        now = self.clock()
        for spec in self._assets.values():
            p = PoolMarket(self.id, spec, self.rng, self.world.price(spec.base, now))
            self.pools[p.symbol] = p
        self._order = list(self.pools.values())
        return [p.market for p in self._order]

    def _publish_opening_state(self) -> None:
        now = self.clock()
        for p in self._order:
            self.bus.publish(f"oracle.{self.id}.{p.symbol}", OraclePrice(self.id, p.symbol, now, p.oracle))
            self._publish_snapshot(p.symbol)
            self._publish_stats(p, now)

    def _publish_snapshot(self, market: str) -> None:
        p = self.pools[market]
        p.seq += 1
        bids, asks = p.ladder()
        self.emit(p.topic_book, BookSnapshot(self.id, p.symbol, p.seq, self.clock(), bids, asks))

    def _publish_stats(self, p: PoolMarket, now: int) -> int:
        p.last_stats_ns = now
        v, s = self.id, p.symbol
        rate = p.borrow_rate()
        next_ts = now - now % HOUR_NS + HOUR_NS
        self.bus.publish(f"funding.{v}.{s}", Funding(v, s, now, rate, rate, 3600, next_ts, kind="borrow"))
        self.bus.publish(f"oi.{v}.{s}", OpenInterest(v, s, now, p.base_for_usd(p.oi_long_usd), p.base_for_usd(p.oi_short_usd)))
        self.bus.publish(f"mark.{v}.{s}", MarkPrice(v, s, now, p.oracle))
        return 3

    def step(self) -> int:
        rng = self.rng
        p = self._order[int(rng.random() * len(self._order))]
        now = self.clock()
        r = rng.random()
        if r < 0.55:  # Doves oracle update: the pool reprices
            p.oracle = self.world.price(p.spec.base, now) + rng.randint(-2, 2) * p.spec.tick_size
            self.emit(p.topic_oracle, OraclePrice(self.id, p.symbol, now, p.oracle))
            self._publish_snapshot(p.symbol)
            n = 2
        elif r < 0.85:  # a trader opens or closes against the pool
            usd = max(100, int(rng.expovariate(1 / 12_000)))
            side: Side = "buy" if rng.random() < 0.55 else "sell"
            opening = rng.random() < 0.55
            if (side == "buy") == opening:
                p.oi_long_usd = max(0, p.oi_long_usd + (usd if opening else -usd))
            else:
                p.oi_short_usd = max(0, p.oi_short_usd + (usd if opening else -usd))
            size = max(POOL_LOT, p.base_for_usd(usd))
            self.emit(p.topic_trade, Trade(self.id, p.symbol, now, p.impact_price(side, usd), size, side))
            n = 1
        else:  # liquidity providers come and go
            p.utilization_ppm = min(950_000, max(50_000, p.utilization_ppm + rng.randint(-4_000, 4_000)))
            n = 0
        if now - p.last_stats_ns >= STATS_EVERY_NS:
            n += self._publish_stats(p, now)
        return n
