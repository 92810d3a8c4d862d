"""``sim-drift``: a simulated central limit order book venue with Drift's economics.

Makers quote on a price grid around a fair price (oracle plus a wandering
premium) and re-quote as it moves; takers cross the spread, walking levels and
filling partially; the oracle follows the world's reference price. Funding is
hourly from the mark-oracle TWAP premium, as on Drift:
``rate = (mark_twap - oracle_twap) / oracle_twap / 24`` per hour.
"""

from __future__ import annotations

import random
from math import log
from collections.abc import Callable
from typing import Any

from quantdesk.core.model import (
    RATE_SCALE,
    BookDelta,
    BookSnapshot,
    Funding,
    Market,
    MarkPrice,
    OpenInterest,
    OraclePrice,
    Trade,
)
from quantdesk.venues.sim.matching import BUY, SELL, Match, MatchingEngine, Result
from quantdesk.venues.sim.venue import SimVenue
from quantdesk.venues.sim.world import ASSETS, AssetSpec

HOUR_NS = 3_600_000_000_000
STATS_EVERY_NS = 1_000_000_000
TWAP_WINDOW_NS = HOUR_NS
FUNDING_CAP = RATE_SCALE * 125 // 100_000  # 0.125% per hour
MAKER = "mm"
FLOW = "flow"
LEVELS_KEPT = 40  # levels a side beyond which makers pull their quotes
LEVEL_SPACING = 0.00005  # makers quote every 0.5 bps
MAKER_QUOTE_USD = 15_000
TAKER_ORDER_USD = 6_000


class ClobMarket:
    """State of one simulated order-book market."""

    def __init__(self, venue: str, spec: AssetSpec, rng: random.Random, now: int, price: int) -> None:
        symbol = f"{spec.base}-PERP"
        self.spec = spec
        self.market = Market(venue, symbol, spec.base, "USDC", "clob", spec.tick_size, spec.lot_size, index=spec.drift_index)
        self.symbol = symbol
        self.engine = MatchingEngine()
        self.seq = 0
        self.oracle = price
        self.premium_bps = rng.uniform(-3.0, 6.0)
        self.fair = self._fair()  # kept current by ``reprice``: most steps read it
        self.spacing = max(spec.tick_size, round(price * LEVEL_SPACING / spec.tick_size) * spec.tick_size)
        self.maker_lots = max(1.0, MAKER_QUOTE_USD * 1e6 / price * 1e9 / spec.lot_size)
        self.taker_lots = max(1.0, TAKER_ORDER_USD * 1e6 / price * 1e9 / spec.lot_size)
        self.oracle_twap = price
        self.mark_twap = self.fair
        self.last_twap_ns = now
        self.funding_rate = self.predicted_rate()
        self.next_funding_ns = now - now % HOUR_NS + HOUR_NS
        self.last_stats_ns = 0
        oi = int(40_000_000 * 1e6 / price * 1e9) // spec.lot_size * spec.lot_size
        self.oi_long = oi
        self.oi_short = oi
        self.ids = 0
        self.topic_book = f"book.{venue}.{symbol}"
        self.topic_trade = f"trade.{venue}.{symbol}"
        self.topic_oracle = f"oracle.{venue}.{symbol}"

    def _fair(self) -> int:
        return self.oracle + int(self.oracle * self.premium_bps / 10_000)

    def reprice(self, oracle: int, premium_bps: float) -> None:
        self.oracle, self.premium_bps = oracle, premium_bps
        self.fair = self._fair()

    def mark(self) -> int:
        bid, ask = self.engine.best_bid(), self.engine.best_ask()
        if bid is None or ask is None:
            return self.oracle
        return (bid + ask) // 2

    def predicted_rate(self) -> int:
        rate = (self.mark_twap - self.oracle_twap) * RATE_SCALE // self.oracle_twap // 24
        return max(-FUNDING_CAP, min(FUNDING_CAP, rate))

    def update_twaps(self, now: int) -> None:
        dt = min(max(now - self.last_twap_ns, 0), TWAP_WINDOW_NS)
        self.last_twap_ns = now
        self.oracle_twap += (self.oracle - self.oracle_twap) * dt // TWAP_WINDOW_NS
        self.mark_twap += (self.mark() - self.mark_twap) * dt // TWAP_WINDOW_NS

    def next_id(self, prefix: str) -> str:
        self.ids += 1
        return f"{prefix}{self.ids}"


class SimClobVenue(SimVenue):
    id = "sim-drift"
    kind = "clob"

    def __init__(self, *args: Any, assets: dict[str, AssetSpec] | None = None, **kwargs: Any) -> None:
        self._assets = assets or ASSETS
        super().__init__(*args, **kwargs)
        self.books: dict[str, ClobMarket] = {}
        self._order: list[ClobMarket] = []
        self.match_listeners: list[Callable[[ClobMarket, Match], None]] = []

    def _build(self) -> list[Market]:
        now = self.clock()
        for spec in self._assets.values():
            m = ClobMarket(self.id, spec, self.rng, now, self.world.price(spec.base, now))
            self.books[m.symbol] = m
            self._seed_book(m)
        self._order = list(self.books.values())
        return [m.market for m in self._order]

    def _seed_book(self, m: ClobMarket) -> None:
        for _ in range(LEVELS_KEPT * 3):
            self._maker_add(m, quiet=True)

    # -- publishing ----------------------------------------------------
    def _publish_opening_state(self) -> None:
        now = self.clock()
        for m in self._order:
            self.bus.publish(f"oracle.{self.id}.{m.symbol}", OraclePrice(self.id, m.symbol, now, m.oracle, m.oracle // 20_000))
            self._publish_snapshot(m.symbol)
            self._publish_stats(m, now)

    def _publish_snapshot(self, market: str) -> None:
        m = self.books[market]
        bids, asks = m.engine.levels()
        self.bus.publish(m.topic_book, BookSnapshot(self.id, m.symbol, m.seq, self.clock(), bids, asks))

    def apply_result(self, market: str, res: Result) -> int:
        """Publish what an engine call did (paper orders go through here too)."""
        return self._publish_result(self.books[market], res, self.clock())

    def _publish_result(self, m: ClobMarket, res: Result, now: int) -> int:
        emit, matches = self.emit, res.matches
        n = len(matches)
        for match in matches:
            emit(m.topic_trade, Trade(self.id, m.symbol, now, match.price, match.size, match.taker_side))
        bids, asks = res.bid_changes, res.ask_changes
        if bids or asks:
            m.seq += 1
            emit(m.topic_book, BookDelta(self.id, m.symbol, m.seq, now, list(bids.items()), list(asks.items())))
            n += 1
        # after the delta, so a listener's own book changes follow it in sequence
        if matches and self.match_listeners:
            for match in matches:
                for listener in self.match_listeners:
                    listener(m, match)
        return n

    def _publish_stats(self, m: ClobMarket, now: int) -> int:
        m.last_stats_ns = now
        if now >= m.next_funding_ns:  # settle the hour
            m.update_twaps(now)
            m.funding_rate = m.predicted_rate()
            m.next_funding_ns += HOUR_NS * ((now - m.next_funding_ns) // HOUR_NS + 1)
        bus, v, s = self.bus, self.id, m.symbol
        bus.publish(f"mark.{v}.{s}", MarkPrice(v, s, now, m.mark()))
        bus.publish(
            f"funding.{v}.{s}",
            Funding(v, s, now, m.funding_rate, m.predicted_rate(), 3600, m.next_funding_ns // 1_000_000_000 * 1_000_000_000),
        )
        bus.publish(f"oi.{v}.{s}", OpenInterest(v, s, now, m.oi_long, m.oi_short))
        return 3

    # -- the simulation step ------------------------------------------------
    def step(self) -> int:
        rng = self.rng
        m = self._order[int(rng.random() * len(self._order))]
        now = self.clock()
        r = rng.random()
        if r < 0.08:
            n = self._oracle_tick(m, now)
        elif r < 0.55:
            n = self._publish_result(m, self._maker_add(m), now)
        elif r < 0.87:
            n = self._publish_result(m, self._maker_pull(m), now)
        else:
            n = self._publish_result(m, self._taker(m), now)
        if now - m.last_stats_ns >= STATS_EVERY_NS:
            n += self._publish_stats(m, now)
        return n

    def _oracle_tick(self, m: ClobMarket, now: int) -> int:
        rng = self.rng
        oracle = self.world.price(m.spec.base, now)
        # the premium mean-reverts toward a small positive basis, as perps usually trade
        m.reprice(oracle, m.premium_bps + (0.05 * (1.5 - m.premium_bps) + rng.gauss(0.0, 0.4)))
        m.update_twaps(now)
        conf = m.oracle // 20_000
        self.emit(m.topic_oracle, OraclePrice(self.id, m.symbol, now, m.oracle, conf))
        return 1

    def _maker_add(self, m: ClobMarket, quiet: bool = False) -> Result:
        rng = self.rng
        fair = m.fair
        # random.expovariate's own formula, without its call: the same draws, the same numbers
        k = 1 + min(int(-log(1.0 - rng.random()) / 0.12), LEVELS_KEPT)
        lots = max(1, int(-log(1.0 - rng.random()) / (1.0 / m.maker_lots)))
        size = lots * m.spec.lot_size
        if rng.random() < 0.5:
            side, price = BUY, (fair // m.spacing - k + 1) * m.spacing
        else:
            side, price = SELL, (fair // m.spacing + k) * m.spacing
        return m.engine.submit(m.next_id("q"), MAKER, side, size, price, post_only=True)

    def _maker_pull(self, m: ClobMarket) -> Result:
        rng = self.rng
        eng = m.engine
        fair = m.fair
        bid, ask = eng.best_bid(), eng.best_ask()
        # quotes the fair price has run through are pulled first
        if bid is not None and bid > fair:
            return eng.pull(MAKER, BUY, bid, eng.bids.totals[bid])
        if ask is not None and ask < fair:
            return eng.pull(MAKER, SELL, ask, eng.asks.totals[ask])
        side = BUY if rng.random() < 0.5 else SELL
        book = eng.bids if side == BUY else eng.asks
        prices = book.prices
        if not prices:
            return Result()
        if len(prices) > LEVELS_KEPT:  # the far end of the ladder
            price = prices[0] if side == BUY else prices[-1]
            return eng.pull(MAKER, side, price, book.totals[price])
        price = prices[int(rng.random() * len(prices))]
        total = book.totals[price]
        qty = total if rng.random() < 0.3 else max(m.spec.lot_size, total // 2 // m.spec.lot_size * m.spec.lot_size)
        return eng.pull(MAKER, side, price, qty)

    def _taker(self, m: ClobMarket) -> Result:
        rng = self.rng
        eng = m.engine
        fair = m.fair
        bid, ask = eng.best_bid(), eng.best_ask()
        if ask is not None and ask < fair:
            side = BUY if rng.random() < 0.8 else SELL
        elif bid is not None and bid > fair:
            side = SELL if rng.random() < 0.8 else BUY
        else:
            side = BUY if rng.random() < 0.5 else SELL
        lots = max(1, int(-log(1.0 - rng.random()) / (1.0 / m.taker_lots)))
        size = lots * m.spec.lot_size
        touch = ask if side == BUY else bid
        if touch is None:
            return Result()
        limit = touch + 8 * m.spacing if side == BUY else touch - 8 * m.spacing
        res = eng.submit(m.next_id("t"), FLOW, side, size, limit, ioc=True)
        filled = res.filled
        if filled:
            if rng.random() < 0.52:  # a new position opens both a long and a short
                m.oi_long += filled
                m.oi_short += filled
            else:
                m.oi_long = max(0, m.oi_long - filled)
                m.oi_short = max(0, m.oi_short - filled)
        return res
